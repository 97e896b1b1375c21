// Tests for analyzer/kill_statement: which KILL statements name a connection
// id the proxy must translate, and which it leaves alone.
#include "analyzer/kill_statement.h"

#include "gtest/gtest.h"

namespace ql::analyzer {
namespace {

TEST(KillStatement, ConnectionAndQueryForms) {
  struct Case {
    const char* sql;
    bool query_only;
    uint64_t id;
  };
  for (const Case& c : {Case{"KILL 42", false, 42}, Case{"kill connection 7", false, 7},
                        Case{"KILL QUERY 9", true, 9}, Case{"KILL HARD QUERY 3;", true, 3},
                        Case{"KILL SOFT CONNECTION 4", false, 4},
                        Case{"/* cancel */ KILL /* x */ QUERY 4294967295", true, 4294967295u},
                        Case{"  KILL\n12 ;  ", false, 12},
                        // No connection has it (the answer is 1094, as on the server).
                        Case{"KILL 99999999999", false, 99999999999u}}) {
    std::optional<KillStatement> k = ParseKillStatement(c.sql);
    ASSERT_TRUE(k.has_value()) << c.sql;
    EXPECT_EQ(k->query_only, c.query_only) << c.sql;
    EXPECT_EQ(k->id, c.id) << c.sql;
  }
}

TEST(KillStatement, OtherFormsAreNotAboutAConnectionId) {
  for (const char* sql : {"KILL USER app", "KILL QUERY ID 17", "KILL @id", "KILL ?",
                          "KILL 99999999999999999999", "KILL 1.5", "KILL 12; SELECT 1", "KILL 12 13",
                          "SELECT 'KILL 12'", "KILL", "KILL QUERY", "skill 12", ""}) {
    EXPECT_FALSE(ParseKillStatement(sql).has_value()) << sql;
  }
}

TEST(KillStatement, ByUserOrQueryIdMayGoToAServerAsWritten) {
  for (const char* sql : {"KILL USER app", "KILL HARD CONNECTION USER 'app'@'%'",
                          "KILL QUERY USER app", "KILL QUERY ID 17", "kill soft query id 3"}) {
    EXPECT_TRUE(IsKillByUserOrQueryId(sql)) << sql;
  }
  for (const char* sql : {"KILL 12", "KILL @id", "KILL (5)", "KILL 2+3", "KILL CONNECTION_ID()",
                          "KILL ?", "KILL ID 4", "SELECT 1", "KILL"}) {
    EXPECT_FALSE(IsKillByUserOrQueryId(sql)) << sql;
  }
}

TEST(KillStatement, FingerprintIsKill) {
  for (const char* fp : {"kill ?", "kill(?)", "kill query ? + ?", "kill", "kill ?; select ?"}) {
    EXPECT_TRUE(FingerprintIsKill(fp)) << fp;
  }
  for (const char* fp : {"killer", "kill_switch", "select ?", "", "kil"}) {
    EXPECT_FALSE(FingerprintIsKill(fp)) << fp;
  }
}

}  // namespace
}  // namespace ql::analyzer
