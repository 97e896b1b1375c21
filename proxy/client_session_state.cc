// ClientSession's view of the session state, learned from what the servers
// answered: status flags (autocommit, transactions, backslash escapes), the
// schema and GTID from session tracking, the SET history replayed on other
// connections, pins, and what the proxy must ask a server itself (the
// schema after USE, the sql_mode after SET sql_mode).
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "protocol/constants.h"
#include "protocol/generic_packets.h"
#include "proxy/client_session.h"
#include "proxy/logging.h"
#include "proxy/simple_query.h"

namespace ql::proxy {

using protocol::ByteSpan;
using protocol::Command;

void ClientSession::AfterResponse(const protocol::CommandInfo& info, ByteSpan packet, int slot) {
  const protocol::ResponseSummary& s = tracker_.summary();
  const bool ok = s.error_code == 0;
  HeldBackend& held = held_[slot];
  if (s.status_known) {
    const bool in_trans = (s.status_flags & protocol::status::kInTrans) != 0;
    dialect_.no_backslash_escapes = (s.status_flags & protocol::status::kNoBackslashEscapes) != 0;
    const bool autocommit = (s.status_flags & protocol::status::kAutocommit) != 0;
    if (slot == kPrimarySlot) {
      last_status_ = s.status_flags;
      if (autocommit != state_.autocommit()) state_.SetAutocommit(autocommit);
      held.applied.autocommit = autocommit ? 1 : 0;
    } else {
      transaction_on_replica_ = in_trans;
      if (route_.reason == RouteReason::kPrimaryDown) {
        // A setting the replica ran for the primary: its SET autocommit is
        // the session's; any other SET ran after the sync's autocommit=1.
        held.applied.autocommit = autocommit ? 1 : 0;
        if (classification_.session_changes.Has(analyzer::SessionChange::kSetAutocommit)) {
          state_.SetAutocommit(autocommit);
        }
      }
    }
  }
  if (!s.session_state.empty()) {
    auto entries = protocol::DecodeSessionState(s.session_state);
    if (entries.ok()) {
      for (const auto& e : *entries) {
        if (e.type == protocol::SessionTrackType::kSchema && slot == kPrimarySlot) {
          state_.SetSchema(e.value);
          held.applied.schema.assign(e.value);
        } else if (e.type == protocol::SessionTrackType::kSystemVariables &&
                   e.name == "last_gtid" && !e.value.empty()) {
          last_gtid_.assign(e.value);
        }
      }
    }
  }
  switch (info.command) {
    case Command::kQuery:
      AfterStatement(slot, ok, protocol::AsStringView(packet.subspan(1)));
      break;
    case Command::kStmtExecute:
      AfterStatement(slot, ok, {});
      break;
    case Command::kInitDb:
      if (ok) {
        state_.SetSchema(protocol::AsStringView(packet.subspan(1)));
        held.applied.schema = state_.schema();
      }
      break;
    case Command::kSetOption:
      if (ok && packet.size() >= 3) {
        const bool on = packet[1] == 0 && packet[2] == 0;
        state_.SetMultiStatements(on);
        held.applied.multi_statements = on ? 1 : 0;
      }
      break;
    case Command::kResetConnection:
      if (ok) {
        // The primary connection starts over; the replica is given back.
        state_.Reset(state_.schema(), charset_);
        state_.MarkSynced(&held.applied, true);
        last_status_ = protocol::status::kAutocommit;
        dialect_.ansi_quotes = false;  // back to the server's default sql_mode
        pins_.Clear();
        wrote_ = false;
        pending_write_ = false;
        ReleaseSlot(kReplicaSlot);
        prepared_.Clear();
        ResetNPlusOne();
      }
      break;
    default:
      break;
  }
  schema_ = state_.schema();
}

awaitable<std::optional<std::string>> ClientSession::AskBackend(int slot, std::string_view sql,
                                                                 size_t column) {
  HeldBackend& held = held_[slot];
  if (!held.conn) co_return std::nullopt;
  absl::StatusOr<QueryResult> r = co_await RunSimpleQuery(
      *held.conn, sql,
      std::chrono::duration_cast<std::chrono::milliseconds>(timeouts_.backend_read));
  if (!r.ok()) {
    LogWarn(absl::StrCat("client ", Describe(), ": ", protocol::Sv(sql), " on ", SlotName(slot),
                         " failed: ", r.status().ToString()));
    held.conn->MarkBroken();
    co_return std::nullopt;
  }
  std::string value;
  if (!r->rows.empty() && r->rows[0].size() > column && r->rows[0][column]) {
    value = *r->rows[0][column];
  }
  co_return value;
}

awaitable<void> ClientSession::LearnSqlMode() {
  sql_mode_unknown_ = false;
  const std::string_view sql = "SELECT @@SESSION.sql_mode";
  // Where the SET ran: the replica while the primary is down.
  const int slot = route_.reason == RouteReason::kPrimaryDown ? kReplicaSlot : kPrimarySlot;
  std::optional<std::string> mode = co_await AskBackend(slot, sql);
  // The server lists combination modes (ANSI) expanded, ANSI_QUOTES included.
  if (mode) dialect_.ansi_quotes = absl::StrContains(*mode, "ANSI_QUOTES");
}

awaitable<void> ClientSession::LearnSchema() {
  schema_unknown_ = false;
  const std::string_view sql = "SELECT DATABASE()";
  std::optional<std::string> schema = co_await AskBackend(kPrimarySlot, sql);
  if (!schema) co_return;
  state_.SetSchema(*schema);
  held_[kPrimarySlot].applied.schema = *schema;
  schema_ = *schema;
}

void ClientSession::AfterStatement(int slot, bool ok, std::string_view text) {
  const analyzer::Classification& c = classification_;
  if (slot != kPrimarySlot && route_.reason != RouteReason::kPrimaryDown) return;
  // Writes, DDL, locking reads and anything not understood count as a
  // write for the read-after-write window (an error may have written too).
  // Inside a transaction the write becomes visible at COMMIT, so that is
  // when the window opens; a ROLLBACK writes nothing.
  if (c.statement_class != analyzer::StatementClass::kRead &&
      c.statement_class != analyzer::StatementClass::kSessionState &&
      c.statement_class != analyzer::StatementClass::kTransactionControl &&
      !c.primary_reasons.Has(analyzer::PrimaryReason::kExplainWrite)) {
    pending_write_ = true;
  }
  if (c.transaction_op == analyzer::TransactionOp::kRollback) pending_write_ = false;
  if (pending_write_ && !(last_status_ & protocol::status::kInTrans)) {
    pending_write_ = false;
    last_write_ = Clock::now();
    wrote_ = true;
    const HeldBackend& primary = held_[kPrimarySlot];
    gtid_stale_ = worker_.shared.config.causal_reads &&
                  (!primary.conn || !(primary.conn->capabilities() & protocol::cap::kSessionTrack));
  }
  if (!ok) return;
  if (c.session_changes.Has(analyzer::SessionChange::kUseDatabase) &&
      !(tracker_.summary().status_flags & protocol::status::kSessionStateChanged)) {
    // USE in a query, and the server did not report the schema (the client
    // did not ask for session tracking): ask it once the client has its answer.
    schema_unknown_ = true;
  }
  PinReasons pins = PinsAfter(c);
  if (c.primary_reasons.Has(analyzer::PrimaryReason::kLockTables) &&
      absl::StartsWith(current_.fingerprint, "unlock")) {
    pins_.Remove(PinReason::kLockTables);
    pins.Remove(PinReason::kLockTables);
  }
  // RELEASE_ALL_LOCKS() gives up every user lock of the connection (one
  // RELEASE_LOCK(name) may leave others: that pin stays).
  if (c.primary_reasons.Has(analyzer::PrimaryReason::kUserLock) &&
      absl::StrContains(current_.fingerprint, "release_all_locks(") &&
      !absl::StrContains(current_.fingerprint, "get_lock(")) {
    pins_.Remove(PinReason::kUserLock);
    pins.Remove(PinReason::kUserLock);
  }
  // Variable names are read from the fingerprint: lower case, without the
  // literals and comments that could mention a name, and there for prepared
  // SETs too.
  const std::string& fingerprint = current_.fingerprint;
  if (c.session_changes.Has(analyzer::SessionChange::kSetSessionVariable)) {
    if (absl::StrContains(fingerprint, "sql_mode")) sql_mode_unknown_ = true;
    if (absl::StrContains(fingerprint, "sql_log_bin")) pins.Add(PinReason::kNoBinlog);
  }
  if (c.statement_class == analyzer::StatementClass::kSessionState &&
      !c.session_changes.empty()) {
    bool is_set = false;
    for (int i = 0; i < analyzer::kSessionChangeCount; ++i) {
      auto change = analyzer::SessionChange(i);
      if (c.session_changes.Has(change) && kReplayableSessionChanges.Has(change)) is_set = true;
    }
    const bool only_autocommit =
        c.session_changes == analyzer::SessionChanges{analyzer::SessionChange::kSetAutocommit};
    const bool next_transaction_only = SetsNextTransactionOnly(c, fingerprint);
    if (c.session_changes.Has(analyzer::SessionChange::kSetUserVariable) &&
        !ReplaysUserVariables(c)) {
      // Not replayed (PinsAfter pinned the session): SET @n = @n + 1 twice
      // is not SET @n = @n + 1 once on another connection.
    } else if (is_set && text.empty()) {
      // A prepared SET: its values came as parameters, not replayable text.
      pins.Add(PinReason::kSessionHistory);
    } else if (is_set && !only_autocommit && !next_transaction_only) {
      // History full: a session without its user variables after a
      // reconnect would read wrong values, so those pin harder (kUserVariable
      // does not survive a reconnect; kSessionHistory does).
      if (!state_.RecordSet(text)) {
        pins.Add(c.session_changes.Has(analyzer::SessionChange::kSetUserVariable)
                     ? PinReason::kUserVariable
                     : PinReason::kSessionHistory);
      }
      // The replica (primary down) runs with autocommit=1 whatever the session's.
      state_.MarkSynced(&held_[slot].applied,
                        slot == kPrimarySlot ? state_.autocommit() : held_[slot].applied.autocommit != 0);
    }
  }
  Pin(pins);
}

}  // namespace ql::proxy
