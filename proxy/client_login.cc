// ClientSession's connection phase: greeting, optional TLS upgrade,
// authentication (mysql_native_password or caching_sha2_password), the first
// backend connection, and COM_CHANGE_USER, which repeats all of it.
#include <openssl/rand.h>

#include "absl/strings/str_cat.h"
#include "protocol/constants.h"
#include "protocol/generic_packets.h"
#include "protocol/handshake.h"
#include "protocol/server_auth.h"
#include "proxy/client_session.h"
#include "proxy/backend_exchange.h"
#include "proxy/logging.h"

namespace ql::proxy {
namespace {

namespace cap = protocol::cap;
using protocol::ByteSpan;
using protocol::Sv;

std::string MakeNonce() {
  // Printable bytes without NUL or '$', as servers send them.
  unsigned char raw[protocol::kNonceSize];
  RAND_bytes(raw, sizeof raw);
  std::string nonce(protocol::kNonceSize, 'a');
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = char(0x21 + raw[i] % 0x5d);
  for (char& c : nonce) if (c == '$') c = '%';
  return nonce;
}

constexpr size_t kMaxLoginPacket = 64 * 1024;

constexpr std::string_view kResetToServerCharset =
    "SET character_set_client=@@character_set_server, "
    "character_set_connection=@@character_set_server, "
    "character_set_results=@@character_set_server, collation_connection=@@collation_server";

std::chrono::milliseconds Seconds(double s) {
  return std::chrono::milliseconds(int64_t(s * 1000));
}

}  // namespace

const UserEntry* ClientSession::FindUser(std::string_view name) const {
  for (const UserEntry& u : worker_.shared.config.users) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

protocol::HandshakeV10 ClientSession::MakeGreeting() const {
  protocol::HandshakeV10 hs;
  hs.server_version = worker_.profile.version;
  hs.connection_id = connection_id_;
  hs.auth_plugin_data = nonce_;
  hs.capabilities = (worker_.profile.capabilities & cap::kProxySupported) | cap::kLongPassword |
                    cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth |
                    cap::kPluginAuthLenencClientData;
  if (!(worker_.profile.capabilities & cap::kLongPassword)) {
    // Present ourselves as the MariaDB we front, with the extended flags we relay.
    hs.capabilities &= ~cap::kLongPassword;
    hs.mariadb_capabilities =
        worker_.profile.mariadb_capabilities & protocol::mariadb_cap::kProxySupported;
  }
  if (worker_.shared.frontend_tls) hs.capabilities |= cap::kSsl;
  hs.character_set = worker_.profile.character_set;
  hs.status_flags = protocol::status::kAutocommit;
  hs.auth_plugin_name = worker_.shared.config.frontend_auth;
  return hs;
}

awaitable<bool> ClientSession::Login() {
  const Config& config = worker_.shared.config;
  WorkerMetrics& metrics = worker_.recorder.metrics();
  const auto failed = [&metrics](LoginFailure why) {
    metrics.LoginFailed(why);
    return false;
  };
  client_->SetTimeout(Seconds(config.handshake_timeout_s));
  nonce_ = MakeNonce();
  protocol::HandshakeV10 greeting = MakeGreeting();
  protocol::Bytes out;
  protocol::EncodeHandshakeV10(out, greeting);
  if (co_await SendPacket(out, 0)) co_return failed(LoginFailure::kHandshake);

  reader_.set_max_packet_size(kMaxLoginPacket);
  if (co_await client_->ReadPacketExact(reader_)) {
    if (!reader_.error().ok()) {
      LogWarn(absl::StrCat("client ", peer_, ": not a MySQL handshake: ", reader_.error().message()));
    }
    co_return failed(LoginFailure::kHandshake);
  }
  uint8_t seq = reader_.next_sequence_id();
  if (protocol::IsSslRequest(reader_.packet())) {
    if (!worker_.shared.frontend_tls) co_return failed(LoginFailure::kHandshake);
    if (error_code ec = co_await client_->StartTlsServer(*worker_.shared.frontend_tls); ec) {
      LogInfo(absl::StrCat("client ", peer_, ": TLS handshake failed: ", ec.message()));
      co_return failed(LoginFailure::kHandshake);
    }
    if (co_await client_->ReadPacket(reader_)) co_return failed(LoginFailure::kHandshake);
    seq = reader_.next_sequence_id();
  }
  auto response = protocol::DecodeHandshakeResponse41(reader_.packet());
  if (!response.ok()) {
    LogWarn(absl::StrCat("client ", peer_, ": bad handshake: ", response.status().message()));
    QueueError({errc::kHandshakeError, "08S01", "Bad handshake"}, seq);
    co_await FlushQueued();
    co_return failed(LoginFailure::kHandshake);
  }
  if (config.require_tls && !client_->tls_active()) {
    QueueError(SecureTransportRequired(), seq);
    co_await FlushQueued();
    co_return failed(LoginFailure::kAccessDenied);
  }
  client_caps_ = response->capabilities & greeting.capabilities;
  client_mariadb_caps_ = response->mariadb_capabilities & greeting.mariadb_capabilities;
  charset_ = response->character_set;
  if (!co_await Authenticate(response->username, response->auth_plugin_name,
                             response->auth_response, seq)) {
    co_return false;  // counted by Authenticate
  }
  state_.Reset((client_caps_ & cap::kConnectWithDb) ? response->database : std::string(),
               charset_);
  schema_ = state_.schema();
  // The primary connection is taken now, so that an unknown database or a
  // backend that refuses the login reaches the client as the server said it.
  const SlotOutcome ready = co_await ReadyLoginSlot(seq);
  if (ready != SlotOutcome::kReady) {
    co_await FlushQueued();
    co_return failed(LoginFailure::kBackend);
  }
  if (co_await SendOk(seq)) co_return failed(LoginFailure::kHandshake);
  reader_.set_max_packet_size(kMaxCommandSize);
  LogDebug(absl::StrCat("client ", Describe(), " logged in"));
  co_return true;
}

awaitable<bool> ClientSession::Authenticate(std::string_view user, std::string_view plugin,
                                            std::string_view auth_response, uint8_t& seq) {
  const UserEntry* entry = FindUser(user);
  std::optional<std::string> password;
  if (entry) password = entry->password;
  std::string cache_key = entry ? entry->name + std::string(1, '\0') + entry->password
                                : std::string();
  protocol::ServerAuthenticator auth({nonce_, worker_.shared.config.frontend_auth,
                                      client_->tls_active(),
                                      entry && worker_.sha2_fast_path.contains(cache_key),
                                      worker_.shared.rsa});
  auto step = auth.Start(plugin, auth_response, password);
  bool used_password = !auth_response.empty();
  WorkerMetrics& metrics = worker_.recorder.metrics();
  while (step == protocol::ServerAuthenticator::Step::kSendAndWait) {
    if (co_await SendPacket(auth.to_send(), seq) || co_await client_->ReadPacket(reader_)) {
      metrics.LoginFailed(LoginFailure::kHandshake);
      co_return false;
    }
    seq = reader_.next_sequence_id();
    used_password = used_password || !reader_.packet().empty();
    step = auth.OnClientPacket(reader_.packet());
  }
  if (step == protocol::ServerAuthenticator::Step::kFailed) {
    LogInfo(absl::StrCat("client ", peer_, ": access denied for user '", protocol::Sv(user), "'"));
    QueueError(AccessDenied(user, peer_, used_password), seq);
    co_await FlushQueued();
    metrics.LoginFailed(LoginFailure::kAccessDenied);
    co_return false;
  }
  if (auth.completed_full_auth()) worker_.sha2_fast_path.insert(cache_key);
  if (!auth.to_send().empty()) {  // caching_sha2 "fast auth success" precedes OK
    if (co_await SendPacket(auth.to_send(), seq)) co_return false;
    ++seq;
  }
  user_ = entry;
  co_return true;
}

awaitable<bool> ClientSession::ChangeUser(ByteSpan packet) {
  client_->SetTimeout(Seconds(worker_.shared.config.handshake_timeout_s));
  auto request = protocol::DecodeChangeUser(packet, client_caps_);
  uint8_t seq = reader_.next_sequence_id();
  if (!request.ok()) {
    QueueError(MalformedPacket("COM_CHANGE_USER"), seq);
    co_await FlushQueued();
    co_return false;
  }
  const UserEntry* previous_user = user_;
  if (!co_await Authenticate(request->username, request->auth_plugin_name,
                             request->auth_response, seq)) {
    // Like MariaDB: the ERR is sent and the session goes on as the old user,
    // with the server's default character set (MariaDB resets it).
    user_ = previous_user;
    HeldBackend& primary = held_[kPrimarySlot];
    if (primary.conn) {
      ExchangeResult r = co_await ExchangeQuery(*primary.conn, kResetToServerCharset,
                                                timeouts_.backend_read);
      if (!r.ok()) primary.conn->MarkBroken();
    }
    state_.RecordSet(kResetToServerCharset);
    state_.MarkSynced(&primary.applied, state_.autocommit());
    co_return true;
  }
  // The backend sessions belong to the old user: start over (and so does
  // the N+1 detector's unit of work).
  const std::string previous_schema = schema_;
  const uint8_t previous_charset = charset_;
  ResetNPlusOne();
  ReleaseAll();
  prepared_.Clear();
  pins_.Clear();
  wrote_ = false;
  pending_write_ = false;
  last_gtid_.clear();
  dialect_.ansi_quotes = false;  // a new session: the server's default sql_mode
  if (request->character_set) charset_ = uint8_t(*request->character_set);
  state_.Reset(request->database, charset_);
  schema_ = state_.schema();
  const SlotOutcome ready = co_await ReadySlot(kPrimarySlot, seq);
  if (ready != SlotOutcome::kReady) {
    worker_.recorder.metrics().LoginFailed(LoginFailure::kBackend);
    if (ready == SlotOutcome::kErrorQueued) {
      // The server refused the new user's login or database (1044, 1049).
      // As there, the session stays reset, but as the previous user in the
      // previous default database: otherwise every later command would
      // retry the refused login and get the same error.
      // The character set is the server's default, as after a refused
      // password.
      ReleaseAll();
      user_ = previous_user;
      charset_ = previous_charset;
      state_.Reset(previous_schema, charset_);
      state_.RecordSet(kResetToServerCharset);
      schema_ = state_.schema();
    }
    co_await FlushQueued();
    co_return ready == SlotOutcome::kErrorQueued;
  }
  co_return !co_await SendOk(seq);
}

}  // namespace ql::proxy
