// RoutePlanner: where one command of a client session runs, primary or a
// replica, and why. Pure logic over facts the session already holds (the
// statement's classification, transaction flags, pins, the read-after-write
// window, hints, configured rules, whether any replica is usable), so every
// routing rule is unit-tested without a server. When in doubt, the primary.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "analyzer/enum_set.h"
#include "analyzer/route_rules.h"
#include "analyzer/statement_classifier.h"

namespace ql::proxy {

// Why a session is bound to the primary beyond one statement.
enum class PinReason : uint8_t {
  kTemporaryTable,     // CREATE TEMPORARY TABLE: the table lives on that connection
  kUserLock,           // GET_LOCK() and friends
  kLockTables,         // LOCK TABLES (until UNLOCK TABLES), FLUSH ... WITH READ LOCK
  kPreparedStatement,  // text PREPARE / EXECUTE
  kUserVariable,       // SET @v = expression, SELECT ... INTO @v, @v := expr
  kHandler,            // HANDLER t OPEN
  kSessionHistory,     // more session settings than the proxy replays
  kSequence,           // NEXTVAL(): LASTVAL() must see it
  kStoredRoutine,      // CALL, BEGIN NOT ATOMIC: may leave any session state behind
  kNoBinlog,           // SET sql_log_bin = 0: the session's writes never reach a replica
};
inline constexpr int kPinReasonCount = 10;
using PinReasons = analyzer::EnumSet<PinReason>;

std::string_view PinReasonName(PinReason r);  // "temporary_table", ...

// The pins a statement leaves behind once it succeeded on the primary.
PinReasons PinsAfter(const analyzer::Classification& c);

// A SET of user variables kept for replay like any SET: on its own, and
// every value a constant (SET @app_user = 'alice'). A value the server
// computes (NOW(), a subquery, another variable) or a SET inside a
// multi-statement pins the session instead (PinsAfter).
bool ReplaysUserVariables(const analyzer::Classification& c);

// A comment hint in the statement text: /* querylens:primary */ or
// /* querylens:replica */ in a comment anywhere in the statement.
enum class RouteHint : uint8_t { kNone, kPrimary, kReplica };
RouteHint FindRouteHint(std::string_view sql, analyzer::SqlDialect dialect = {});

enum class RouteReason : uint8_t {
  kReplicaRead,          // a plain read, nothing against it
  kNotARead,             // writes, DDL, locking reads, session or transaction control, ...
  kTransaction,          // inside an open transaction on the primary
  kAutocommitOff,        // autocommit=0: every statement belongs to a transaction
  kReadOnlyTransaction,  // inside START TRANSACTION READ ONLY on a replica
  kPinned,               // the session is pinned
  kRecentWrite,          // within --read-after-write-window of the session's last write
  kHintPrimary,
  kHintReplica,
  kRulePrimary,
  kRuleReplica,
  kNoUsableReplica,
  kSplitOff,             // --read-write-split off, or no replica configured
  kCommand,              // a command that only the primary serves (cursor fetch, long data, ...)
  kFollowsLastStatement,  // SHOW WARNINGS, ROW_COUNT(), FOUND_ROWS(): where the last statement ran
  kPrimaryDown,  // a session setting while the primary is down: the replica checks and keeps it
};
inline constexpr int kRouteReasonCount = int(RouteReason::kPrimaryDown) + 1;
std::string_view RouteReasonName(RouteReason r);

struct RouteFacts {
  const analyzer::Classification* classification = nullptr;  // null: not a statement
  RouteHint hint = RouteHint::kNone;
  std::optional<analyzer::RouteTarget> rule;  // the first matching --route-rule
  bool split_enabled = true;
  bool in_transaction = false;           // the primary said SERVER_STATUS_IN_TRANS
  bool transaction_on_replica = false;   // a READ ONLY transaction runs on the replica
  bool autocommit = true;
  bool pinned = false;
  bool recent_write = false;
  bool replica_usable = false;           // at least one replica may take reads
  bool last_statement_on_replica = false;  // and that replica connection is still held
  bool primary_down = false;             // the monitor's last check of the primary failed
  bool ping = false;                     // the command is COM_PING (classification is null)
  bool text_statement = false;           // COM_QUERY (a prepared SET's values are not replayable)
  bool set_history_full = false;         // the session's SET history has no room left
  std::string_view fingerprint;  // of the statement (lower case)
};

// LAST_INSERT_ID(), @@identity and @@last_gtid: facts of the session's last
// write, which ran on the primary (unlike FOUND_ROWS() or SHOW WARNINGS,
// which belong to whatever ran last).
bool AboutLastWrite(std::string_view fingerprint);

struct RouteChoice {
  bool replica = false;
  RouteReason reason = RouteReason::kNotARead;
};

RouteChoice PlanRoute(const RouteFacts& facts);

// The session changes a SET may make for the proxy to record it and replay
// it on every connection (user variables only when set to constants).
inline constexpr analyzer::SessionChanges kReplayableSessionChanges{
    analyzer::SessionChange::kSetNames,          analyzer::SessionChange::kSetCharacterSet,
    analyzer::SessionChange::kSetSessionVariable, analyzer::SessionChange::kSetTransaction,
    analyzer::SessionChange::kSetAutocommit,     analyzer::SessionChange::kSetUserVariable};

// SET TRANSACTION without SESSION: it shapes only the next transaction of
// the connection it runs on, so it is not recorded.
bool SetsNextTransactionOnly(const analyzer::Classification& c, std::string_view fingerprint);

// A text SET that only changes what the proxy records and replays on every
// connection (SET NAMES, SET SESSION variables and TRANSACTION, autocommit,
// constant user variables), and nothing else: while the primary is down a
// replica can run it, and the primary gets it replayed once it is back.
// Not sql_log_bin (it pins) nor a SET for the next transaction only (never
// recorded). The caller checks the text protocol and the history's room.
bool IsReplayableSet(const analyzer::Classification& c, std::string_view fingerprint);

// Statements that commit an open transaction implicitly (BEGIN, START
// TRANSACTION READ WRITE, XA, DDL, LOCK TABLES): sent to the primary while a
// READ ONLY transaction runs on a replica, they end that transaction first.
bool EndsReadOnlyTransaction(const analyzer::Classification& c);

}  // namespace ql::proxy
