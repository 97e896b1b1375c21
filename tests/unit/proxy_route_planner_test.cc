// Tests for proxy/route_planner: PlanRoute over facts built from real SQL
// (classified by analyzer::StatementClassifier, as the session does), every
// RouteReason and the order in which the rules apply; PinsAfter for each
// kind of pin; FindRouteHint on comment hints; the reason names.
#include "proxy/route_planner.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analyzer/statement_classifier.h"
#include "gtest/gtest.h"

namespace ql::proxy {
namespace {

using analyzer::RouteTarget;

// One routing situation. Defaults describe the common case: split on,
// autocommit on, a usable replica, nothing pinning the session.
struct Case {
  const char* label = "";
  const char* sql = nullptr;  // nullptr: a command that is not a statement
  RouteHint hint = RouteHint::kNone;
  std::optional<RouteTarget> rule = std::nullopt;
  bool split = true;
  bool in_transaction = false;
  bool transaction_on_replica = false;
  bool autocommit = true;
  bool pinned = false;
  bool recent_write = false;
  bool replica_usable = true;
  bool last_on_replica = false;
  bool primary_down = false;
  bool prepared = false;      // a COM_STMT_EXECUTE rather than a COM_QUERY
  bool ping = false;          // with sql == nullptr: COM_PING
  bool history_full = false;
  bool want_replica = false;
  RouteReason want = RouteReason::kNotARead;
};

RouteChoice Plan(const Case& k, analyzer::Classification* storage) {
  RouteFacts f;
  if (k.sql != nullptr) {
    analyzer::StatementClassifier classifier;
    *storage = classifier.Classify(k.sql);
    f.classification = storage;
  }
  f.hint = k.hint;
  f.rule = k.rule;
  f.split_enabled = k.split;
  f.in_transaction = k.in_transaction;
  f.transaction_on_replica = k.transaction_on_replica;
  f.autocommit = k.autocommit;
  f.pinned = k.pinned;
  f.recent_write = k.recent_write;
  f.replica_usable = k.replica_usable;
  f.last_statement_on_replica = k.last_on_replica;
  f.primary_down = k.primary_down;
  f.ping = k.ping;
  f.text_statement = k.sql != nullptr && !k.prepared;
  f.set_history_full = k.history_full;
  // Fingerprints are lower case; these statements have no literals to mask.
  static thread_local std::string fingerprint;
  fingerprint = k.sql ? std::string(k.sql) : std::string();
  for (char& ch : fingerprint) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  f.fingerprint = fingerprint;
  return PlanRoute(f);
}

void RunCases(const std::vector<Case>& cases) {
  for (const Case& k : cases) {
    analyzer::Classification c;
    RouteChoice got = Plan(k, &c);
    EXPECT_EQ(got.replica, k.want_replica)
        << k.label << ": " << (k.sql ? k.sql : "<command>")
        << " class=" << (k.sql ? analyzer::DescribeClassification(c) : "");
    EXPECT_EQ(RouteReasonName(got.reason), RouteReasonName(k.want))
        << k.label << ": " << (k.sql ? k.sql : "<command>")
        << " class=" << (k.sql ? analyzer::DescribeClassification(c) : "");
  }
}

constexpr RouteHint kHintPrimary = RouteHint::kPrimary;
constexpr RouteHint kHintReplica = RouteHint::kReplica;

TEST(RoutePlanner, PlainCases) {
  RunCases({
      {.label = "plain read", .sql = "SELECT * FROM t WHERE id = 1",
       .want_replica = true, .want = RouteReason::kReplicaRead},
      {.label = "show", .sql = "SHOW TABLES", .want_replica = true,
       .want = RouteReason::kReplicaRead},
      {.label = "command", .sql = nullptr, .want = RouteReason::kCommand},
      {.label = "command with replica hint", .sql = nullptr, .hint = kHintReplica,
       .want = RouteReason::kCommand},
      {.label = "command in a READ ONLY transaction", .sql = nullptr,
       .transaction_on_replica = true, .want = RouteReason::kCommand},
  });
}

TEST(RoutePlanner, NotReads) {
  const char* statements[] = {
      "INSERT INTO t (a) VALUES (1)",
      "UPDATE t SET a = 1 WHERE id = 2",
      "DELETE FROM t WHERE id = 2",
      "CREATE TABLE x (a INT)",
      "SELECT * FROM t WHERE id = 1 FOR UPDATE",
      "SELECT * FROM t LOCK IN SHARE MODE",
      "START TRANSACTION",
      "START TRANSACTION READ WRITE",
      "COMMIT",
      "SET @x = 1",
      "SET NAMES utf8mb4",
      "SHOW WARNINGS",
      "SELECT FOUND_ROWS()",
      "CALL proc()",
      "SELECT my_func(1)",
      "CREATE TEMPORARY TABLE tmp (id INT)",
      "SELECT GET_LOCK('job', 10)",
      "LOCK TABLES t READ",
      "PREPARE s FROM 'SELECT 1'",
      "HANDLER t OPEN",
      "SELECT NEXTVAL(s)",
      "SELECT @a := 1",
      "SELECT a INTO @a FROM t WHERE id = 1",
      "FOO BAR",
      "",
  };
  for (const char* sql : statements) {
    RunCases({{.label = "not a read", .sql = sql, .want = RouteReason::kNotARead}});
  }
}

TEST(RoutePlanner, HintPrimaryBeatsEverythingButReadOnlyTransaction) {
  RunCases({
      {.label = "hint primary on a read", .sql = "SELECT 1", .hint = kHintPrimary,
       .want = RouteReason::kHintPrimary},
      {.label = "hint primary over replica rule", .sql = "SELECT 1", .hint = kHintPrimary,
       .rule = RouteTarget::kReplica, .want = RouteReason::kHintPrimary},
      {.label = "hint primary over split off", .sql = "SELECT 1", .hint = kHintPrimary,
       .split = false, .want = RouteReason::kHintPrimary},
      {.label = "hint primary over transaction", .sql = "SELECT 1", .hint = kHintPrimary,
       .in_transaction = true, .want = RouteReason::kHintPrimary},
      {.label = "hint primary over autocommit off", .sql = "SELECT 1", .hint = kHintPrimary,
       .autocommit = false, .want = RouteReason::kHintPrimary},
      {.label = "hint primary over pinned", .sql = "SELECT 1", .hint = kHintPrimary,
       .pinned = true, .want = RouteReason::kHintPrimary},
      {.label = "hint primary over follows-last", .sql = "SHOW WARNINGS", .hint = kHintPrimary,
       .last_on_replica = true, .want = RouteReason::kHintPrimary},
      {.label = "hint primary on a write", .sql = "INSERT INTO t VALUES (1)",
       .hint = kHintPrimary, .want = RouteReason::kHintPrimary},
      {.label = "hint primary inside a READ ONLY transaction", .sql = "SELECT 1",
       .hint = kHintPrimary, .transaction_on_replica = true, .want_replica = true,
       .want = RouteReason::kReadOnlyTransaction},
  });
}

TEST(RoutePlanner, ReadOnlyTransactionKeepsItsReadsAndEndOnTheReplica) {
  // Reads, the statements about the last one, COMMIT/ROLLBACK/savepoints and
  // writes (answered with 1792, as the server would) stay in the transaction.
  const char* stay[] = {
      "SELECT * FROM t", "INSERT INTO t VALUES (1)", "SELECT * FROM t FOR UPDATE",
      "COMMIT",          "ROLLBACK",                 "SAVEPOINT a",
      "ROLLBACK TO a",   "RELEASE SAVEPOINT a",      "START TRANSACTION READ ONLY",
      "CALL p()",        "SELECT my_func(1)",        "FOO BAR",
  };
  for (const char* sql : stay) {
    RunCases({
        {.label = "in RO transaction", .sql = sql, .in_transaction = true,
         .transaction_on_replica = true, .want_replica = true,
         .want = RouteReason::kReadOnlyTransaction},
        {.label = "in RO transaction, recent write, no usable replica", .sql = sql,
         .rule = RouteTarget::kPrimary, .in_transaction = true, .transaction_on_replica = true,
         .autocommit = false, .recent_write = true, .replica_usable = false,
         .want_replica = true, .want = RouteReason::kReadOnlyTransaction},
    });
  }
  RunCases({
      {.label = "SHOW WARNINGS after a read in the transaction", .sql = "SHOW WARNINGS",
       .transaction_on_replica = true, .last_on_replica = true, .want_replica = true,
       .want = RouteReason::kReadOnlyTransaction},
      // A pin taken inside the transaction moves its reads, never its writes.
      {.label = "pinned read", .sql = "SELECT * FROM tmp", .transaction_on_replica = true,
       .pinned = true, .want = RouteReason::kPinned},
      {.label = "pinned write", .sql = "INSERT INTO t VALUES (1)", .transaction_on_replica = true,
       .pinned = true, .want_replica = true, .want = RouteReason::kReadOnlyTransaction},
  });
  // Session state is learned on the primary (and replayed on the replica
  // before its next statement); locks, temporary tables, routines and what
  // ends the transaction implicitly belong to the primary.
  const char* leave[] = {
      "USE reporting",        "SET NAMES latin1",        "SET @a = 1",
      "SET time_zone = '+00:00'", "SELECT GET_LOCK('a', 1)", "CREATE TEMPORARY TABLE tmp (a INT)",
      "BEGIN",                "START TRANSACTION",
      "CREATE TABLE x (a INT)", "LOCK TABLES t READ",    "SELECT LAST_INSERT_ID()",
  };
  for (const char* sql : leave) {
    RunCases({{.label = "leaves the RO transaction", .sql = sql, .transaction_on_replica = true,
               .last_on_replica = true, .want = RouteReason::kNotARead}});
  }
}

TEST(RoutePlanner, WhatEndsAReadOnlyTransaction) {
  analyzer::StatementClassifier classifier;
  for (const char* sql : {"BEGIN", "START TRANSACTION", "START TRANSACTION READ WRITE",
                          "XA START 'x'", "CREATE TABLE x (a INT)", "DROP TABLE x",
                          "LOCK TABLES t READ"}) {
    EXPECT_TRUE(EndsReadOnlyTransaction(classifier.Classify(sql))) << sql;
  }
  for (const char* sql : {"SELECT 1", "COMMIT", "USE db", "SET NAMES utf8mb4", "SAVEPOINT a",
                          "START TRANSACTION READ ONLY", "INSERT INTO t VALUES (1)"}) {
    EXPECT_FALSE(EndsReadOnlyTransaction(classifier.Classify(sql))) << sql;
  }
}

TEST(RoutePlanner, SplitOff) {
  RunCases({
      {.label = "split off", .sql = "SELECT 1", .split = false, .want = RouteReason::kSplitOff},
      {.label = "split off beats replica hint", .sql = "SELECT 1", .hint = kHintReplica,
       .split = false, .want = RouteReason::kSplitOff},
      {.label = "split off beats replica rule", .sql = "SELECT 1", .rule = RouteTarget::kReplica,
       .split = false, .want = RouteReason::kSplitOff},
      {.label = "split off beats transaction", .sql = "SELECT 1", .split = false,
       .in_transaction = true, .want = RouteReason::kSplitOff},
      {.label = "split off on a write", .sql = "INSERT INTO t VALUES (1)", .split = false,
       .want = RouteReason::kSplitOff},
      {.label = "split off beats follows-last", .sql = "SHOW WARNINGS", .split = false,
       .last_on_replica = true, .want = RouteReason::kSplitOff},
  });
}

TEST(RoutePlanner, TransactionAndAutocommit) {
  RunCases({
      {.label = "read in transaction", .sql = "SELECT 1", .in_transaction = true,
       .want = RouteReason::kTransaction},
      {.label = "transaction beats replica hint", .sql = "SELECT 1", .hint = kHintReplica,
       .in_transaction = true, .want = RouteReason::kTransaction},
      {.label = "transaction beats autocommit off", .sql = "SELECT 1", .in_transaction = true,
       .autocommit = false, .want = RouteReason::kTransaction},
      {.label = "transaction beats follows-last", .sql = "SHOW WARNINGS",
       .in_transaction = true, .last_on_replica = true, .want = RouteReason::kTransaction},
      {.label = "write in transaction", .sql = "UPDATE t SET a = 1", .in_transaction = true,
       .want = RouteReason::kTransaction},
      {.label = "autocommit off", .sql = "SELECT 1", .autocommit = false,
       .want = RouteReason::kAutocommitOff},
      {.label = "autocommit off beats replica hint", .sql = "SELECT 1", .hint = kHintReplica,
       .autocommit = false, .want = RouteReason::kAutocommitOff},
      {.label = "autocommit off beats replica rule", .sql = "SELECT 1",
       .rule = RouteTarget::kReplica, .autocommit = false, .want = RouteReason::kAutocommitOff},
      {.label = "autocommit off beats pinned", .sql = "SELECT 1", .autocommit = false,
       .pinned = true, .want = RouteReason::kAutocommitOff},
      {.label = "autocommit off: READ ONLY begin stays too", .sql = "START TRANSACTION READ ONLY",
       .autocommit = false, .want = RouteReason::kAutocommitOff},
      {.label = "autocommit off beats follows-last", .sql = "SELECT FOUND_ROWS()",
       .autocommit = false, .last_on_replica = true, .want = RouteReason::kAutocommitOff},
  });
}

TEST(RoutePlanner, SessionSettingsGoToTheReplicaWhileThePrimaryIsDown) {
  RunCases({
      {.label = "SET NAMES", .sql = "SET NAMES utf8mb4", .primary_down = true,
       .want_replica = true, .want = RouteReason::kPrimaryDown},
      {.label = "autocommit on while off", .sql = "SET autocommit=1", .autocommit = false,
       .primary_down = true, .want_replica = true, .want = RouteReason::kPrimaryDown},
      {.label = "isolation level", .sql = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
       .primary_down = true, .want_replica = true, .want = RouteReason::kPrimaryDown},
      {.label = "session variable", .sql = "SET SESSION wait_timeout = 100",
       .primary_down = true, .want_replica = true, .want = RouteReason::kPrimaryDown},
      {.label = "constant user variable", .sql = "SET @a = 5", .primary_down = true,
       .want_replica = true, .want = RouteReason::kPrimaryDown},
      {.label = "primary up", .sql = "SET NAMES utf8mb4", .want = RouteReason::kNotARead},
      {.label = "no usable replica", .sql = "SET NAMES utf8mb4", .replica_usable = false,
       .primary_down = true, .want = RouteReason::kNotARead},
      {.label = "computed user variable pins", .sql = "SET @a = NOW()", .primary_down = true,
       .want = RouteReason::kNotARead},
      {.label = "sql_log_bin pins", .sql = "SET sql_log_bin = 0", .primary_down = true,
       .want = RouteReason::kNotARead},
      {.label = "pinned session", .sql = "SET NAMES utf8mb4", .pinned = true,
       .primary_down = true, .want = RouteReason::kNotARead},
      {.label = "inside a transaction", .sql = "SET NAMES utf8mb4", .in_transaction = true,
       .primary_down = true, .want = RouteReason::kTransaction},
      {.label = "split off", .sql = "SET NAMES utf8mb4", .split = false, .primary_down = true,
       .want = RouteReason::kSplitOff},
      {.label = "a write stays", .sql = "INSERT INTO t VALUES (1)", .primary_down = true,
       .want = RouteReason::kNotARead},
      {.label = "USE stays (the schema is learned on the primary)", .sql = "USE app",
       .primary_down = true, .want = RouteReason::kNotARead},
      {.label = "reads still read", .sql = "SELECT 1", .primary_down = true,
       .want_replica = true, .want = RouteReason::kReplicaRead},
      // Not recorded, so never replayed on the primary: they stay there.
      {.label = "prepared SET (values are parameters)", .sql = "SET SESSION wait_timeout = 100",
       .primary_down = true, .prepared = true, .want = RouteReason::kNotARead},
      {.label = "history full", .sql = "SET SESSION wait_timeout = 100", .primary_down = true,
       .history_full = true, .want = RouteReason::kNotARead},
      {.label = "next transaction only", .sql = "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
       .primary_down = true, .want = RouteReason::kNotARead},
      // COM_PING follows the session's reads to the replica.
      {.label = "ping", .primary_down = true, .ping = true, .want_replica = true,
       .want = RouteReason::kCommand},
      {.label = "ping, primary up", .ping = true, .want = RouteReason::kCommand},
      {.label = "ping in a transaction", .in_transaction = true, .primary_down = true,
       .ping = true, .want = RouteReason::kCommand},
      {.label = "ping of a pinned session", .pinned = true, .primary_down = true, .ping = true,
       .want = RouteReason::kCommand},
      {.label = "other commands stay", .primary_down = true, .want = RouteReason::kCommand},
  });
}

TEST(RoutePlanner, FollowsLastStatement) {
  const char* about_last[] = {"SHOW WARNINGS", "show errors", "SELECT FOUND_ROWS()",
                              "SELECT ROW_COUNT()", "SELECT @@warning_count"};
  for (const char* sql : about_last) {
    RunCases({
        {.label = "last statement ran on the replica", .sql = sql, .last_on_replica = true,
         .want_replica = true, .want = RouteReason::kFollowsLastStatement},
        {.label = "follows-last beats pinned and recent write", .sql = sql, .pinned = true,
         .recent_write = true, .last_on_replica = true, .want_replica = true,
         .want = RouteReason::kFollowsLastStatement},
        {.label = "last statement ran on the primary", .sql = sql,
         .want = RouteReason::kNotARead},
        {.label = "replica hint does not lift it without the last statement", .sql = sql,
         .hint = kHintReplica, .want = RouteReason::kNotARead},
    });
  }
  RunCases({
      // Only statements whose sole reason is "about the last statement" follow it.
      {.label = "plain read still plain", .sql = "SELECT 1", .last_on_replica = true,
       .want_replica = true, .want = RouteReason::kReplicaRead},
      {.label = "write with last-statement info", .sql = "INSERT INTO t VALUES (LAST_INSERT_ID())",
       .last_on_replica = true, .want = RouteReason::kNotARead},
      {.label = "last-statement info plus user lock", .sql = "SELECT FOUND_ROWS(), GET_LOCK('a', 1)",
       .last_on_replica = true, .want = RouteReason::kNotARead},
      {.label = "last-statement info into a variable", .sql = "SET @id = ROW_COUNT()",
       .last_on_replica = true, .want = RouteReason::kNotARead},
      {.label = "write", .sql = "UPDATE t SET a = 1", .last_on_replica = true,
       .want = RouteReason::kNotARead},
  });
}

// Regression (route_planner.cc AboutLastWrite): LAST_INSERT_ID(), @@identity and @@last_insert_id are
// not about the previous statement but about the last INSERT the connection
// ran, which is always on the primary. After INSERT (primary), SELECT 1
// (replica), SELECT LAST_INSERT_ID() now follows the SELECT 1 to the replica
// and returns 0 there instead of the inserted id. These must stay on the
// primary; the classifier lumps them with FOUND_ROWS()/SHOW WARNINGS, so the
// planner cannot tell them apart.
TEST(RoutePlanner, LastInsertIdStaysOnPrimaryEvenAfterAReplicaRead) {
  const char* per_connection[] = {"SELECT LAST_INSERT_ID()", "SELECT @@identity",
                                  "SELECT @@last_insert_id"};
  for (const char* sql : per_connection) {
    RunCases({{.label = "last insert id is the primary's", .sql = sql,
               .last_on_replica = true, .want = RouteReason::kNotARead}});
  }
}

TEST(RoutePlanner, Pinned) {
  RunCases({
      {.label = "pinned read", .sql = "SELECT 1", .pinned = true, .want = RouteReason::kPinned},
      {.label = "pinned beats replica hint", .sql = "SELECT 1", .hint = kHintReplica,
       .pinned = true, .want = RouteReason::kPinned},
      {.label = "pinned beats replica rule", .sql = "SELECT 1", .rule = RouteTarget::kReplica,
       .pinned = true, .want = RouteReason::kPinned},
      {.label = "pinned beats primary rule", .sql = "SELECT 1", .rule = RouteTarget::kPrimary,
       .pinned = true, .want = RouteReason::kPinned},
      {.label = "pinned beats recent write", .sql = "SELECT 1", .pinned = true,
       .recent_write = true, .want = RouteReason::kPinned},
      {.label = "pinned beats no usable replica", .sql = "SELECT 1", .pinned = true,
       .replica_usable = false, .want = RouteReason::kPinned},
      {.label = "pinned READ ONLY begin", .sql = "START TRANSACTION READ ONLY", .pinned = true,
       .want = RouteReason::kPinned},
      {.label = "pinned write is just not a read", .sql = "INSERT INTO t VALUES (1)",
       .pinned = true, .want = RouteReason::kNotARead},
      {.label = "pinned lifted routine", .sql = "SELECT my_func(1)", .hint = kHintReplica,
       .pinned = true, .want = RouteReason::kPinned},
  });
}

TEST(RoutePlanner, RulesHintsAndRecentWrites) {
  RunCases({
      {.label = "rule primary", .sql = "SELECT 1", .rule = RouteTarget::kPrimary,
       .want = RouteReason::kRulePrimary},
      {.label = "rule primary beats replica hint", .sql = "SELECT 1", .hint = kHintReplica,
       .rule = RouteTarget::kPrimary, .want = RouteReason::kRulePrimary},
      {.label = "rule primary beats recent write", .sql = "SELECT 1",
       .rule = RouteTarget::kPrimary, .recent_write = true, .want = RouteReason::kRulePrimary},
      {.label = "rule primary on a write is not a read", .sql = "DELETE FROM t",
       .rule = RouteTarget::kPrimary, .want = RouteReason::kNotARead},
      {.label = "recent write", .sql = "SELECT 1", .recent_write = true,
       .want = RouteReason::kRecentWrite},
      {.label = "recent write beats replica rule", .sql = "SELECT 1",
       .rule = RouteTarget::kReplica, .recent_write = true, .want = RouteReason::kRecentWrite},
      {.label = "replica hint beats recent write", .sql = "SELECT 1", .hint = kHintReplica,
       .recent_write = true, .want_replica = true, .want = RouteReason::kHintReplica},
      {.label = "recent write beats no usable replica", .sql = "SELECT 1", .recent_write = true,
       .replica_usable = false, .want = RouteReason::kRecentWrite},
      {.label = "recent write holds back READ ONLY begin", .sql = "START TRANSACTION READ ONLY",
       .recent_write = true, .want = RouteReason::kRecentWrite},
      {.label = "no usable replica", .sql = "SELECT 1", .replica_usable = false,
       .want = RouteReason::kNoUsableReplica},
      {.label = "replica hint, no usable replica", .sql = "SELECT 1", .hint = kHintReplica,
       .replica_usable = false, .want = RouteReason::kNoUsableReplica},
      {.label = "replica rule, no usable replica", .sql = "SELECT 1",
       .rule = RouteTarget::kReplica, .replica_usable = false,
       .want = RouteReason::kNoUsableReplica},
      {.label = "lifted routine, no usable replica", .sql = "CALL proc()", .hint = kHintReplica,
       .replica_usable = false, .want = RouteReason::kNoUsableReplica},
      {.label = "replica hint", .sql = "SELECT 1", .hint = kHintReplica, .want_replica = true,
       .want = RouteReason::kHintReplica},
      {.label = "replica rule", .sql = "SELECT 1", .rule = RouteTarget::kReplica,
       .want_replica = true, .want = RouteReason::kRuleReplica},
      {.label = "hint named before rule", .sql = "SELECT 1", .hint = kHintReplica,
       .rule = RouteTarget::kReplica, .want_replica = true, .want = RouteReason::kHintReplica},
  });
}

TEST(RoutePlanner, ReplicaHintAndRuleLiftStoredRoutineReadsOnly) {
  // Reads the classifier keeps on the primary only because it cannot see
  // inside a routine: an explicit hint or rule may send them to a replica.
  const char* liftable[] = {"SELECT my_func(1)", "SELECT shop.order_total(7)",
                            "SELECT a FROM t WHERE my_udf(a) > 1"};
  for (const char* sql : liftable) {
    RunCases({
        {.label = "routine without hint", .sql = sql, .want = RouteReason::kNotARead},
        {.label = "routine with replica hint", .sql = sql, .hint = kHintReplica,
         .want_replica = true, .want = RouteReason::kHintReplica},
        {.label = "routine with replica rule", .sql = sql, .rule = RouteTarget::kReplica,
         .want_replica = true, .want = RouteReason::kRuleReplica},
        {.label = "routine, replica rule, recent write", .sql = sql,
         .rule = RouteTarget::kReplica, .recent_write = true,
         .want = RouteReason::kRecentWrite},
        {.label = "routine, replica hint, recent write", .sql = sql, .hint = kHintReplica,
         .recent_write = true, .want_replica = true, .want = RouteReason::kHintReplica},
    });
  }
  // CALL and compound statements: a hint on the one statement may lift them,
  // a rule (matching many statements) never does.
  for (const char* sql : {"CALL proc()", "BEGIN NOT ATOMIC SELECT 1; END"}) {
    RunCases({
        {.label = "procedural with replica hint", .sql = sql, .hint = kHintReplica,
         .want_replica = true, .want = RouteReason::kHintReplica},
        {.label = "procedural with replica rule", .sql = sql, .rule = RouteTarget::kReplica,
         .want = RouteReason::kNotARead},
    });
  }
  // Writes, locking reads and anything with another tie to the primary never move.
  const char* never[] = {
      "INSERT INTO t VALUES (1)",
      "UPDATE t SET a = my_func(a)",
      "SELECT * FROM t WHERE id = 1 FOR UPDATE",
      "SELECT my_func(1), GET_LOCK('a', 1)",
      "SELECT GET_LOCK('job', 10)",
      "SELECT @a := my_func(1)",
      "SELECT my_func(1) INTO @a",
      "SELECT NEXTVAL(s)",
      "CREATE TEMPORARY TABLE tmp (id INT)",
      "CREATE TABLE x (a INT)",
      "SET @x = 1",
      "LOCK TABLES t READ",
      "PREPARE s FROM 'SELECT 1'",
      "HANDLER t OPEN",
      "START TRANSACTION",
      "SHOW WARNINGS",
      "FOO BAR",
  };
  for (const char* sql : never) {
    RunCases({
        {.label = "never lifted by hint", .sql = sql, .hint = kHintReplica,
         .want = RouteReason::kNotARead},
        {.label = "never lifted by rule", .sql = sql, .rule = RouteTarget::kReplica,
         .want = RouteReason::kNotARead},
    });
  }
}

// Regression (analyzer/statement_classifier.cc): a locking read that also
// calls a stored function once classified as primary_only:stored_routine, the strongest
// class, and the locking part leaves no trace (FOR UPDATE is not a
// PrimaryReason). LiftableToReplica then sees only kStoredRoutine and a
// replica hint or rule sends the FOR UPDATE to a replica, while the same
// statement without the function call stays on the primary. The same holds
// for a multi-statement text that has a routine call and a locking read.
TEST(RoutePlanner, LockingReadWithRoutineIsNeverLifted) {
  const char* locking[] = {
      "SELECT my_func(1) FROM t FOR UPDATE",
      "SELECT my_func(a) FROM t WHERE id = 1 LOCK IN SHARE MODE",
      "SELECT my_func(1); SELECT * FROM t FOR UPDATE",
  };
  for (const char* sql : locking) {
    RunCases({
        {.label = "locking read never lifted by hint", .sql = sql, .hint = kHintReplica,
         .want = RouteReason::kNotARead},
        {.label = "locking read never lifted by rule", .sql = sql, .rule = RouteTarget::kReplica,
         .want = RouteReason::kNotARead},
    });
  }
}

TEST(RoutePlanner, ReadOnlyBegin) {
  RunCases({
      {.label = "READ ONLY begin", .sql = "START TRANSACTION READ ONLY", .want_replica = true,
       .want = RouteReason::kReadOnlyTransaction},
      {.label = "READ ONLY begin, lower case", .sql = "start transaction read only",
       .want_replica = true, .want = RouteReason::kReadOnlyTransaction},
      {.label = "consistent snapshot, READ ONLY",
       .sql = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", .want_replica = true,
       .want = RouteReason::kReadOnlyTransaction},
      {.label = "READ ONLY begin with more statements",
       .sql = "START TRANSACTION READ ONLY; SELECT * FROM t", .want = RouteReason::kNotARead},
      {.label = "READ WRITE begin", .sql = "START TRANSACTION READ WRITE",
       .want = RouteReason::kNotARead},
      {.label = "plain begin", .sql = "BEGIN", .want = RouteReason::kNotARead},
      {.label = "READ ONLY begin, no usable replica", .sql = "START TRANSACTION READ ONLY",
       .replica_usable = false, .want = RouteReason::kNoUsableReplica},
      {.label = "READ ONLY begin, primary rule", .sql = "START TRANSACTION READ ONLY",
       .rule = RouteTarget::kPrimary, .want = RouteReason::kRulePrimary},
      {.label = "READ ONLY begin, replica hint", .sql = "START TRANSACTION READ ONLY",
       .hint = kHintReplica, .want_replica = true, .want = RouteReason::kHintReplica},
      {.label = "READ ONLY begin inside a primary transaction",
       .sql = "START TRANSACTION READ ONLY", .in_transaction = true,
       .want = RouteReason::kTransaction},
  });
}

TEST(RoutePlanner, EveryReasonIsReachable) {
  // One situation per reason, so a new reason without a rule shows up here.
  const std::vector<Case> one_each = {
      {.label = "", .sql = "SELECT 1", .want_replica = true, .want = RouteReason::kReplicaRead},
      {.label = "", .sql = "INSERT INTO t VALUES (1)", .want = RouteReason::kNotARead},
      {.label = "", .sql = "SELECT 1", .in_transaction = true, .want = RouteReason::kTransaction},
      {.label = "", .sql = "SELECT 1", .autocommit = false, .want = RouteReason::kAutocommitOff},
      {.label = "", .sql = "SELECT 1", .transaction_on_replica = true, .want_replica = true,
       .want = RouteReason::kReadOnlyTransaction},
      {.label = "", .sql = "SELECT 1", .pinned = true, .want = RouteReason::kPinned},
      {.label = "", .sql = "SELECT 1", .recent_write = true, .want = RouteReason::kRecentWrite},
      {.label = "", .sql = "SELECT 1", .hint = kHintPrimary, .want = RouteReason::kHintPrimary},
      {.label = "", .sql = "SELECT 1", .hint = kHintReplica, .want_replica = true,
       .want = RouteReason::kHintReplica},
      {.label = "", .sql = "SELECT 1", .rule = RouteTarget::kPrimary,
       .want = RouteReason::kRulePrimary},
      {.label = "", .sql = "SELECT 1", .rule = RouteTarget::kReplica, .want_replica = true,
       .want = RouteReason::kRuleReplica},
      {.label = "", .sql = "SELECT 1", .replica_usable = false,
       .want = RouteReason::kNoUsableReplica},
      {.label = "", .sql = "SELECT 1", .split = false, .want = RouteReason::kSplitOff},
      {.label = "", .sql = nullptr, .want = RouteReason::kCommand},
      {.label = "", .sql = "SHOW WARNINGS", .last_on_replica = true, .want_replica = true,
       .want = RouteReason::kFollowsLastStatement},
  };
  RunCases(one_each);
  std::set<std::string_view> names;
  for (const Case& k : one_each) names.insert(RouteReasonName(k.want));
  EXPECT_EQ(names.size(), 15u);
  EXPECT_EQ(names.count("unknown"), 0u);
}

TEST(RoutePlanner, ReasonNames) {
  EXPECT_EQ(RouteReasonName(RouteReason::kReplicaRead), "read");
  EXPECT_EQ(RouteReasonName(RouteReason::kNotARead), "not_a_read");
  EXPECT_EQ(RouteReasonName(RouteReason::kTransaction), "transaction");
  EXPECT_EQ(RouteReasonName(RouteReason::kAutocommitOff), "autocommit_off");
  EXPECT_EQ(RouteReasonName(RouteReason::kReadOnlyTransaction), "read_only_transaction");
  EXPECT_EQ(RouteReasonName(RouteReason::kPinned), "pinned");
  EXPECT_EQ(RouteReasonName(RouteReason::kRecentWrite), "recent_write");
  EXPECT_EQ(RouteReasonName(RouteReason::kHintPrimary), "hint_primary");
  EXPECT_EQ(RouteReasonName(RouteReason::kHintReplica), "hint_replica");
  EXPECT_EQ(RouteReasonName(RouteReason::kRulePrimary), "rule_primary");
  EXPECT_EQ(RouteReasonName(RouteReason::kRuleReplica), "rule_replica");
  EXPECT_EQ(RouteReasonName(RouteReason::kNoUsableReplica), "no_usable_replica");
  EXPECT_EQ(RouteReasonName(RouteReason::kSplitOff), "split_off");
  EXPECT_EQ(RouteReasonName(RouteReason::kCommand), "command");
  EXPECT_EQ(RouteReasonName(RouteReason::kFollowsLastStatement), "follows_last_statement");
  EXPECT_EQ(RouteReasonName(RouteReason::kPrimaryDown), "primary_down");
  EXPECT_EQ(RouteReasonName(RouteReason(200)), "unknown");

  std::set<std::string_view> pin_names;
  for (int i = 0; i < kPinReasonCount; ++i) {
    std::string_view name = PinReasonName(PinReason(i));
    EXPECT_NE(name, "unknown") << i;
    pin_names.insert(name);
  }
  EXPECT_EQ(pin_names.size(), size_t(kPinReasonCount));
  EXPECT_EQ(PinReasonName(PinReason::kTemporaryTable), "temporary_table");
  EXPECT_EQ(PinReasonName(PinReason::kSessionHistory), "session_history");
  EXPECT_EQ(PinReasonName(PinReason(kPinReasonCount)), "unknown");
}

// PinsAfter ----------------------------------------------------------------

PinReasons PinsOf(std::string_view sql) {
  analyzer::StatementClassifier classifier;
  return PinsAfter(classifier.Classify(sql));
}

TEST(RoutePlannerPins, EachKind) {
  struct PinCase {
    const char* sql;
    PinReasons want;
  };
  const PinCase cases[] = {
      {"CREATE TEMPORARY TABLE tmp (id INT)", {PinReason::kTemporaryTable}},
      {"DROP TEMPORARY TABLE IF EXISTS tmp", {PinReason::kTemporaryTable}},
      {"SELECT GET_LOCK('job', 10)", {PinReason::kUserLock}},
      {"DO GET_LOCK('job', 0)", {PinReason::kUserLock}},
      {"LOCK TABLES t READ, u WRITE", {PinReason::kLockTables}},
      // The session removes the pin on UNLOCK TABLES itself; PinsAfter only reports the reason.
      {"UNLOCK TABLES", {PinReason::kLockTables}},
      {"PREPARE s FROM 'SELECT * FROM t WHERE id = ?'", {PinReason::kPreparedStatement}},
      {"EXECUTE s USING @id", {PinReason::kPreparedStatement}},
      {"HANDLER t OPEN", {PinReason::kHandler}},
      {"SELECT NEXTVAL(s)", {PinReason::kSequence}},
      {"INSERT INTO t (id, a) VALUES (NEXT VALUE FOR s, 1)", {PinReason::kSequence}},
      // Constants are replayed (no pin); values the server computes pin.
      {"SET @n = @n + 1", {PinReason::kUserVariable}},
      {"SET @t = NOW()", {PinReason::kUserVariable}},
      {"SET @a = 1, @b = @a", {PinReason::kUserVariable}},
      {"SET @c = (SELECT COUNT(*) FROM t)", {PinReason::kUserVariable}},
      {"SET @s = 'x' COLLATE utf8mb4_bin", {PinReason::kUserVariable}},
      {"SET @id = LAST_INSERT_ID()", {PinReason::kUserVariable}},
      {"SET @a = 1; INSERT INTO t VALUES (1)", {PinReason::kUserVariable}},
      {"CALL p(@out)", {PinReason::kStoredRoutine}},
      {"CALL proc()", {PinReason::kStoredRoutine}},
      {"BEGIN NOT ATOMIC CREATE TEMPORARY TABLE tmp (a INT); END", {PinReason::kStoredRoutine}},
      {"SELECT a INTO @a FROM t WHERE id = 1", {PinReason::kUserVariable}},
      {"SELECT @rownum := @rownum + 1 AS n, a FROM t", {PinReason::kUserVariable}},
      {"UPDATE t SET a = (@x := @x + 1)", {PinReason::kUserVariable}},
      {"CREATE TEMPORARY TABLE x (a INT); SELECT GET_LOCK('a', 1)",
       {PinReason::kTemporaryTable, PinReason::kUserLock}},
  };
  for (const PinCase& k : cases) {
    EXPECT_EQ(PinsOf(k.sql).bits(), k.want.bits()) << k.sql;
  }
}

TEST(RoutePlannerPins, NothingPinsForOrdinaryStatements) {
  const char* statements[] = {
      "SELECT 1",          "INSERT INTO t VALUES (1)", "SELECT * FROM t FOR UPDATE",
      "SET @x = 1",        "SELECT my_func(1)",        "SHOW WARNINGS",
      "SET @a := 1, @b = 'x', @c = NULL, @d = -2.5e3, @e = TRUE", "SET @h = X'1F', @u = _utf8mb4'é'",
      "SELECT FOUND_ROWS()", "SET NAMES utf8mb4",      "SET autocommit = 0",
      "SET SESSION sql_mode = 'ANSI'", "START TRANSACTION READ ONLY", "COMMIT",
      "CREATE TABLE x (a INT)", "FOO BAR",
  };
  for (const char* sql : statements) {
    EXPECT_TRUE(PinsOf(sql).empty()) << sql << " pins " << PinsOf(sql).bits();
  }
  // Session history overflow is the session's decision, never a statement's.
  for (const char* sql : statements) EXPECT_FALSE(PinsOf(sql).Has(PinReason::kSessionHistory));
}

// FindRouteHint -----------------------------------------------------------

TEST(RoutePlannerHint, Finds) {
  EXPECT_EQ(FindRouteHint("/* querylens:primary */ SELECT 1"), RouteHint::kPrimary);
  EXPECT_EQ(FindRouteHint("/* querylens:replica */ SELECT 1"), RouteHint::kReplica);
  EXPECT_EQ(FindRouteHint("SELECT 1 /* querylens:replica */"), RouteHint::kReplica);
  EXPECT_EQ(FindRouteHint("SELECT 1 -- querylens:primary"), RouteHint::kPrimary);
  EXPECT_EQ(FindRouteHint("SELECT /*querylens:replica*/ 1"), RouteHint::kReplica);
  EXPECT_EQ(FindRouteHint("SELECT 1 # querylens:replica"), RouteHint::kReplica);
  // Outside a comment it is the application's data, not a hint.
  EXPECT_EQ(FindRouteHint("SELECT * FROM posts WHERE body LIKE '%querylens:replica%'"),
            RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("SELECT /* x */ 'querylens:primary'"), RouteHint::kNone);
  // Linear time on large values full of the tag (a 64 MiB blob must not stall a worker).
  std::string blob = "INSERT INTO t VALUES ('";
  for (int i = 0; i < 200000; ++i) blob += "querylens:replica /* ";
  blob += "')";
  EXPECT_EQ(FindRouteHint(blob), RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("SELECT 1 -- x\n, 'querylens:primary'"), RouteHint::kNone);
  // The target word ignores case.
  EXPECT_EQ(FindRouteHint("/* querylens:PRIMARY */ SELECT 1"), RouteHint::kPrimary);
  EXPECT_EQ(FindRouteHint("/* querylens:Replica */ SELECT 1"), RouteHint::kReplica);
  // A prefix match: more after the word does not matter.
  EXPECT_EQ(FindRouteHint("/* querylens:replica,reason=report */ SELECT 1"),
            RouteHint::kReplica);
}

// Hints ignore case, the tag included: /* QUERYLENS:primary */ is a hint.
TEST(RoutePlannerHint, TagCaseIsIgnored) {
  EXPECT_EQ(FindRouteHint("/* QUERYLENS:primary */ SELECT 1"), RouteHint::kPrimary);
  EXPECT_EQ(FindRouteHint("/* QueryLens:Replica */ SELECT 1"), RouteHint::kReplica);
}

TEST(RoutePlannerHint, NoneAndEdges) {
  EXPECT_EQ(FindRouteHint(""), RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("SELECT 1"), RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("querylens:"), RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("SELECT 1 /* querylens:"), RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("SELECT 1 /* querylens:prim"), RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("/* querylens: primary */ SELECT 1"), RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("/* querylens:master */ SELECT 1"), RouteHint::kNone);
  EXPECT_EQ(FindRouteHint("/* querylens primary */ SELECT 1"), RouteHint::kNone);
  // An unknown target first, a valid one later: the later one counts.
  EXPECT_EQ(FindRouteHint("/* querylens:other */ SELECT 1 /* querylens:replica */"),
            RouteHint::kReplica);
  // The first valid hint wins.
  EXPECT_EQ(FindRouteHint("/* querylens:replica */ SELECT /* querylens:primary */ 1"),
            RouteHint::kReplica);
  EXPECT_EQ(FindRouteHint("/* querylens:primary */ SELECT /* querylens:replica */ 1"),
            RouteHint::kPrimary);
  // Not NUL-terminated: a view into a longer buffer stops at its end.
  std::string buffer = "SELECT 1 /* querylens:replica */";
  EXPECT_EQ(FindRouteHint(std::string_view(buffer).substr(0, buffer.size() - 6)),
            RouteHint::kNone);
}

}  // namespace
}  // namespace ql::proxy
