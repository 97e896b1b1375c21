// Implementation of AdminServer.
#include "proxy/admin_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/logging.h"

namespace ql::proxy {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;

constexpr auto kRequestTimeout = std::chrono::seconds(10);

http::response<http::string_body> MakeResponse(http::status status, std::string body,
                                               unsigned version) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "querylens");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  res.prepare_payload();
  res.keep_alive(false);
  return res;
}

}  // namespace

AdminServer::AdminServer(const SharedState& shared) : shared_(shared) {}

AdminServer::~AdminServer() { Stop(); }

absl::Status AdminServer::Start() {
  const HostPort& listen = shared_.config.admin_listen;
  error_code ec;
  auto address = asio::ip::make_address(listen.host, ec);
  if (ec) {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(listen.host, std::to_string(listen.port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("cannot resolve admin address ", listen.host));
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, listen.port);
  acceptor_ = std::make_unique<tcp::acceptor>(io_);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on admin address ", listen.ToString(), ": ", ec.message()));
  }
  asio::co_spawn(io_, Accept(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  LogInfo(absl::StrCat("admin API on http://", listen.ToString(), "/"));
  return absl::OkStatus();
}

void AdminServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    io_.stop();
  });
  thread_.join();
}

awaitable<void> AdminServer::Accept() {
  while (true) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> AdminServer::Serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  stream.expires_after(kRequestTimeout);
  auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
  if (ec) co_return;
  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  http::response<http::string_body> res;
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res = MakeResponse(http::status::method_not_allowed, "GET only\n", req.version());
  } else if (target == "/healthz") {
    res = MakeResponse(http::status::ok, "ok\n", req.version());
  } else if (target == "/readyz") {
    auto greeting = co_await BackendConnection::ProbeGreeting(shared_.primary,
                                                              std::chrono::seconds(2));
    if (greeting) {
      res = MakeResponse(http::status::ok, absl::StrCat("ready: primary ", shared_.primary.Name(),
                                                        " is up\n"), req.version());
    } else {
      res = MakeResponse(http::status::service_unavailable,
                         absl::StrCat("not ready: primary ", shared_.primary.Name(),
                                      " unreachable\n"), req.version());
    }
  } else {
    res = MakeResponse(http::status::not_found, "not found\n", req.version());
  }
  stream.expires_after(kRequestTimeout);
  co_await http::async_write(stream, res, use_tuple);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace ql::proxy
