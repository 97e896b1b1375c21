// ClientSession's command phase: read a command, pick the connection that
// serves it, send it and relay the response; retry a failed replica read on
// the primary; decide what a failure means for the client (an ERR and carry
// on, or disconnect); record the statement. What the session learns from a
// response is in client_session_state.cc.
#include "proxy/client_session.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "analyzer/kill_statement.h"
#include "protocol/constants.h"
#include "protocol/generic_packets.h"
#include "proxy/logging.h"
#include "proxy/simple_query.h"

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
  worker_.sessions.Register(connection_id_, {&peer_, &user_, &schema_, &current_, &pins_, this});
  error_code ignored;
  client_->socket().set_option(tcp::no_delay(true), ignored);
  if (worker_.n_plus_one.enabled()) {
    n_plus_one_ = std::make_unique<analyzer::NPlusOneDetector>(
        worker_.n_plus_one.detector_options(), &worker_.n_plus_one);
    worker_.n_plus_one.Watch(n_plus_one_.get(), connection_id_);
  }
}

ClientSession::~ClientSession() {
  if (n_plus_one_) {
    worker_.n_plus_one.Unwatch(n_plus_one_.get());
    std::vector<analyzer::NPlusOneFinding>* findings = worker_.n_plus_one.scratch();
    n_plus_one_->Close(findings);
    worker_.n_plus_one.Submit(findings);
  }
  worker_.sessions.Unregister(connection_id_);
  ReleaseAll();
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
  queued_error_code_ = error.code;
  protocol::AppendFrames(queued_, EncodeError(error), seq);
}

awaitable<error_code> ClientSession::FlushQueued() {
  client_->SetTimeout(timeouts_.client_write);
  co_return co_await client_->Write(queued_);
}

awaitable<error_code> ClientSession::SendOk(uint8_t seq, uint16_t status_flags) {
  protocol::Bytes payload;
  protocol::OkPacket ok;
  ok.status_flags = status_flags;
  protocol::EncodeOk(payload, ok, client_caps_);
  co_return co_await SendPacket(payload, seq);
}

bool ClientSession::SessionSurvivesReconnect() const {
  // A fresh primary session has no transaction: a client that had one must
  // learn it is gone, not carry on and commit half of it. Temporary tables,
  // locks and open handlers died with the connection too; a client that
  // believes it still holds a lock must not carry on either.
  if (last_status_ & protocol::status::kInTrans) return false;
  // User variables set from expressions (the kUserVariable pin) died with
  // it too, and a replay of their text could compute other values.
  PinReasons lost = pins_;
  lost.Remove(PinReason::kSessionHistory);
  return lost.empty();
}

void ClientSession::OnDrain() {
  // Also a client still logging in: it could hold the exit until
  // --handshake-timeout.
  if ((waiting_for_command_ && !InTransaction()) || user_ == nullptr) client_->Close();
}

