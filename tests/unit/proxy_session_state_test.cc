// Tests for proxy/session_state: the SET history (order, duplicates, limit),
// the sync plan for connections in every state (fresh, synced, partly
// synced, after a reorder, after COM_RESET_CONNECTION of a pooled
// connection, after a session reset), and SetNamesForCollation.
#include "proxy/session_state.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ql::proxy {
namespace {

// A plan as readable strings: "db:shop", "q:SET ...", "opt:0".
std::vector<std::string> Describe(const std::vector<SyncStep>& steps) {
  std::vector<std::string> out;
  for (const SyncStep& s : steps) {
    switch (s.kind) {
      case SyncStep::Kind::kInitDb: out.push_back("db:" + s.text); break;
      case SyncStep::Kind::kQuery: out.push_back("q:" + s.text); break;
      case SyncStep::Kind::kSetOption: out.push_back("opt:" + std::to_string(s.option)); break;
    }
  }
  return out;
}

std::vector<std::string> Plan(const SessionState& s, const AppliedState& a, bool autocommit) {
  std::vector<SyncStep> steps;
  s.PlanSync(a, autocommit, &steps);
  return Describe(steps);
}

using Steps = std::vector<std::string>;

constexpr uint8_t kUtf8mb4GeneralCi = 45;

TEST(SessionState, ResetSetsTheBasics) {
  SessionState s;
  s.Reset("shop", kUtf8mb4GeneralCi);
  EXPECT_EQ(s.schema(), "shop");
  EXPECT_EQ(s.collation_id(), kUtf8mb4GeneralCi);
  EXPECT_TRUE(s.autocommit());
  EXPECT_EQ(s.history_size(), 0u);

  s.SetAutocommit(false);
  s.SetSchema("other");
  s.SetMultiStatements(true);
  ASSERT_TRUE(s.RecordSet("SET sql_mode = 'ANSI'"));
  s.Reset("", 8);
  EXPECT_EQ(s.schema(), "");
  EXPECT_EQ(s.collation_id(), 8);
  EXPECT_TRUE(s.autocommit());
  EXPECT_EQ(s.history_size(), 0u);
  // Multi-statements back to "as negotiated": nothing to set on a fresh connection.
  EXPECT_EQ(Plan(s, AppliedState{}, true), Steps{});
}

TEST(SessionState, FreshConnection) {
  SessionState s;
  s.Reset("shop", kUtf8mb4GeneralCi);
  AppliedState fresh;  // as a new connection logged in without a schema
  EXPECT_EQ(Plan(s, fresh, true), (Steps{"db:shop"}));
  // A connection that logged in with the schema needs nothing.
  fresh.schema = "shop";
  EXPECT_EQ(Plan(s, fresh, true), Steps{});
  // No schema in the session: none to send.
  SessionState empty;
  empty.Reset("", kUtf8mb4GeneralCi);
  EXPECT_EQ(Plan(empty, AppliedState{}, true), Steps{});
}

TEST(SessionState, FreshConnectionReplaysHistoryThenAutocommit) {
  SessionState s;
  s.Reset("shop", kUtf8mb4GeneralCi);
  ASSERT_TRUE(s.RecordSet("SET sql_mode = 'ANSI'"));
  ASSERT_TRUE(s.RecordSet("SET time_zone = '+00:00'"));
  EXPECT_EQ(s.history_size(), 2u);
  AppliedState fresh;
  EXPECT_EQ(Plan(s, fresh, true),
            (Steps{"db:shop", "q:SET sql_mode = 'ANSI'", "q:SET time_zone = '+00:00'",
                   "q:SET autocommit=1"}));
  EXPECT_EQ(Plan(s, fresh, false),
            (Steps{"db:shop", "q:SET sql_mode = 'ANSI'", "q:SET time_zone = '+00:00'",
                   "q:SET autocommit=0"}));
}

TEST(SessionState, AutocommitSettledLastAfterReplay) {
  // A replayed SET may itself change autocommit: the wanted value comes last.
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  ASSERT_TRUE(s.RecordSet("SET autocommit = 0, sql_mode = ''"));
  const Steps plan = Plan(s, AppliedState{}, true);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan.front(), "q:SET autocommit = 0, sql_mode = ''");
  EXPECT_EQ(plan.back(), "q:SET autocommit=1");
}

