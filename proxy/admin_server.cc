// Implementation of AdminServer.
#include "proxy/admin_server.h"

#include <chrono>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/admin_api_json.h"
#include "proxy/admin_api_n_plus_one.h"
#include "proxy/logging.h"
#include "proxy/metrics_exposition.h"

#ifndef QUERYLENS_VERSION
#define QUERYLENS_VERSION "0.0.0"
#endif

namespace ql::proxy {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;

constexpr auto kRequestTimeout = std::chrono::seconds(10);
// A worker that has not handed over its state by then is left out.
constexpr auto kCollectTimeout = std::chrono::milliseconds(2000);
// Backend probes: each login may take this long, and a backend is probed at
// most once per kProbeMaxAge whatever the request rate.
constexpr auto kProbeTimeout = std::chrono::milliseconds(1000);
constexpr auto kProbeMaxAge = std::chrono::milliseconds(2000);

constexpr const char* kJson = "application/json";
constexpr const char* kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

AdminServer::Reply Text(unsigned status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

AdminServer::Reply JsonError(unsigned status, std::string_view message) {
  return {status, kJson, ErrorJson(message)};
}

// Debian's absl::string_view is not std::string_view.
AdminServer::Reply BadRequest(const absl::Status& status) {
  const auto m = status.message();
  return JsonError(400, std::string_view(m.data(), m.size()));
}

}  // namespace

AdminServer::AdminServer(const SharedState& shared, std::vector<WorkerHandle> workers,
                         std::function<HealthSnapshotPtr()> health)
    : shared_(shared),
      collector_(std::move(workers), kCollectTimeout),
      prober_(shared, std::min<std::chrono::milliseconds>(
                          kProbeTimeout, std::chrono::milliseconds(int64_t(
                                             shared.config.connect_timeout_s * 1000))),
              kProbeMaxAge),
      health_(std::move(health)) {}

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

awaitable<AdminServer::Reply> AdminServer::Route(std::string_view path, std::string_view query) {
  if (path == "/healthz") co_return Text(200, "ok\n");
  if (path == "/readyz") {
    if (draining_.load(std::memory_order_relaxed)) {
      co_return Text(503, "not ready: shutting down (draining client sessions)\n");
    }
    BackendStatus primary = co_await prober_.Primary();
    if (primary.up) {
      co_return Text(200, absl::StrCat("ready: primary ", primary.name, " is up\n"));
    }
    co_return Text(503, absl::StrCat("not ready: primary ", primary.name, " unreachable\n"));
  }
  if (path == "/metrics") {
    const auto started = std::chrono::steady_clock::now();
    ExpositionInput in;
    in.backends = co_await prober_.All();
    in.health = health_ ? health_() : nullptr;
    // Blocks this thread (only this thread) until the workers answered.
    const ProxySnapshot snapshot = collector_.Collect(kCollectMetrics | kCollectDigests);
    in.snapshot = &snapshot;
    in.version = QUERYLENS_VERSION;
    in.top_digests = size_t(std::max(0, shared_.config.metrics_top_digests));
    in.digest_ledger = &digest_ledger_;
    if (shared_.slow_log) {
      in.slow_log_written = shared_.slow_log->written();
      in.slow_log_dropped = shared_.slow_log->dropped();
    }
    in.worker_timeouts = collector_.worker_timeouts();
    in.extra = metrics_.Collect();
    Reply reply{200, kPrometheusText, RenderMetrics(in)};
    metrics_.ScrapeTook(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    co_return reply;
  }
  if (path == "/api/digests") {
    auto request = ParseDigestsRequest(query);
    if (!request.ok()) co_return BadRequest(request.status());
    const ProxySnapshot snapshot = collector_.Collect(kCollectDigests);
    co_return Reply{200, kJson, DigestsJson(snapshot, *request)};
  }
  if (path == "/api/backends") {
    if (!query.empty()) co_return JsonError(400, "/api/backends takes no parameters");
    std::vector<BackendStatus> backends = co_await prober_.All();
    const ProxySnapshot snapshot = collector_.Collect(kCollectMetrics);
    const HealthSnapshotPtr health = health_ ? health_() : nullptr;
    co_return Reply{200, kJson, BackendsHealthJson(snapshot, backends, health)};
  }
  if (path == "/api/sessions") {
    auto request = ParseSessionsRequest(query);
    if (!request.ok()) co_return BadRequest(request.status());
    const ProxySnapshot snapshot = collector_.Collect(kCollectSessions);
    co_return Reply{200, kJson, SessionsJson(snapshot, *request)};
  }
  if (path == "/api/n_plus_one") {
    auto request = ParseNPlusOneRequest(query);
    if (!request.ok()) co_return BadRequest(request.status());
    const ProxySnapshot snapshot = collector_.Collect(kCollectNPlusOne);
    co_return Reply{200, kJson, NPlusOneJson(snapshot, *request)};
  }
  if (path.starts_with("/api/")) co_return JsonError(404, "no such API");
  co_return Text(404, "not found\n");
}

awaitable<void> AdminServer::Serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  stream.expires_after(kRequestTimeout);
  auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
  if (ec) co_return;
  const std::string_view target(req.target().data(), req.target().size());
  const size_t question = target.find('?');
  const std::string path(target.substr(0, question));
  const std::string query(question == std::string_view::npos ? std::string_view()
                                                             : target.substr(question + 1));
  Reply reply;
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    reply = Text(405, "GET only\n");
  } else {
    reply = co_await Route(path, query);
  }
  metrics_.RequestServed(path, reply.status);
  http::response<http::string_body> res{http::status(reply.status), req.version()};
  res.set(http::field::server, "querylens");
  res.set(http::field::content_type, reply.content_type);
  if (reply.status == 405) res.set(http::field::allow, "GET, HEAD");
  res.body() = std::move(reply.body);
  res.prepare_payload();
  if (req.method() == http::verb::head) {
    // Same headers, no body.
    const size_t length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  res.keep_alive(false);
  stream.expires_after(kRequestTimeout);
  co_await http::async_write(stream, res, use_tuple);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace ql::proxy