awaitable<bool> ClientSession::ServeCommand() {
  serving_slot_ = -1;
  if (worker_.draining && !InTransaction()) {
    // Shutting down: the client finds the connection closed, as after a
    // server restart, between two commands rather than in the middle of one.
    LogDebug(absl::StrCat("client ", Describe(), ": closed by the shutdown drain"));
    co_return false;
  }
  client_->SetTimeout(timeouts_.client_read);
  waiting_for_command_ = true;
  error_code read_ec = co_await client_->ReadPacket(reader_);
  waiting_for_command_ = false;
  if (error_code ec = read_ec; ec) {
    if (ec == asio::error::invalid_argument) {
      LogWarn(absl::StrCat("client ", Describe(), ": ", reader_.error().message()));
      if (reader_.error().code() == absl::StatusCode::kResourceExhausted) {
        QueueError(PacketTooLarge(), reader_.next_sequence_id());
      } else {
        QueueError(PacketsOutOfOrder(), reader_.next_sequence_id());
      }
      co_await FlushQueued();
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
    case Command::kStmtPrepare:
      co_return co_await Prepare(packet, reply_seq);
    case Command::kStmtExecute:
    case Command::kStmtClose:
    case Command::kStmtReset:
    case Command::kStmtSendLongData:
    case Command::kStmtFetch:
      co_return co_await ForwardStatementCommand(packet, info);
    case Command::kProcessKill: {
      absl::StatusOr<uint32_t> id = protocol::DecodeProcessKill(packet);
      if (!id.ok()) {
        QueueError(MalformedPacket("COM_PROCESS_KILL"), reply_seq);
        co_await FlushQueued();
        co_return false;
      }
      co_return co_await Kill(analyzer::KillStatement{false, *id}, reply_seq);
    }
    default:
      co_return co_await Forward(packet, info);
  }
}

void ClientSession::StartCommandClock() {
  command_started_ = Clock::now();
  command_wall_start_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  connect_ns_ = 0;
  sync_ns_ = 0;
}

awaitable<bool> ClientSession::Forward(ByteSpan packet, const protocol::CommandInfo& info) {
  StartCommandClock();
  statement_command_id_ = 0;
  const bool is_statement = IdentifyStatement(info, packet);
  SessionRegistry::Activity activity(worker_.sessions, connection_id_, is_statement,
                                     command_wall_start_ns_);
  const uint8_t seq = reader_.first_sequence_id();
  const uint8_t reply_seq = reader_.next_sequence_id();
  if (is_statement && info.command == Command::kQuery &&
      analyzer::FingerprintIsKill(current_.fingerprint)) {
    const std::string_view sql = protocol::AsStringView(packet.subspan(1));
    std::optional<analyzer::KillStatement> kill = analyzer::ParseKillStatement(sql, dialect_);
    if (kill) co_return co_await Kill(*kill, reply_seq);
    if (!analyzer::IsKillByUserOrQueryId(sql, dialect_)) {
      // KILL @id, KILL (5), KILL 5; SELECT 1 ...: the id is the proxy's, and
      // a server given it as written would kill a thread of its own.
      QueueError(KillNotTranslated(), reply_seq);
      RecordUnanswered(info, packet, analyzer::BackendRole::kNone, queued_error_code_,
                       queued_.size());
      co_await FlushQueued();
      co_return true;
    }
  }
  const int slot = ChooseSlot(is_statement, info.command == Command::kPing);
  co_return co_await SendAndRelay(packet, info, slot, seq, reply_seq, is_statement);
}

awaitable<bool> ClientSession::SendAndRelay(ByteSpan packet, const protocol::CommandInfo& info,
                                            int slot, uint8_t seq, uint8_t reply_seq,
                                            bool is_statement) {
  if (slot == kReplicaSlot && transaction_on_replica_ && is_statement &&
      classification_.statement_class == analyzer::StatementClass::kWrite) {
    // What the primary would say; the read-only replica would say 1290.
    QueueError({1792, "25006", "Cannot execute statement in a READ ONLY transaction"}, reply_seq);
    RecordUnanswered(info, packet, analyzer::BackendRole::kNone, queued_error_code_,
                     queued_.size());
    co_await FlushQueued();
    co_return true;
  }
  if (slot == kPrimarySlot && transaction_on_replica_ && is_statement &&
      EndsReadOnlyTransaction(classification_)) {
    co_await EndReplicaTransaction();
  }
  bool causal_checked = false;
  // At most: the replica, then the primary.
  for (int attempt = 0; attempt < 3; ++attempt) {
    serving_slot_ = slot;
    SlotOutcome ready = co_await ReadySlot(slot, reply_seq);
    if (ready == SlotOutcome::kReady && slot == kReplicaSlot && !causal_checked && is_statement &&
        worker_.shared.config.causal_reads && wrote_ && !transaction_on_replica_) {
      causal_checked = true;
      const bool caught_up = co_await WaitForCausalRead();
      if (!caught_up) ready = SlotOutcome::kRetryOnPrimary;
    }
    if (ready == SlotOutcome::kReady && statement_command_id_ != 0) {
      ready = co_await PrepareStatementOn(slot, reply_seq);
    }
    if (ready == SlotOutcome::kRetryOnPrimary && slot == kReplicaSlot) {
      slot = kPrimarySlot;
      route_ = {false, RouteReason::kNoUsableReplica};
      continue;
    }
    if (ready != SlotOutcome::kReady) {
      if (is_statement) {
        RecordUnanswered(info, packet, analyzer::BackendRole::kNone, queued_error_code_,
                         queued_.size());
      }
      co_await FlushQueued();
      co_return ready == SlotOutcome::kErrorQueued;
    }
    HeldBackend& held = held_[slot];
    Transport& backend = held.conn->transport();
    backend.SetTimeout(timeouts_.backend_read);
    ByteSpan to_send = packet;
    if (statement_command_id_ != 0) {
      // The command carries the statement id of this connection.
      PreparedStatement* st = prepared_.Find(statement_command_id_);
      bool ok = st != nullptr && packet.size() >= kStatementIdOffset + 4;
      if (ok && info.command == Command::kStmtExecute) {
        ok = RewriteExecute(packet, slot, *st, &rewritten_);
      } else if (ok) {
        rewritten_.assign(packet.begin(), packet.end());
        PatchStatementId(rewritten_.data() + kStatementIdOffset, st->backend_id[slot]);
      }
      if (!ok) {
        QueueError(MalformedPacket(protocol::CommandName(info.command)), reply_seq);
        co_await FlushQueued();
        co_return false;
      }
      to_send = rewritten_;
    }
    uint8_t send_seq = seq;
    if (slot == kReplicaSlot) worker_.replicas.StatementStarted(replica_backend_);
    running_slot_ = slot;
    error_code write_ec = co_await backend.WritePacket(to_send, send_seq);
    RelayResult result;
    if (write_ec) {
      result.status = RelayStatus::kBackendFailed;
      result.ec = write_ec;
    } else {
      command_sent_ = Clock::now();
      tracker_.Start(info.response, held.conn->capabilities(), protocol::RequestsCursor(packet));
      if (tracker_.done()) {
        if (slot == kReplicaSlot) worker_.replicas.StatementEnded(replica_backend_);
        running_slot_ = -1;
        AfterResponse(info, packet, slot);
        co_return true;
      }
      result = co_await relay_.Relay(backend, *client_, tracker_, timeouts_, reply_seq);
    }
    if (slot == kReplicaSlot) worker_.replicas.StatementEnded(replica_backend_);
    running_slot_ = -1;
    held.idle_since = Clock::now();
    switch (result.status) {
      case RelayStatus::kComplete:
        if (is_statement) {
          RecordStatement(info, packet, result, slot);
          last_slot_ = slot;
        }
        AfterResponse(info, packet, slot);
        if (schema_unknown_) co_await LearnSchema();
        if (sql_mode_unknown_) co_await LearnSqlMode();
        co_return true;
      case RelayStatus::kBackendFailed: {
        std::string name = SlotName(slot);
        LogWarn(absl::StrCat("client ", Describe(), ": backend ", name, " lost: ",
                             result.detail.empty() ? Reason(result.ec) : result.detail));
        held.conn->MarkBroken();
        if (slot == kReplicaSlot && !transaction_on_replica_) {
          // Nothing reached the client and a read changes nothing: the
          // primary answers instead, unnoticed.
          worker_.replicas.MarkFailed(worker_.health.get(), replica_backend_);
          worker_.recorder.metrics().ReadRetried();
          ReleaseSlot(slot);
          slot = kPrimarySlot;
          route_ = {false, RouteReason::kNoUsableReplica};
          continue;
        }
        const bool survives = slot == kReplicaSlot || SessionSurvivesReconnect();
        ReleaseSlot(slot);
        QueueError(BackendLost(name, Reason(result.ec)), reply_seq);
        if (is_statement) {
          RecordUnanswered(info, packet, SlotRole(slot), queued_error_code_, queued_.size());
        }
        co_await FlushQueued();
        co_return survives;
      }
      case RelayStatus::kBackendFailedMidway:
        LogWarn(absl::StrCat("client ", Describe(), ": backend ", SlotName(slot),
                             " lost in the middle of a response: ", Reason(result.ec)));
        held.conn->MarkBroken();
        if (is_statement) {
          // The client sees its connection drop, as with a direct one.
          RecordUnanswered(info, packet, SlotRole(slot), errc::kClientServerLost,
                           result.bytes_to_client);
        }
        co_return false;
      case RelayStatus::kClientFailed:
        // The backend still has the rest of the response to send: never reuse it.
        held.conn->MarkBroken();
        co_return false;
      case RelayStatus::kProtocolError:
        LogError(absl::StrCat("client ", Describe(), ": backend ", SlotName(slot),
                              " protocol error: ", result.detail));
        held.conn->MarkBroken();
        co_return false;
    }
    co_return false;
  }
  co_return false;
}

bool ClientSession::IdentifyStatement(const protocol::CommandInfo& info, ByteSpan packet) {
  switch (info.command) {
    case Command::kQuery: {
      std::string_view sql = protocol::AsStringView(packet.subspan(1));
      worker_.recorder.Analyze(sql, &current_, &classification_, dialect_);
      hint_ = FindRouteHint(sql, dialect_);
      return true;
    }
    default:
      hint_ = RouteHint::kNone;
      return false;
  }
}

analyzer::StatementRecord ClientSession::BaseRecord(const protocol::CommandInfo& info,
                                                   ByteSpan packet,
                                                   analyzer::BackendRole role) const {
  analyzer::StatementRecord r;
  r.digest = current_.digest;
  r.fingerprint = current_.fingerprint;
  r.schema = schema_;
  r.user = user_ ? std::string_view(user_->name) : std::string_view();
  r.client_address = peer_;
  r.session_id = connection_id_;
  r.backend_role = role;
  r.statement_class = current_.statement_class;
  r.command = info.command == Command::kStmtExecute || info.command == Command::kStmtPrepare
                  ? analyzer::CommandKind::kPrepared
                  : analyzer::CommandKind::kText;
  r.start_time_ns = command_wall_start_ns_;
  r.pool_wait_ns = connect_ns_;
  r.state_sync_ns = sync_ns_;
  r.total_ns = uint64_t((Clock::now() - command_started_).count());
  r.bytes_received = packet.size();
  return r;
}

// The text the slow log shows with --log-literals: the statement as sent, or
// for an execute the prepared statement's fingerprint.
static std::string_view RecordedText(const protocol::CommandInfo& info, ByteSpan packet,
                                     const std::string& fingerprint) {
  return info.command == Command::kQuery ? protocol::AsStringView(packet.subspan(1))
                                         : std::string_view(fingerprint);
}

void ClientSession::RecordUnanswered(const protocol::CommandInfo& info, ByteSpan packet,
                                     analyzer::BackendRole role, uint16_t error_code,
                                     uint64_t bytes_sent) {
  analyzer::StatementRecord r = BaseRecord(info, packet, role);
  r.error_code = error_code;
  r.bytes_sent = bytes_sent;
  worker_.recorder.Record(r, RecordedText(info, packet, current_.fingerprint));
}

void ClientSession::RecordStatement(const protocol::CommandInfo& info, ByteSpan packet,
                                    const RelayResult& result, int slot) {
  const protocol::ResponseSummary& s = tracker_.summary();
  analyzer::StatementRecord r = BaseRecord(info, packet, SlotRole(slot));
  if (result.first_byte >= command_sent_) {
    r.backend_first_byte_ns = uint64_t((result.first_byte - command_sent_).count());
  }
  r.rows_sent = s.rows;
  r.rows_affected = s.affected_rows;
  r.bytes_sent = result.bytes_to_client;
  r.error_code = s.error_code;
  r.warnings = s.warnings;
  r.ApplyServerStatus(s.status_flags_seen);
  worker_.recorder.Record(r, RecordedText(info, packet, current_.fingerprint));
  if (n_plus_one_) ObserveNPlusOne(info, packet, r);
}

void ClientSession::ObserveNPlusOne(const protocol::CommandInfo& info, ByteSpan packet,
                                    const analyzer::StatementRecord& record) {
  NPlusOneCapture& capture = current_.n_plus_one;
  if (info.command == Command::kStmtExecute) {
    // The prepared text's summary plus this execution's bound values.
    if (const PreparedStatement* st = prepared_.Find(statement_command_id_)) {
      capture.literals = ExecuteLiterals(st->n_plus_one.literals, packet, st->num_params,
                                         st->param_types, &bound_values_);
    }
  }
  const analyzer::NPlusOneInput in = MakeInput(record, capture, MonotonicNs(command_started_));
  std::vector<analyzer::NPlusOneFinding>* findings = worker_.n_plus_one.scratch();
  n_plus_one_->Observe(in, findings);
  worker_.n_plus_one.Submit(findings);
}

void ClientSession::ResetNPlusOne() {
  if (!n_plus_one_) return;
  std::vector<analyzer::NPlusOneFinding>* findings = worker_.n_plus_one.scratch();
  n_plus_one_->Reset(findings);
  worker_.n_plus_one.Submit(findings);
}

}  // namespace ql::proxy