TEST(SessionState, AutocommitOnly) {
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  AppliedState a;  // autocommit 1
  EXPECT_EQ(Plan(s, a, true), Steps{});
  EXPECT_EQ(Plan(s, a, false), (Steps{"q:SET autocommit=0"}));
  a.autocommit = 0;
  EXPECT_EQ(Plan(s, a, false), Steps{});
  EXPECT_EQ(Plan(s, a, true), (Steps{"q:SET autocommit=1"}));
  a.autocommit = -1;  // unknown: always said
  EXPECT_EQ(Plan(s, a, true), (Steps{"q:SET autocommit=1"}));
  EXPECT_EQ(Plan(s, a, false), (Steps{"q:SET autocommit=0"}));
}

TEST(SessionState, MarkSyncedEmptiesThePlan) {
  SessionState s;
  s.Reset("shop", 224);
  s.SetMultiStatements(true);
  ASSERT_TRUE(s.RecordSet("SET sql_mode = 'ANSI'"));
  AppliedState a;
  a.charset_known = false;
  a.schema_known = false;
  a.autocommit = -1;
  EXPECT_FALSE(Plan(s, a, false).empty());
  s.MarkSynced(&a, false);
  EXPECT_TRUE(a.charset_known);
  EXPECT_TRUE(a.schema_known);
  EXPECT_EQ(a.schema, "shop");
  EXPECT_EQ(a.multi_statements, 1);
  EXPECT_EQ(a.history_applied, 1u);
  EXPECT_EQ(a.autocommit, 0);
  EXPECT_EQ(Plan(s, a, false), Steps{});
  // Only the autocommit differs when the other value is wanted.
  EXPECT_EQ(Plan(s, a, true), (Steps{"q:SET autocommit=1"}));
  s.MarkSynced(&a, true);
  EXPECT_EQ(Plan(s, a, true), Steps{});
}

TEST(SessionState, MarkSyncedKeepsMultiStatementsWhenNeverSet) {
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  AppliedState a;
  a.multi_statements = 0;
  s.MarkSynced(&a, true);
  EXPECT_EQ(a.multi_statements, 0);  // the session never chose: the connection's stays
}

TEST(SessionState, PartiallySynced) {
  SessionState s;
  s.Reset("shop", kUtf8mb4GeneralCi);
  ASSERT_TRUE(s.RecordSet("SET a = 1"));
  AppliedState a;
  s.MarkSynced(&a, true);
  ASSERT_TRUE(s.RecordSet("SET b = 2"));
  ASSERT_TRUE(s.RecordSet("SET c = 3"));
  // Only what the connection has not seen, then autocommit.
  EXPECT_EQ(Plan(s, a, true), (Steps{"q:SET b = 2", "q:SET c = 3", "q:SET autocommit=1"}));
  s.MarkSynced(&a, true);
  EXPECT_EQ(Plan(s, a, true), Steps{});
  EXPECT_EQ(a.history_applied, 3u);
}

TEST(SessionState, DuplicateMovesToTheEndAndReplaysAll) {
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  ASSERT_TRUE(s.RecordSet("SET a = 1"));
  ASSERT_TRUE(s.RecordSet("SET b = 2"));
  AppliedState synced;
  s.MarkSynced(&synced, true);
  // Repeating the first: still two entries, now last (its value wins).
  ASSERT_TRUE(s.RecordSet("SET a = 1"));
  EXPECT_EQ(s.history_size(), 2u);
  EXPECT_EQ(Plan(s, AppliedState{}, true),
            (Steps{"q:SET b = 2", "q:SET a = 1", "q:SET autocommit=1"}));
  // A connection synced before the reorder gets the whole history again, in
  // the new order, not an index into the old one.
  EXPECT_EQ(Plan(s, synced, true),
            (Steps{"q:SET b = 2", "q:SET a = 1", "q:SET autocommit=1"}));
  s.MarkSynced(&synced, true);
  EXPECT_EQ(Plan(s, synced, true), Steps{});
}

TEST(SessionState, DuplicateOfTheLastIsKeptOnce) {
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  ASSERT_TRUE(s.RecordSet("SET a = 1"));
  ASSERT_TRUE(s.RecordSet("SET a = 1"));
  EXPECT_EQ(s.history_size(), 1u);
  EXPECT_EQ(Plan(s, AppliedState{}, true), (Steps{"q:SET a = 1", "q:SET autocommit=1"}));
}

