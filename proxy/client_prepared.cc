// ClientSession's prepared statements: COM_STMT_PREPARE runs on the primary
// and the client gets the proxy's own statement id; COM_STMT_EXECUTE runs
// where the statement's class routes it (prepared there on first use);
// SEND_LONG_DATA, RESET and FETCH follow the primary's copy; CLOSE reaches
// every connection that has the statement.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "protocol/constants.h"
#include "proxy/backend_exchange.h"
#include "proxy/client_session.h"
#include "proxy/logging.h"

namespace ql::proxy {
namespace {

using protocol::ByteSpan;
using protocol::Command;

// A connection keeps at most this many of a session's statements; the least
// recently used is closed there to make room (and re-prepared if needed).
constexpr size_t kMaxStatementsPerConnection = 256;

uint32_t ReadStatementId(ByteSpan packet) {
  return uint32_t(packet[1]) | uint32_t(packet[2]) << 8 | uint32_t(packet[3]) << 16 |
         uint32_t(packet[4]) << 24;
}

MysqlError UnknownStatement(uint32_t id, std::string_view command) {
  return {1243, "HY000",
          absl::StrCat("Unknown prepared statement handler (", id, ") given to ", protocol::Sv(command))};
}

}  // namespace

awaitable<bool> ClientSession::Prepare(ByteSpan packet, uint8_t reply_seq) {
  statement_command_id_ = 0;
  prepared_.ForgetLast();  // until this one succeeds
  StartCommandClock();
  if (prepared_.size() >= kMaxStatementsPerSession) {
    QueueError({1461, "42000",
                absl::StrCat("Can't create more than max_prepared_stmt_count statements (current "
                             "value: ", kMaxStatementsPerSession, ")")},
               reply_seq);
    co_await FlushQueued();
    co_return true;
  }
  PreparedStatement st;
  st.sql.assign(protocol::AsStringView(packet.subspan(1)));
  worker_.recorder.Analyze(st.sql, &current_, &st.classification, dialect_);
  st.digest = current_.digest;
  st.fingerprint = current_.fingerprint;
  st.n_plus_one = current_.n_plus_one;
  if (analyzer::FingerprintIsKill(st.fingerprint) &&
      !analyzer::IsKillByUserOrQueryId(st.sql, dialect_)) {
    // Its id would be bound at execution and reach a server untranslated.
    QueueError(KillNotTranslated(), reply_seq);
    co_await FlushQueued();
    co_return true;
  }
  st.hint = FindRouteHint(st.sql, dialect_);
  st.schema = state_.schema();
  const SlotOutcome ready = co_await ReadySlot(kPrimarySlot, reply_seq);
  if (ready != SlotOutcome::kReady) {
    co_await FlushQueued();
    co_return ready == SlotOutcome::kErrorQueued;
  }
  HeldBackend& h = held_[kPrimarySlot];
  protocol::Bytes frames;
  ExchangeResult r = co_await ExchangeCommand(*h.conn, packet, protocol::ResponseKind::kPrepare,
                                              timeouts_.backend_read, &frames, reply_seq);
  h.idle_since = Clock::now();
  if (r.failed()) {
    const std::string name = h.conn->address().Name();
    const bool survives = SessionSurvivesReconnect();
    ReleaseSlot(kPrimarySlot);
    QueueError(BackendLost(name, r.ec ? r.ec.message() : std::string("protocol error")),
               reply_seq);
    co_await FlushQueued();
    co_return survives;
  }
  if (r.summary.error_code == 0) {
    st.num_params = r.summary.num_params;
    st.num_columns = r.summary.num_columns;
    st.backend_id[kPrimarySlot] = r.summary.statement_id;
    const uint32_t id = prepared_.Add(std::move(st));
    // COM_STMT_PREPARE_OK: header(4) status(1) statement_id(4) ...
    if (frames.size() >= protocol::kFrameHeaderSize + 5) {
      PatchStatementId(frames.data() + protocol::kFrameHeaderSize + 1, id);
    }
  } else {
    // Refused (a syntax error, an unknown table): it never executes, so
    // this is its only trace in errors, digests and the slow log.
    RecordUnanswered(protocol::DescribeCommand(packet[0]), packet,
                     analyzer::BackendRole::kPrimary, r.summary.error_code, frames.size());
  }
  client_->SetTimeout(timeouts_.client_write);
  error_code ec = co_await client_->Write(frames);
  co_return !ec;
}

awaitable<bool> ClientSession::ForwardStatementCommand(ByteSpan packet,
                                                       const protocol::CommandInfo& info) {
  const uint8_t seq = reader_.first_sequence_id();
  const uint8_t reply_seq = reader_.next_sequence_id();
  if (packet.size() < 5) {
    QueueError(MalformedPacket(protocol::CommandName(info.command)), reply_seq);
    co_await FlushQueued();
    co_return false;
  }
  const uint32_t wire_id = ReadStatementId(packet);
  const uint32_t id = prepared_.Resolve(wire_id);
  PreparedStatement* st = prepared_.Find(id);
  if (info.command == Command::kStmtClose) {
    // No response: close wherever it exists.
    if (st != nullptr) {
      for (int slot = 0; slot < kBackendSlots; ++slot) {
        if (st->backend_id[slot] != 0 && held_[slot].conn) {
          co_await CloseOnBackend(slot, st->backend_id[slot]);
        }
      }
      prepared_.Erase(id);
    }
    co_return true;
  }
  if (st == nullptr) {
    if (info.command == Command::kStmtSendLongData) co_return true;  // no response expected
    // MariaDB names the server function, as in "mysqld_stmt_fetch".
    std::string_view what = info.command == Command::kStmtExecute ? "mysqld_stmt_execute"
                            : info.command == Command::kStmtFetch ? "mysqld_stmt_fetch"
                                                                  : "mysqld_stmt_reset";
    QueueError(UnknownStatement(wire_id, what), reply_seq);
    co_await FlushQueued();
    co_return true;
  }
  StartCommandClock();
  statement_command_id_ = id;
  st->last_used = prepared_.Touch();
  int slot = kPrimarySlot;
  const bool is_statement = info.command == Command::kStmtExecute;
  if (is_statement) {
    current_.digest = st->digest;
    current_.fingerprint.assign(st->fingerprint);
    current_.statement_class = st->classification.statement_class;
    current_.n_plus_one = st->n_plus_one;  // buffers reused: no allocation once warm
    classification_ = st->classification;
    hint_ = st->hint;
    const uint8_t flags = packet[5 < packet.size() ? 5 : 0];
    // A cursor is fetched from the connection that opened it; long data
    // waits on the primary's copy of the statement.
    const bool cursor = packet.size() > 5 && flags != 0;
    slot = (cursor || st->long_data_pending) ? kPrimarySlot : ChooseSlot(true);
    if (slot == kPrimarySlot && (cursor || st->long_data_pending)) {
      route_ = {false, RouteReason::kCommand};
    }
  } else {
    hint_ = RouteHint::kNone;
  }
  if (info.command == Command::kStmtReset && st->backend_id[kReplicaSlot] != 0 &&
      held_[kReplicaSlot].conn) {
    // The client hears the primary's answer; the replica's copy is reset too.
    uint8_t reset[5] = {uint8_t(Command::kStmtReset)};
    PatchStatementId(reset + 1, st->backend_id[kReplicaSlot]);
    ExchangeResult r = co_await ExchangeCommand(*held_[kReplicaSlot].conn, reset,
                                                protocol::ResponseKind::kOkOrErr,
                                                timeouts_.backend_read);
    if (r.failed()) ReleaseSlot(kReplicaSlot);
    st = prepared_.Find(id);
    if (st == nullptr) co_return true;
  }
  SessionRegistry::Activity activity(worker_.sessions, connection_id_, is_statement,
                                     command_wall_start_ns_);
  const bool alive = co_await SendAndRelay(packet, info, slot, seq, reply_seq, is_statement);
  // The statement may have gone away with a failed connection.
  if (PreparedStatement* after = prepared_.Find(id)) {
    if (info.command == Command::kStmtSendLongData) after->long_data_pending = true;
    if (info.command == Command::kStmtExecute || info.command == Command::kStmtReset) {
      after->long_data_pending = false;
    }
  }
  statement_command_id_ = 0;
  co_return alive;
}

awaitable<SlotOutcome> ClientSession::PrepareStatementOn(int slot, uint8_t error_seq) {
  PreparedStatement* st = prepared_.Find(statement_command_id_);
  if (st == nullptr) co_return SlotOutcome::kReady;  // reported by the caller
  if (st->backend_id[slot] != 0) co_return SlotOutcome::kReady;
  HeldBackend& h = held_[slot];
  if (prepared_.CountOn(slot) >= kMaxStatementsPerConnection) {
    const uint32_t victim = prepared_.LeastRecentlyUsedOn(slot, statement_command_id_);
    if (PreparedStatement* v = prepared_.Find(victim)) {
      co_await CloseOnBackend(slot, v->backend_id[slot]);
      v->backend_id[slot] = 0;
      v->types_sent[slot] = false;
    }
  }
  protocol::Bytes command;
  protocol::EncodeStringCommand(command, Command::kStmtPrepare, st->sql);
  const Clock::time_point start = Clock::now();
  // The server resolves a statement's names in the schema of its PREPARE
  // (later USEs do not change what it reads): prepare it there. A statement
  // prepared without a default schema names its tables in full.
  const std::string prepare_schema = st->schema;
  const std::string current_schema = h.applied.schema;
  const bool switch_schema = !prepare_schema.empty() && prepare_schema != current_schema;
  ExchangeResult r;
  bool schema_ok = true;
  if (switch_schema) schema_ok = co_await InitDbOn(*h.conn, prepare_schema);
  if (schema_ok) {
    r = co_await ExchangeCommand(*h.conn, command, protocol::ResponseKind::kPrepare,
                                 timeouts_.backend_read);
    if (switch_schema && !r.failed()) schema_ok = co_await InitDbOn(*h.conn, current_schema);
  }
  // A connection left in another schema (or whose schema could not be
  // set) must not serve the session: as if it were lost.
  if (!schema_ok) r.protocol_error = true;
  sync_ns_ += uint64_t((Clock::now() - start).count());
  // The connection may have been given back meanwhile; look the statement up again.
  st = prepared_.Find(statement_command_id_);
  if (r.ok() && st != nullptr) {
    st->backend_id[slot] = r.summary.statement_id;
    st->types_sent[slot] = false;
    co_return SlotOutcome::kReady;
  }
  const std::string name = SlotName(slot);
  LogWarn(absl::StrCat("client ", Describe(), ": could not prepare a statement again on ", name,
                       ": ", r.failed() ? std::string("connection failed") : r.server_message));
  if (r.failed()) h.conn->MarkBroken();
  if (slot == kReplicaSlot) {
    ReleaseSlot(kReplicaSlot);
    co_return SlotOutcome::kRetryOnPrimary;
  }
  if (r.failed()) {
    const bool survives = SessionSurvivesReconnect();
    ReleaseSlot(kPrimarySlot);
    QueueError(BackendLost(name, "while preparing a statement again"), error_seq);
    co_return survives ? SlotOutcome::kErrorQueued : SlotOutcome::kErrorQueuedEnd;
  }
  // The statement no longer prepares (a table was dropped, say): the
  // server's own words.
  QueueError({r.summary.error_code, r.summary.sql_state, r.server_message}, error_seq);
  co_return SlotOutcome::kErrorQueued;
}

awaitable<bool> ClientSession::InitDbOn(BackendConnection& conn, const std::string& schema) {
  protocol::Bytes command;
  protocol::EncodeStringCommand(command, Command::kInitDb, schema);
  ExchangeResult r = co_await ExchangeCommand(conn, command, protocol::ResponseKind::kOkOrErr,
                                              timeouts_.backend_read);
  co_return r.ok();
}

awaitable<void> ClientSession::CloseOnBackend(int slot, uint32_t backend_id) {
  HeldBackend& h = held_[slot];
  if (!h.conn || backend_id == 0) co_return;
  uint8_t command[5] = {uint8_t(Command::kStmtClose)};
  PatchStatementId(command + 1, backend_id);
  uint8_t seq = 0;
  h.conn->transport().SetTimeout(timeouts_.backend_read);
  if (co_await h.conn->transport().WritePacket(command, seq)) h.conn->MarkBroken();
}

}  // namespace ql::proxy
