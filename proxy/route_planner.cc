// Routing rules in one place; see route_planner.h.
#include "proxy/route_planner.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "analyzer/sql_tokenizer.h"

namespace ql::proxy {
namespace {

using analyzer::PrimaryReason;
using analyzer::StatementClass;

// Nothing ties the statement to the primary but code the classifier cannot
// see into (a stored function, CALL) or cannot read.
bool OnlyRoutinesOrNotUnderstood(const analyzer::Classification& c) {
  analyzer::PrimaryReasons rest = c.primary_reasons;
  rest.Remove(PrimaryReason::kStoredRoutine);
  rest.Remove(PrimaryReason::kNotUnderstood);
  return rest.empty();
}

// A hint or rule may send these to a replica: reads the classifier keeps on
// the primary only because it cannot see inside a function. A rule (which
// matches many statements) lifts only those; a hint, written on one
// statement, may also lift CALL or a compound statement.
bool LiftableToReplica(const analyzer::Classification& c, bool by_hint) {
  if (c.statement_class == StatementClass::kRead) return c.primary_reasons.empty();
  if (c.statement_class != StatementClass::kPrimaryOnly || (c.procedural && !by_hint)) {
    return false;
  }
  return OnlyRoutinesOrNotUnderstood(c);
}

// SHOW WARNINGS, FOUND_ROWS() and the like after a statement that ran on the
// replica: facts of that statement live on that connection.
bool FollowsLastStatementToReplica(const analyzer::Classification& c, const RouteFacts& f) {
  return f.last_statement_on_replica && !AboutLastWrite(f.fingerprint) &&
         (c.statement_class == StatementClass::kRead ||
          c.statement_class == StatementClass::kPrimaryOnly) &&
         c.primary_reasons == analyzer::PrimaryReasons{PrimaryReason::kLastStatementInfo};
}

// What a READ ONLY transaction on a replica keeps there: its reads, the
// statements about the last one, its COMMIT/ROLLBACK/savepoints, stored
// routines and what the classifier does not understand (a write in them gets
// 1792 there, as on the server; on the primary they would run outside the
// transaction and commit), and plain writes (the session answers those with
// 1792 itself). Everything else is served as outside a transaction: session
// state must be learned on the primary, and user locks and temporary tables
// belong there. Statements that end the transaction implicitly (BEGIN, DDL)
// go to the primary too: EndsReadOnlyTransaction.
bool StaysInReadOnlyTransaction(const analyzer::Classification& c, const RouteFacts& f) {
  using analyzer::TransactionOp;
  switch (c.statement_class) {
    case StatementClass::kRead:
    case StatementClass::kLockingRead:
      return c.primary_reasons.empty();
    case StatementClass::kWrite:
    case StatementClass::kUnknown:
      return true;
    case StatementClass::kTransactionControl:
      return c.statement_count == 1 &&
             (c.transaction_op == TransactionOp::kCommit ||
              c.transaction_op == TransactionOp::kRollback ||
              c.transaction_op == TransactionOp::kSavepoint ||
              c.transaction_op == TransactionOp::kReleaseSavepoint ||
              c.transaction_op == TransactionOp::kRollbackToSavepoint ||
              c.transaction_op == TransactionOp::kBeginReadOnly);
    case StatementClass::kPrimaryOnly:
      return OnlyRoutinesOrNotUnderstood(c) || FollowsLastStatementToReplica(c, f);
    default:
      return false;
  }
}

bool OpensReadOnlyTransaction(const analyzer::Classification& c) {
  return c.statement_class == StatementClass::kTransactionControl &&
         c.transaction_op == analyzer::TransactionOp::kBeginReadOnly && c.statement_count == 1;
}

}  // namespace

bool EndsReadOnlyTransaction(const analyzer::Classification& c) {
  using analyzer::TransactionOp;
  if (c.statement_class == StatementClass::kDdl) return true;
  if (c.primary_reasons.Has(PrimaryReason::kLockTables)) return true;
  return c.statement_class == StatementClass::kTransactionControl &&
         (c.transaction_op == TransactionOp::kBegin ||
          c.transaction_op == TransactionOp::kBeginReadWrite ||
          c.transaction_op == TransactionOp::kXa);
}

std::string_view PinReasonName(PinReason r) {
  switch (r) {
    case PinReason::kTemporaryTable: return "temporary_table";
    case PinReason::kUserLock: return "user_lock";
    case PinReason::kLockTables: return "lock_tables";
    case PinReason::kPreparedStatement: return "prepared_statement";
    case PinReason::kUserVariable: return "user_variable";
    case PinReason::kHandler: return "handler";
    case PinReason::kSessionHistory: return "session_history";
    case PinReason::kSequence: return "sequence";
    case PinReason::kStoredRoutine: return "stored_routine";
    case PinReason::kNoBinlog: return "sql_log_bin";
  }
  return "unknown";
}

bool ReplaysUserVariables(const analyzer::Classification& c) {
  return c.user_variables_constant && c.statement_count == 1 &&
         c.statement_class == StatementClass::kSessionState;
}

PinReasons PinsAfter(const analyzer::Classification& c) {
  PinReasons pins;
  const analyzer::PrimaryReasons& r = c.primary_reasons;
  if (r.Has(PrimaryReason::kTemporaryTable)) pins.Add(PinReason::kTemporaryTable);
  if (r.Has(PrimaryReason::kUserLock)) pins.Add(PinReason::kUserLock);
  if (r.Has(PrimaryReason::kLockTables)) pins.Add(PinReason::kLockTables);
  if (r.Has(PrimaryReason::kPreparedStatement)) pins.Add(PinReason::kPreparedStatement);
  if (r.Has(PrimaryReason::kHandler)) pins.Add(PinReason::kHandler);
  if (r.Has(PrimaryReason::kSequence)) pins.Add(PinReason::kSequence);
  if (r.Has(PrimaryReason::kUserVariableAssignment) || r.Has(PrimaryReason::kSelectInto) ||
      (c.session_changes.Has(analyzer::SessionChange::kSetUserVariable) &&
       !ReplaysUserVariables(c))) {
    pins.Add(PinReason::kUserVariable);
  }
  // A procedure or compound statement can set variables (OUT parameters
  // included), create temporary tables or take locks out of the proxy's sight.
  if (c.procedural) pins.Add(PinReason::kStoredRoutine);
  return pins;
}

namespace {

// "querylens:primary" / "querylens:replica" anywhere in `text`, ignoring case.
RouteHint HintIn(std::string_view text) {
  static constexpr std::string_view kName = "querylens";
  // ':' is rare in SQL text: memchr-speed scan for it, then look around.
  for (size_t colon = text.find(':'); colon != std::string_view::npos;
       colon = text.find(':', colon + 1)) {
    if (colon < kName.size()) continue;
    absl::string_view name(text.data() + colon - kName.size(), kName.size());
    if (!absl::EqualsIgnoreCase(name, absl::string_view(kName.data(), kName.size()))) continue;
    absl::string_view rest(text.data() + colon + 1, text.size() - colon - 1);
    if (absl::StartsWithIgnoreCase(rest, "primary")) return RouteHint::kPrimary;
    if (absl::StartsWithIgnoreCase(rest, "replica")) return RouteHint::kReplica;
  }
  return RouteHint::kNone;
}

}  // namespace

RouteHint FindRouteHint(std::string_view sql, analyzer::SqlDialect dialect) {
  // Almost no statement mentions the tag at all: one linear scan says so.
  if (HintIn(sql) == RouteHint::kNone) return RouteHint::kNone;
  // Only in a comment is it a hint; in a string value it is the
  // application's data. Tokens tell the two apart in one more pass, paid
  // only by statements that mention the tag.
  analyzer::SqlTokenizer tokens(sql, dialect);
  analyzer::Token t;
  while (tokens.Next(&t)) {
    if (t.kind != analyzer::TokenKind::kComment) continue;
    if (RouteHint hint = HintIn(t.text); hint != RouteHint::kNone) return hint;
  }
  return RouteHint::kNone;
}

bool AboutLastWrite(std::string_view fp) {
  return fp.find("last_insert_id") != std::string_view::npos ||
         fp.find("@@identity") != std::string_view::npos ||
         fp.find("last_gtid") != std::string_view::npos;
}

std::string_view RouteReasonName(RouteReason r) {
  switch (r) {
    case RouteReason::kReplicaRead: return "read";
    case RouteReason::kNotARead: return "not_a_read";
    case RouteReason::kTransaction: return "transaction";
    case RouteReason::kAutocommitOff: return "autocommit_off";
    case RouteReason::kReadOnlyTransaction: return "read_only_transaction";
    case RouteReason::kPinned: return "pinned";
    case RouteReason::kRecentWrite: return "recent_write";
    case RouteReason::kHintPrimary: return "hint_primary";
    case RouteReason::kHintReplica: return "hint_replica";
    case RouteReason::kRulePrimary: return "rule_primary";
    case RouteReason::kRuleReplica: return "rule_replica";
    case RouteReason::kNoUsableReplica: return "no_usable_replica";
    case RouteReason::kSplitOff: return "split_off";
    case RouteReason::kCommand: return "command";
    case RouteReason::kFollowsLastStatement: return "follows_last_statement";
    case RouteReason::kPrimaryDown: return "primary_down";
  }
  return "unknown";
}

bool SetsNextTransactionOnly(const analyzer::Classification& c, std::string_view fingerprint) {
  return c.session_changes == analyzer::SessionChanges{analyzer::SessionChange::kSetTransaction} &&
         fingerprint.find("session") == std::string_view::npos;
}

bool IsReplayableSet(const analyzer::Classification& c, std::string_view fingerprint) {
  using analyzer::SessionChange;
  if (c.statement_class != StatementClass::kSessionState || c.session_changes.empty()) {
    return false;
  }
  for (int i = 0; i < analyzer::kSessionChangeCount; ++i) {
    if (c.session_changes.Has(SessionChange(i)) && !kReplayableSessionChanges.Has(SessionChange(i))) {
      return false;
    }
  }
  if (c.session_changes.Has(SessionChange::kSetUserVariable) && !ReplaysUserVariables(c)) {
    return false;
  }
  return PinsAfter(c).empty() && !SetsNextTransactionOnly(c, fingerprint) &&
         fingerprint.find("sql_log_bin") == std::string_view::npos;
}

RouteChoice PlanRoute(const RouteFacts& f) {
  if (f.classification == nullptr) {
    // While the primary is down a session reads on from a replica, and its
    // ping says so. Not with a transaction or pin the primary's loss ended.
    const bool ping_replica = f.ping && f.primary_down && f.replica_usable && f.split_enabled &&
                              !f.in_transaction && !f.pinned;
    return {ping_replica, RouteReason::kCommand};
  }
  const analyzer::Classification& c = *f.classification;
  if (f.transaction_on_replica) {
    // A pin taken inside the transaction (a temporary table made on the
    // primary, say) moves its reads to the primary; never its writes.
    const bool read = c.statement_class == StatementClass::kRead ||
                      c.statement_class == StatementClass::kLockingRead;
    if (StaysInReadOnlyTransaction(c, f) && !(read && f.pinned)) {
      return {true, RouteReason::kReadOnlyTransaction};
    }
    if (f.hint == RouteHint::kPrimary) return {false, RouteReason::kHintPrimary};
    return {false, f.pinned ? RouteReason::kPinned : RouteReason::kNotARead};
  }
  if (f.hint == RouteHint::kPrimary) return {false, RouteReason::kHintPrimary};
  if (!f.split_enabled) return {false, RouteReason::kSplitOff};
  if (f.in_transaction) return {false, RouteReason::kTransaction};
  // Before the autocommit rule: SET autocommit = 1 must get through too.
  if (f.primary_down && f.replica_usable && !f.pinned && f.text_statement &&
      !f.set_history_full && IsReplayableSet(c, f.fingerprint)) {
    return {true, RouteReason::kPrimaryDown};
  }
  if (!f.autocommit) return {false, RouteReason::kAutocommitOff};
  // Facts about the previous statement live on the connection that ran it.
  if (FollowsLastStatementToReplica(c, f)) return {true, RouteReason::kFollowsLastStatement};
  const bool read_only_begin = OpensReadOnlyTransaction(c);
  const bool eligible = c.ReplicaEligible() || read_only_begin;
  const bool lifted = !eligible && LiftableToReplica(c, f.hint == RouteHint::kReplica) &&
                      (f.hint == RouteHint::kReplica || f.rule == analyzer::RouteTarget::kReplica);
  if (!eligible && !lifted) return {false, RouteReason::kNotARead};
  if (f.pinned) return {false, RouteReason::kPinned};
  if (f.rule == analyzer::RouteTarget::kPrimary) return {false, RouteReason::kRulePrimary};
  if (f.recent_write && f.hint != RouteHint::kReplica) return {false, RouteReason::kRecentWrite};
  if (!f.replica_usable) return {false, RouteReason::kNoUsableReplica};
  if (f.hint == RouteHint::kReplica) return {true, RouteReason::kHintReplica};
  if (f.rule == analyzer::RouteTarget::kReplica) return {true, RouteReason::kRuleReplica};
  if (read_only_begin) return {true, RouteReason::kReadOnlyTransaction};
  return {true, RouteReason::kReplicaRead};
}

}  // namespace ql::proxy