TEST(SessionState, HistoryLimit) {
  SessionState s(2);
  s.Reset("", kUtf8mb4GeneralCi);
  EXPECT_TRUE(s.RecordSet("SET a = 1"));
  EXPECT_TRUE(s.RecordSet("SET b = 2"));
  EXPECT_FALSE(s.RecordSet("SET c = 3"));  // full: not kept, the caller pins
  EXPECT_EQ(s.history_size(), 2u);
  // A repeat is not new: it still moves to the end while full.
  EXPECT_TRUE(s.RecordSet("SET a = 1"));
  EXPECT_EQ(s.history_size(), 2u);
  EXPECT_EQ(Plan(s, AppliedState{}, true),
            (Steps{"q:SET b = 2", "q:SET a = 1", "q:SET autocommit=1"}));
  // Reset makes room again.
  s.Reset("", kUtf8mb4GeneralCi);
  EXPECT_TRUE(s.RecordSet("SET c = 3"));

  SessionState none(0);
  none.Reset("", kUtf8mb4GeneralCi);
  EXPECT_FALSE(none.RecordSet("SET a = 1"));
  EXPECT_EQ(none.history_size(), 0u);
}

TEST(SessionState, DefaultHistoryLimitIs64) {
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(s.RecordSet("SET v" + std::to_string(i) + " = 1")) << i;
  }
  EXPECT_FALSE(s.RecordSet("SET v64 = 1"));
  EXPECT_EQ(s.history_size(), 64u);
}

TEST(SessionState, ResetConnectionNeedsCharsetAndSchema) {
  // A pooled connection after COM_RESET_CONNECTION: the charset may be the
  // server default and the schema is the previous user's.
  SessionState s;
  s.Reset("shop", kUtf8mb4GeneralCi);
  AppliedState reused;
  reused.schema = "shop";  // the key said so, but it is not known
  reused.schema_known = false;
  reused.charset_known = false;
  EXPECT_EQ(Plan(s, reused, true),
            (Steps{"q:SET NAMES utf8mb4 COLLATE utf8mb4_general_ci", "db:shop"}));
  s.MarkSynced(&reused, true);
  EXPECT_EQ(Plan(s, reused, true), Steps{});
}

TEST(SessionState, UnknownCollationSendsNoSetNames) {
  SessionState s;
  s.Reset("shop", 200);
  AppliedState reused;
  reused.schema_known = false;
  reused.charset_known = false;
  EXPECT_EQ(Plan(s, reused, true), (Steps{"db:shop"}));
  SessionState zero;
  zero.Reset("", 0);
  EXPECT_EQ(Plan(zero, reused, true), Steps{});
}

TEST(SessionState, CharsetKnownSendsNoSetNames) {
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  AppliedState a;  // charset_known defaults to true
  EXPECT_EQ(Plan(s, a, true), Steps{});
}

TEST(SessionState, SchemaSync) {
  SessionState s;
  s.Reset("shop", kUtf8mb4GeneralCi);
  AppliedState a;
  a.schema = "shop";
  EXPECT_EQ(Plan(s, a, true), Steps{});
  s.SetSchema("billing");  // USE billing on another connection
  EXPECT_EQ(Plan(s, a, true), (Steps{"db:billing"}));
  s.MarkSynced(&a, true);
  EXPECT_EQ(a.schema, "billing");
  EXPECT_EQ(Plan(s, a, true), Steps{});
  a.schema_known = false;
  EXPECT_EQ(Plan(s, a, true), (Steps{"db:billing"}));
}

TEST(SessionState, MultiStatementOption) {
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  AppliedState a;
  EXPECT_EQ(Plan(s, a, true), Steps{});  // never set: as negotiated
  s.SetMultiStatements(false);
  EXPECT_EQ(Plan(s, a, true), (Steps{"opt:1"}));  // MYSQL_OPTION_MULTI_STATEMENTS_OFF
  s.SetMultiStatements(true);
  EXPECT_EQ(Plan(s, a, true), (Steps{"opt:0"}));  // MYSQL_OPTION_MULTI_STATEMENTS_ON
  s.MarkSynced(&a, true);
  EXPECT_EQ(a.multi_statements, 1);
  EXPECT_EQ(Plan(s, a, true), Steps{});
  s.SetMultiStatements(false);
  EXPECT_EQ(Plan(s, a, true), (Steps{"opt:1"}));
}

