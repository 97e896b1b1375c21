// ClientSession's command phase: read a command, make sure a backend
// connection is there, forward the command and relay the response; decide
// what a failure means for the client (an ERR and carry on, or disconnect).
#include "proxy/client_session.h"

#include "absl/strings/str_cat.h"
#include "protocol/constants.h"
#include "protocol/generic_packets.h"
#include "proxy/logging.h"

namespace ql::proxy {
namespace {

namespace cap = protocol::cap;
using protocol::ByteSpan;
using protocol::Command;

std::chrono::milliseconds Seconds(double s) {
  return std::chrono::milliseconds(int64_t(s * 1000));
}

std::string Reason(const error_code& ec) {
  if (ec == asio::error::timed_out) return "timed out";
  if (ec == asio::error::eof) return "connection closed by server";
  return ec.message();
}

}  // namespace

ClientSession::ClientSession(WorkerContext& worker, tcp::socket socket)
    : worker_(worker),
      client_(std::make_shared<Transport>(std::move(socket))),
      reader_(kMaxCommandSize) {
  const Config& c = worker.shared.config;
  timeouts_ = {Seconds(c.backend_read_timeout_s), Seconds(c.backend_read_timeout_s),
               Seconds(c.client_idle_timeout_s)};
  connection_id_ = worker.NextConnectionId();
  peer_ = client_->remote_address();
  worker_.sessions.Register(connection_id_, {&peer_, &user_, &schema_, &current_, &backend_});
  error_code ignored;
  client_->socket().set_option(tcp::no_delay(true), ignored);
}

ClientSession::~ClientSession() {
  worker_.sessions.Unregister(connection_id_);
  DropBackend();
  client_->Close();
}

std::string ClientSession::Describe() const {
  return absl::StrCat("#", connection_id_, " ", user_ ? user_->name : std::string("?"), "@",
                      peer_);
}

awaitable<void> ClientSession::Run() {
  bool alive = co_await Login();
  while (alive) alive = co_await ServeCommand();
  LogDebug(absl::StrCat("client ", Describe(), " disconnected"));
}

awaitable<error_code> ClientSession::SendPacket(ByteSpan payload, uint8_t seq) {
  // No deadline of its own: login and change of user run under one deadline.
  co_return co_await client_->WritePacket(payload, seq);
}

void ClientSession::QueueError(const MysqlError& error, uint8_t seq) {
  queued_.clear();
  protocol::AppendFrames(queued_, EncodeError(error), seq);
}

awaitable<error_code> ClientSession::FlushQueued() {
  client_->SetTimeout(timeouts_.client_write);
  co_return co_await client_->Write(queued_);
}

awaitable<error_code> ClientSession::SendOk(uint8_t seq) {
  protocol::Bytes payload;
  protocol::OkPacket ok;
  ok.status_flags = protocol::status::kAutocommit;
  protocol::EncodeOk(payload, ok, client_caps_);
  co_return co_await SendPacket(payload, seq);
}

void ClientSession::DropBackend() {
  backend_.reset();
  prepared_.clear();  // statement ids belonged to that backend session
  last_status_ = protocol::status::kAutocommit;
}

bool ClientSession::SessionSurvivesReconnect() const {
  // A fresh backend session has no transaction and no prepared statements:
  // a client that had some must learn they are gone, not carry on.
  if (open_statements_ > 0) return false;
  if (last_status_ & protocol::status::kInTrans) return false;
  return true;
}

awaitable<bool> ClientSession::RunOnBackend(std::string_view sql) {
  protocol::Bytes command;
  protocol::EncodeStringCommand(command, Command::kQuery, sql);
  Transport& backend = backend_->transport();
  backend.SetTimeout(timeouts_.backend_read);
  uint8_t seq = 0;
  if (co_await backend.WritePacket(command, seq)) co_return false;
  tracker_.Start(protocol::ResponseKind::kResultSet, backend_->capabilities());
  protocol::PacketReader reader(1u << 24);
  while (!tracker_.done()) {
    if (co_await backend.ReadPacket(reader)) co_return false;
    auto event = tracker_.OnFrame(uint32_t(reader.packet().size()), reader.packet());
    if (!event.ok() || *event == protocol::ResponseTracker::Event::kLocalInfileRequest) {
      co_return false;
    }
  }
  co_return tracker_.summary().error_code == 0;
}

awaitable<bool> ClientSession::ConnectBackend(uint8_t error_seq) {
  const SharedState& shared = worker_.shared;
  BackendLogin login;
  login.username = user_->backend_name.empty() ? user_->name : user_->backend_name;
  login.password = user_->backend_name.empty() ? user_->password : user_->backend_password;
  login.database = schema_;
  login.client_capabilities = client_caps_;
  login.client_mariadb_capabilities = client_mariadb_caps_;
  login.character_set = charset_;
  BackendTls tls{shared.backend_tls.get(), !shared.config.backend_tls_ca.empty()};
  auto outcome = co_await BackendConnection::Connect(shared.primary, login, tls,
                                                     Seconds(shared.config.connect_timeout_s));
  if (!outcome.connection) {
    worker_.recorder.metrics().BackendConnectFailed(shared.primary.Name());
    LogWarn(absl::StrCat("client ", Describe(), ": backend ", shared.primary.Name(), ": ",
                         outcome.error.message));
    QueueError(outcome.error, error_seq);
    co_await FlushQueued();
    co_return false;
  }
  backend_ = std::move(outcome.connection);
  backend_idle_since_ = Clock::now();
  last_status_ = protocol::status::kAutocommit;
  if (!autocommit_ && !co_await RunOnBackend("SET autocommit=0")) {
    // Without it the client's statements would commit one by one.
    std::string name = backend_->address().Name();
    DropBackend();
    QueueError(BackendLost(name, "could not restore autocommit=0"), error_seq);
    co_await FlushQueued();
    co_return false;
  }
  if (!autocommit_) last_status_ = 0;
  // Keep what clients are told about "the server" current.
  worker_.profile.version = backend_->greeting().server_version;
  worker_.profile.capabilities = backend_->greeting().capabilities;
  worker_.profile.mariadb_capabilities = backend_->greeting().mariadb_capabilities;
  worker_.profile.character_set = backend_->greeting().character_set;
  co_return true;
}

awaitable<bool> ClientSession::ServeCommand() {
  client_->SetTimeout(timeouts_.client_read);
  if (error_code ec = co_await client_->ReadPacket(reader_); ec) {
    if (ec == asio::error::invalid_argument) {
      LogWarn(absl::StrCat("client ", Describe(), ": ", reader_.error().message()));
      if (reader_.error().code() == absl::StatusCode::kResourceExhausted) {
        QueueError(PacketTooLarge(), reader_.next_sequence_id());
    co_await FlushQueued();
      } else {
        QueueError(PacketsOutOfOrder(), reader_.next_sequence_id());
    co_await FlushQueued();
      }
    }
    co_return false;
  }
  ByteSpan packet = reader_.packet();
  if (packet.empty()) {
    LogWarn(absl::StrCat("client ", Describe(), ": empty command packet"));
    QueueError(MalformedPacket("empty command"), 1);
    co_await FlushQueued();
    co_return false;
  }
  protocol::CommandInfo info = protocol::DescribeCommand(packet[0]);
  uint8_t reply_seq = reader_.next_sequence_id();
  if (!info.supported) {
    QueueError(UnknownCommand(), reply_seq);
    co_await FlushQueued();
    co_return true;
  }
  switch (info.command) {
    case Command::kQuit:
      co_return false;
    case Command::kChangeUser:
      co_return co_await ChangeUser(packet);
    default:
      co_return co_await Forward(packet, info);
  }
}

awaitable<bool> ClientSession::Forward(ByteSpan packet, const protocol::CommandInfo& info) {
  command_started_ = Clock::now();
  command_wall_start_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  connect_ns_ = 0;
  const bool is_statement = IdentifyStatement(info, packet);
  SessionRegistry::Activity activity(worker_.sessions, connection_id_, is_statement,
                                     command_wall_start_ns_);
  uint8_t seq = reader_.first_sequence_id();
  const uint8_t reply_seq = reader_.next_sequence_id();
  if (backend_ && (backend_->broken() || BackendWentAwayWhileIdle())) {
    std::string name = backend_->address().Name();
    bool survives = SessionSurvivesReconnect();
    LogInfo(absl::StrCat("client ", Describe(), ": backend ", name, " closed while idle"));
    DropBackend();
    if (!survives) {
      // The transaction or prepared statements died with it: say so and end.
      QueueError(BackendLost(name, "closed while idle"), reply_seq);
    co_await FlushQueued();
      co_return false;
    }
  }
  if (!backend_) {
    // Nothing to close or reset on a backend that is not there.
    if (info.command == Command::kStmtClose) co_return true;
    const Clock::time_point connect_start = Clock::now();
    if (!co_await ConnectBackend(reply_seq)) co_return true;
    connect_ns_ = uint64_t((Clock::now() - connect_start).count());
  }
  Transport& backend = backend_->transport();
  backend.SetTimeout(timeouts_.backend_read);
  if (error_code ec = co_await backend.WritePacket(packet, seq); ec) {
    std::string name = backend_->address().Name();
    DropBackend();
    QueueError(BackendLost(name, Reason(ec)), reply_seq);
    co_await FlushQueued();
    co_return SessionSurvivesReconnect();
  }
  command_sent_ = Clock::now();
  tracker_.Start(info.response, backend_->capabilities());
  if (tracker_.done()) {
    AfterResponse(info, packet);
    co_return true;
  }
  RelayResult result = co_await relay_.Relay(backend, *client_, tracker_, timeouts_, reply_seq);
  backend_idle_since_ = Clock::now();
  switch (result.status) {
    case RelayStatus::kComplete:
      if (is_statement) RecordStatement(info, packet, result);
      AfterResponse(info, packet);
      co_return true;
    case RelayStatus::kBackendFailed: {
      std::string name = backend_->address().Name();
      bool survives = SessionSurvivesReconnect();
      LogWarn(absl::StrCat("client ", Describe(), ": backend ", name, " lost: ",
                           result.detail.empty() ? Reason(result.ec) : result.detail));
      DropBackend();
      QueueError(BackendLost(name, Reason(result.ec)), reply_seq);
    co_await FlushQueued();
      co_return survives;
    }
    case RelayStatus::kBackendFailedMidway:
      LogWarn(absl::StrCat("client ", Describe(), ": backend ", backend_->address().Name(),
                           " lost in the middle of a response: ", Reason(result.ec)));
      co_return false;
    case RelayStatus::kClientFailed:
      // The backend still has the rest of the response to send: never reuse it.
      backend_->MarkBroken();
      co_return false;
    case RelayStatus::kProtocolError:
      LogError(absl::StrCat("client ", Describe(), ": backend ", backend_->address().Name(),
                            " protocol error: ", result.detail));
      backend_->MarkBroken();
      co_return false;
  }
  co_return false;
}

bool ClientSession::BackendWentAwayWhileIdle() {
  // Only connections idle for a while are checked: a busy one would have
  // shown a failure on its last response, and the check costs a syscall.
  if (Clock::now() - backend_idle_since_ < std::chrono::seconds(1)) return false;
  return backend_->transport().PeerClosedOrSentData();
}

void ClientSession::AfterResponse(const protocol::CommandInfo& info, ByteSpan packet) {
  const protocol::ResponseSummary& s = tracker_.summary();
  if (s.status_known) {
    last_status_ = s.status_flags;
    autocommit_ = (s.status_flags & protocol::status::kAutocommit) != 0;
  }
  bool ok = s.error_code == 0;
  if (!s.session_state.empty()) {
    // USE inside COM_QUERY: the server reports the new schema when tracking is on.
    auto entries = protocol::DecodeSessionState(s.session_state);
    if (entries.ok()) {
      for (const auto& e : *entries) {
        if (e.type == protocol::SessionTrackType::kSchema) schema_.assign(e.value);
      }
    }
  }
  switch (info.command) {
    case Command::kInitDb:
      if (ok) schema_.assign(protocol::AsStringView(packet.subspan(1)));
      break;
    case Command::kStmtPrepare:
      if (ok) {
        ++open_statements_;
        prepared_[s.statement_id] = current_;
      }
      break;
    case Command::kStmtClose:
      if (open_statements_ > 0) --open_statements_;
      if (auto close = protocol::DecodeStatementIdCommand(packet); close.ok()) {
        prepared_.erase(close->statement_id);
      }
      break;
    case Command::kResetConnection:
      if (ok) {
        open_statements_ = 0;
        prepared_.clear();
      }
      break;
    default:
      break;
  }
}

bool ClientSession::IdentifyStatement(const protocol::CommandInfo& info, ByteSpan packet) {
  switch (info.command) {
    case Command::kQuery:
      worker_.recorder.Analyze(protocol::AsStringView(packet.subspan(1)), &current_);
      return true;
    case Command::kStmtPrepare:
      // Analyzed now, recorded at each COM_STMT_EXECUTE of the statement.
      worker_.recorder.Analyze(protocol::AsStringView(packet.subspan(1)), &current_);
      return false;
    case Command::kStmtExecute: {
      auto header = protocol::DecodeStmtExecuteHeader(packet);
      auto it = header.ok() ? prepared_.find(header->statement_id) : prepared_.end();
      if (it == prepared_.end()) return false;
      current_.digest = it->second.digest;
      current_.fingerprint.assign(it->second.fingerprint);
      current_.statement_class = it->second.statement_class;
      return true;
    }
    default:
      return false;
  }
}

void ClientSession::RecordStatement(const protocol::CommandInfo& info, ByteSpan packet,
                                    const RelayResult& result) {
  const protocol::ResponseSummary& s = tracker_.summary();
  const Clock::time_point now = Clock::now();
  analyzer::StatementRecord r;
  r.digest = current_.digest;
  r.fingerprint = current_.fingerprint;
  r.schema = schema_;
  r.user = user_ ? std::string_view(user_->name) : std::string_view();
  r.client_address = peer_;
  r.session_id = connection_id_;
  r.backend_role = analyzer::BackendRole::kPrimary;
  r.statement_class = current_.statement_class;
  r.command = info.command == Command::kStmtExecute ? analyzer::CommandKind::kPrepared
                                                     : analyzer::CommandKind::kText;
  r.start_time_ns = command_wall_start_ns_;
  r.pool_wait_ns = connect_ns_;
  if (result.first_byte >= command_sent_) {
    r.backend_first_byte_ns = uint64_t((result.first_byte - command_sent_).count());
  }
  r.total_ns = uint64_t((now - command_started_).count());
  r.rows_sent = s.rows;
  r.rows_affected = s.affected_rows;
  r.bytes_sent = result.bytes_to_client;
  r.bytes_received = packet.size();
  r.error_code = s.error_code;
  r.warnings = s.warnings;
  r.ApplyServerStatus(s.status_flags_seen);
  std::string_view text = info.command == Command::kQuery
                              ? protocol::AsStringView(packet.subspan(1))
                              : std::string_view(current_.fingerprint);
  worker_.recorder.Record(r, text);
}

}  // namespace ql::proxy
