// Implementation of BackendConnection: connect, TLS and authentication.
#include "proxy/backend_connection.h"

#include "absl/strings/str_cat.h"
#include "protocol/client_auth.h"
#include "protocol/constants.h"
#include "protocol/generic_packets.h"

namespace ql::proxy {
namespace {

namespace cap = protocol::cap;

// Flags the proxy always asks for toward a backend, whatever the client.
constexpr uint32_t kBaseBackendCaps = cap::kLongPassword | cap::kLongFlag | cap::kProtocol41 |
                                      cap::kTransactions | cap::kSecureConnection |
                                      cap::kPluginAuth | cap::kPluginAuthLenencClientData;

constexpr size_t kMaxAuthPacket = 1 << 20;

// COM_QUIT, framed: length 1, sequence 0.
constexpr uint8_t kComQuitFrame[] = {0x01, 0x00, 0x00, 0x00, 0x01};
constexpr protocol::ByteSpan kComQuit(kComQuitFrame, sizeof kComQuitFrame);

std::string Reason(const error_code& ec) {
  if (ec == asio::error::timed_out || ec == asio::error::operation_aborted) return "timed out";
  return ec.message();
}

awaitable<std::pair<std::shared_ptr<Transport>, error_code>> Dial(const BackendAddress& address,
                                                                  std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  const std::string port = std::to_string(address.port);  // no temporaries in co_await (g++ 12)
  auto [rec, endpoints] = co_await resolver.async_resolve(address.host, port, use_tuple);
  if (rec) co_return std::pair{nullptr, rec};
  auto transport = std::make_shared<Transport>(tcp::socket(executor));
  transport->SetTimeout(timeout);
  auto [ec, ep] = co_await asio::async_connect(transport->socket(), endpoints, use_tuple);
  if (ec) {
    if (transport->timed_out()) ec = TimedOutError();
    transport->Close();
    co_return std::pair{nullptr, ec};
  }
  transport->socket().set_option(tcp::no_delay(true));
  co_return std::pair{transport, error_code()};
}

}  // namespace

BackendConnection::~BackendConnection() {
  if (!transport_) return;
  // Say goodbye so the server does not count an aborted connection; a
  // connection in the middle of a response cannot take a command, and a TLS
  // one would need a TLS record, so those are simply closed.
  if (!broken_ && !transport_->tls_active()) transport_->SendNowIfPossible(kComQuit);
  transport_->Close();
}

awaitable<std::optional<protocol::HandshakeV10>> BackendConnection::ProbeGreeting(
    const BackendAddress& address, std::chrono::milliseconds timeout) {
  auto [transport, ec] = co_await Dial(address, timeout);
  if (ec) co_return std::nullopt;
  protocol::PacketReader reader(kMaxAuthPacket);
  ec = co_await transport->ReadPacket(reader);
  transport->Close();
  if (ec) co_return std::nullopt;
  auto hs = protocol::DecodeHandshakeV10(reader.packet());
  if (!hs.ok()) co_return std::nullopt;
  co_return *hs;
}

awaitable<BackendConnection::Outcome> BackendConnection::Connect(
    const BackendAddress& address, const BackendLogin& login, const BackendTls& tls,
    std::chrono::milliseconds timeout) {
  Outcome out;
  auto fail = [&](std::string_view reason) {
    out.connection.reset();
    out.error = BackendUnreachable(address.Name(), reason);
    return std::move(out);
  };
  auto [transport, ec] = co_await Dial(address, timeout);
  if (ec) co_return fail(Reason(ec));
  std::unique_ptr<BackendConnection> conn(new BackendConnection(transport, address));
  out.connection = std::move(conn);
  BackendConnection& c = *out.connection;

  protocol::PacketReader reader(kMaxAuthPacket);
  if ((ec = co_await transport->ReadPacket(reader))) co_return fail(Reason(ec));
  if (!reader.packet().empty() && reader.packet()[0] == protocol::kErrHeader) {
    // Too many connections, host blocked...: the server's words are the best.
    auto err = protocol::DecodeErr(reader.packet());
    if (err.ok()) {
      out.error = {err->error_code, std::string(err->sql_state.empty() ? "HY000" : err->sql_state),
                   std::string(err->message)};
      out.server_err_payload.assign(reader.packet().begin(), reader.packet().end());
      out.connection.reset();
      co_return out;
    }
  }
  auto greeting = protocol::DecodeHandshakeV10(reader.packet());
  if (!greeting.ok()) co_return fail("invalid server greeting");
  c.greeting_ = *greeting;
  uint8_t seq = reader.next_sequence_id();

  uint32_t caps = ((login.client_capabilities & cap::kResponseShaping) | kBaseBackendCaps);
  if (!login.database.empty()) caps |= cap::kConnectWithDb;
  caps &= c.greeting_.capabilities | cap::kLongPassword;
  uint32_t mariadb_caps = 0;
  if (!(c.greeting_.capabilities & cap::kLongPassword) && login.client_mariadb_capabilities) {
    // A MariaDB server, and a client that negotiated extended flags with us.
    caps &= ~cap::kLongPassword;
    mariadb_caps = login.client_mariadb_capabilities & c.greeting_.mariadb_capabilities &
                   protocol::mariadb_cap::kProxySupported;
  }

  if (tls.context != nullptr) {
    if (!(c.greeting_.capabilities & cap::kSsl)) co_return fail("backend does not offer TLS");
    protocol::Bytes ssl_request;
    protocol::EncodeSslRequest(ssl_request, caps, 1u << 30, login.character_set);
    if ((ec = co_await transport->WritePacket(ssl_request, seq))) co_return fail(Reason(ec));
    if ((ec = co_await transport->StartTlsClient(*tls.context, address.host, tls.verify))) {
      co_return fail(absl::StrCat("TLS handshake failed: ", ec.message()));
    }
    caps |= cap::kSsl;
  }

  protocol::ClientAuthenticator auth({login.username, login.password, login.database},
                                     transport->tls_active());
  protocol::Bytes response;
  auth.BuildResponse(c.greeting_, caps, mariadb_caps, login.character_set, response);
  if ((ec = co_await transport->WritePacket(response, seq))) co_return fail(Reason(ec));
  while (true) {
    if ((ec = co_await transport->ReadPacket(reader))) co_return fail(Reason(ec));
    seq = reader.next_sequence_id();
    auto step = auth.OnServerPacket(reader.packet());
    if (step == protocol::ClientAuthenticator::Step::kSucceeded) break;
    if (step == protocol::ClientAuthenticator::Step::kFailed) {
      if (!auth.server_error().empty()) {
        auto err = protocol::DecodeErr(auth.server_error());
        if (err.ok()) {
          out.error = {err->error_code,
                       std::string(err->sql_state.empty() ? "HY000" : err->sql_state),
                       std::string(err->message)};
        }
        out.server_err_payload = auth.server_error();
        out.connection.reset();
        co_return out;
      }
      co_return fail(std::string(auth.error().message()));
    }
    if (step == protocol::ClientAuthenticator::Step::kSendAndWait) {
      if ((ec = co_await transport->WritePacket(auth.to_send(), seq))) co_return fail(Reason(ec));
    }
  }
  c.capabilities_ = caps;
  c.mariadb_capabilities_ = mariadb_caps;
  co_return out;
}

}  // namespace ql::proxy