TEST(SessionState, StepOrder) {
  SessionState s;
  s.Reset("shop", 8);
  s.SetMultiStatements(true);
  ASSERT_TRUE(s.RecordSet("SET sql_mode = ''"));
  AppliedState a;
  a.charset_known = false;
  a.schema_known = false;
  EXPECT_EQ(Plan(s, a, false),
            (Steps{"q:SET NAMES latin1 COLLATE latin1_swedish_ci", "db:shop", "opt:0",
                   "q:SET sql_mode = ''", "q:SET autocommit=0"}));
}

TEST(SessionState, SessionResetReplaysFromTheStart) {
  // A connection synced to the old session must not skip the new session's
  // statements because it had applied as many of the old ones.
  SessionState s;
  s.Reset("shop", kUtf8mb4GeneralCi);
  ASSERT_TRUE(s.RecordSet("SET a = 1"));
  ASSERT_TRUE(s.RecordSet("SET b = 2"));
  AppliedState a;
  s.MarkSynced(&a, true);
  s.Reset("shop", kUtf8mb4GeneralCi);
  EXPECT_EQ(Plan(s, a, true), Steps{});
  ASSERT_TRUE(s.RecordSet("SET c = 3"));
  EXPECT_EQ(Plan(s, a, true), (Steps{"q:SET c = 3", "q:SET autocommit=1"}));
}

TEST(SessionState, PlanClearsTheOutput) {
  SessionState s;
  s.Reset("", kUtf8mb4GeneralCi);
  std::vector<SyncStep> steps = {{SyncStep::Kind::kQuery, "stale"}};
  s.PlanSync(AppliedState{}, true, &steps);
  EXPECT_TRUE(steps.empty());
}

TEST(SessionStateCollation, KnownIds) {
  EXPECT_EQ(SetNamesForCollation(8), "SET NAMES latin1 COLLATE latin1_swedish_ci");
  EXPECT_EQ(SetNamesForCollation(11), "SET NAMES ascii COLLATE ascii_general_ci");
  EXPECT_EQ(SetNamesForCollation(28), "SET NAMES gbk COLLATE gbk_chinese_ci");
  EXPECT_EQ(SetNamesForCollation(33), "SET NAMES utf8 COLLATE utf8_general_ci");
  EXPECT_EQ(SetNamesForCollation(45), "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci");
  EXPECT_EQ(SetNamesForCollation(46), "SET NAMES utf8mb4 COLLATE utf8mb4_bin");
  EXPECT_EQ(SetNamesForCollation(47), "SET NAMES latin1 COLLATE latin1_bin");
  EXPECT_EQ(SetNamesForCollation(48), "SET NAMES latin1 COLLATE latin1_general_ci");
  EXPECT_EQ(SetNamesForCollation(63), "SET NAMES binary");
  EXPECT_EQ(SetNamesForCollation(83), "SET NAMES utf8 COLLATE utf8_bin");
  EXPECT_EQ(SetNamesForCollation(192), "SET NAMES utf8 COLLATE utf8_unicode_ci");
  EXPECT_EQ(SetNamesForCollation(224), "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci");
}

// Regression (session_state.cc kCollations, id 255): MySQL 8 clients send 255
// (utf8mb4_0900_ai_ci), which MariaDB before 11.4 does not know: on the
// lab's MariaDB 10.11 "SET NAMES utf8mb4 COLLATE utf8mb4_0900_ai_ci" fails
// with ERROR 1273 Unknown collation, so syncing a reused pooled connection
// for such a client fails. Plain "SET NAMES utf8mb4" works on both servers
// (and is utf8mb4_0900_ai_ci on MySQL 8, where that is utf8mb4's default).
TEST(SessionStateCollation, MySql8DefaultWorksOnMariaDb) {
  EXPECT_EQ(SetNamesForCollation(255), "SET NAMES utf8mb4");
}

TEST(SessionStateCollation, UnknownIds) {
  for (int id : {0, 1, 2, 9, 44, 64, 200, 254}) {
    EXPECT_EQ(SetNamesForCollation(uint8_t(id)), std::nullopt) << id;
  }
}

}  // namespace
}  // namespace ql::proxy
