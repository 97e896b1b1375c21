// Tests for analyzer/statement_classifier: the golden statements of
// tests/data/analyzer/classifier.txt (what Django, sysbench and the mariadb
// client send, comments in every position, MariaDB/MySQL syntax), and the
// details a router reads besides the class: routine names, autocommit
// values, statement counts, enum names.
#include "analyzer/statement_classifier.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tests/unit/analyzer_test_util.h"

namespace ql::analyzer {
namespace {

using testutil::ClassifierCase;
using testutil::LoadClassifierCases;

Classification Classify(std::string_view sql) {
  StatementClassifier c;
  return c.Classify(sql);
}

TEST(AnalyzerClassifierGolden, AllCases) {
  const std::vector<ClassifierCase> cases = LoadClassifierCases();
  ASSERT_GE(cases.size(), 200u) << "golden file missing or short: " << QL_TEST_DATA_DIR;
  StatementClassifier classifier;  // one object for all: state must not leak
  for (const ClassifierCase& c : cases) {
    EXPECT_EQ(DescribeClassification(classifier.Classify(c.sql)), c.expected)
        << "classifier.txt:" << c.line << " " << c.sql;
  }
}

TEST(AnalyzerClassifierGolden, StreamingEqualsOneShot) {
  for (const ClassifierCase& c : LoadClassifierCases()) {
    StatementClassifier classifier;
    classifier.Begin();
    SqlTokenizer tokenizer(c.sql);
    Token t;
    while (tokenizer.Next(&t)) classifier.Feed(t);
    EXPECT_EQ(DescribeClassification(classifier.Finish()), c.expected) << c.sql;
  }
}

TEST(AnalyzerClassifierGolden, CoversEveryClass) {
  std::set<std::string> classes;
  for (const ClassifierCase& c : LoadClassifierCases()) {
    classes.insert(c.expected.substr(0, c.expected.find(':')));
  }
  EXPECT_EQ(classes, (std::set<std::string>{"read", "locking_read", "write", "ddl", "transaction",
                                            "session", "primary_only", "unknown"}));
}

TEST(AnalyzerClassifier, ReplicaEligibility) {
  EXPECT_TRUE(Classify("SELECT c FROM sbtest1 WHERE id=?").ReplicaEligible());
  EXPECT_TRUE(Classify("SHOW TABLES").ReplicaEligible());
  EXPECT_FALSE(Classify("SELECT * FROM t FOR UPDATE").ReplicaEligible());
  EXPECT_FALSE(Classify("SELECT LAST_INSERT_ID()").ReplicaEligible());
  EXPECT_FALSE(Classify("UPDATE t SET a = 1").ReplicaEligible());
  EXPECT_FALSE(Classify("SET NAMES utf8mb4").ReplicaEligible());
  EXPECT_FALSE(Classify("").ReplicaEligible());
}

TEST(AnalyzerClassifier, RoutineNames) {
  EXPECT_EQ(Classify("CALL refresh_stats(1)").routine, "refresh_stats");
  EXPECT_EQ(Classify("CALL shop.refresh_stats()").routine, "shop.refresh_stats");
  EXPECT_EQ(Classify("CALL `shop`.`refresh stats`").routine, "`shop`.`refresh stats`");
  EXPECT_EQ(Classify("SELECT order_total(7), other(1)").routine, "order_total");
  EXPECT_EQ(Classify("SELECT shop.order_total(7)").routine, "shop.order_total");
  EXPECT_EQ(Classify("SELECT COUNT(*) FROM t").routine, "");
  // A stored function in a write is not reported: the write goes to the primary anyway.
  EXPECT_EQ(Classify("INSERT INTO t (a) VALUES (f(1))").routine, "");
}

TEST(AnalyzerClassifier, SeveralRoutinesAndProcedural) {
  // --read-only-routine vouches for one routine: the others must be seen.
  EXPECT_FALSE(Classify("SELECT order_total(7), ORDER_TOTAL(8)").several_routines);
  EXPECT_TRUE(Classify("SELECT order_total(7), other(1)").several_routines);
  EXPECT_TRUE(Classify("CALL ro_p(); CALL other_p()").several_routines);
  EXPECT_TRUE(Classify("CALL ro_p(other_f(1))").several_routines);
  EXPECT_FALSE(Classify("CALL ro_p(1)").several_routines);
  EXPECT_TRUE(Classify("CALL p()").procedural);
  EXPECT_TRUE(Classify("BEGIN NOT ATOMIC SELECT 1; END").procedural);
  EXPECT_TRUE(Classify("IF 1 THEN SELECT 1; END IF").procedural);
  EXPECT_FALSE(Classify("SELECT my_func(1)").procedural);
  EXPECT_FALSE(Classify("BEGIN").procedural);
}

TEST(AnalyzerClassifier, QuotedBuiltinIsStillTheBuiltin) {
  const Classification c = Classify("SELECT `get_lock`('a', 1)");
  EXPECT_TRUE(c.primary_reasons.Has(PrimaryReason::kUserLock));
  EXPECT_FALSE(c.primary_reasons.Has(PrimaryReason::kStoredRoutine));
  EXPECT_TRUE(Classify("SELECT `LAST_INSERT_ID`()").primary_reasons.Has(
      PrimaryReason::kLastStatementInfo));
  EXPECT_TRUE(Classify("SELECT `my func`(1)").primary_reasons.Has(PrimaryReason::kStoredRoutine));
  // A quoted name that is not a native function is a stored one: `now`().
  EXPECT_TRUE(Classify("SELECT `now`()").primary_reasons.Has(PrimaryReason::kStoredRoutine));
}

TEST(AnalyzerClassifier, ReadOnlyFlagsAreThePrimarys) {
  // The proxy stands in for the primary: a replica would say read_only = 1.
  for (const char* sql : {"SELECT @@global.read_only", "SELECT @@read_only, @@innodb_read_only",
                          "select @@SESSION.super_read_only"}) {
    EXPECT_FALSE(Classify(sql).ReplicaEligible()) << sql;
  }
  EXPECT_TRUE(Classify("SELECT @@port, @@version").ReplicaEligible());
}

TEST(AnalyzerClassifier, ConstantUserVariableValues) {
  for (const char* sql : {"SET @a = 1", "SET @a := -2.5, @b = 'x'", "SET @n = NULL",
                          "SET @t = TRUE, @f = false", "SET @h = 0x1F, @x = X'1F', @b = b'1'",
                          "SET @u = _utf8mb4'caf\xc3\xa9'", "SET @s = 'a' /* c */",
                          "SET NAMES utf8mb4, @a = 1", "SET @a = 1 + 2"}) {
    EXPECT_TRUE(Classify(sql).user_variables_constant) << sql;
  }
  for (const char* sql : {"SET @a = NOW()", "SET @a = @b", "SET @a = 1, @b = @a",
                          "SET @a = (SELECT 1)", "SET @a = @@sql_mode", "SET @a = 'x' COLLATE latin1_bin",
                          "SET @a = CONCAT('a', 'b')", "SET @a = 1; SET @b = RAND()"}) {
    EXPECT_FALSE(Classify(sql).user_variables_constant) << sql;
  }
}

TEST(AnalyzerClassifier, AutocommitValues) {
  EXPECT_EQ(Classify("SET autocommit=0").autocommit, 0);
  EXPECT_EQ(Classify("SET autocommit = 1").autocommit, 1);
  EXPECT_EQ(Classify("SET @@SESSION.autocommit = ON").autocommit, 1);
  EXPECT_EQ(Classify("SET autocommit = @x").autocommit, -1);
  EXPECT_EQ(Classify("SET NAMES utf8mb4").autocommit, -1);
  EXPECT_EQ(Classify("SET GLOBAL autocommit = 0").autocommit, -1);
  EXPECT_EQ(Classify("SET autocommit = 0, sql_mode = ''").autocommit, 0);
  EXPECT_EQ(Classify("SET autocommit = 0; SET autocommit = 1").autocommit, 1);
}

TEST(AnalyzerClassifier, StatementCounts) {
  EXPECT_EQ(Classify("SELECT 1").statement_count, 1);
  EXPECT_EQ(Classify("SELECT 1;").statement_count, 1);
  EXPECT_EQ(Classify("SELECT 1; SELECT 2;; SELECT 3").statement_count, 3);
  EXPECT_EQ(Classify("").statement_count, 0);
  EXPECT_EQ(Classify("SELECT ';' FROM t -- ;").statement_count, 1);
  // A stored-program body is one statement.
  EXPECT_EQ(Classify("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END").statement_count, 1);
  EXPECT_EQ(Classify("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END").statement_count, 1);
}

TEST(AnalyzerClassifier, LastTransactionOpWins) {
  EXPECT_EQ(Classify("BEGIN; UPDATE t SET a = 1; COMMIT").transaction_op, TransactionOp::kCommit);
  EXPECT_EQ(Classify("COMMIT; START TRANSACTION READ ONLY").transaction_op,
            TransactionOp::kBeginReadOnly);
}

TEST(AnalyzerClassifier, HintsAreIgnored) {
  // Words inside an optimizer hint never count as statement syntax.
  EXPECT_EQ(DescribeClassification(Classify("SELECT /*+ SET_VAR(foo=1) GET_LOCK(x) */ 1")),
            "read");
}

TEST(AnalyzerClassifier, ExplainDoesNotExecute) {
  // Neither the assignment nor INTO takes effect; only the locking clause
  // matters, because a read-only replica refuses to explain it.
  EXPECT_EQ(DescribeClassification(Classify("EXPLAIN SELECT @a := 1 INTO @b")), "read");
  EXPECT_EQ(DescribeClassification(Classify("EXPLAIN SELECT @a := 1 INTO @b FOR UPDATE")),
            "primary_only:explain_write");
  EXPECT_EQ(DescribeClassification(Classify("EXPLAIN ANALYZE SELECT GET_LOCK('a', 1)")),
            "primary_only:user_lock");
}

TEST(AnalyzerClassifier, DeepAndUnbalancedInput) {
  EXPECT_EQ(DescribeClassification(Classify("SELECT ((((1)))")), "read");
  EXPECT_EQ(DescribeClassification(Classify("SELECT 1))) FROM t")), "read");
  EXPECT_EQ(DescribeClassification(Classify(std::string(1000, '(') + "SELECT 1")),
            "unknown:not_understood");
}

TEST(AnalyzerClassifier, NamesAreDistinctAndStable) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(StatementClass::kUnknown); ++i) {
    names.insert(StatementClassName(static_cast<StatementClass>(i)));
  }
  EXPECT_EQ(names.size(), 8u);
  names.clear();
  for (int i = 0; i < kPrimaryReasonCount; ++i) {
    names.insert(PrimaryReasonName(static_cast<PrimaryReason>(i)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kPrimaryReasonCount));
  names.clear();
  for (int i = 0; i < kSessionChangeCount; ++i) {
    names.insert(SessionChangeName(static_cast<SessionChange>(i)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kSessionChangeCount));
  names.clear();
  for (int i = 0; i <= static_cast<int>(TransactionOp::kXa); ++i) {
    names.insert(TransactionOpName(static_cast<TransactionOp>(i)));
  }
  EXPECT_EQ(names.size(), 10u);
  // Spot-check the spellings used as metric label values.
  EXPECT_EQ(StatementClassName(StatementClass::kPrimaryOnly), "primary_only");
  EXPECT_EQ(PrimaryReasonName(PrimaryReason::kUserLock), "user_lock");
  EXPECT_EQ(SessionChangeName(SessionChange::kUseDatabase), "use_db");
}

TEST(AnalyzerClassifier, EnumSetBasics) {
  PrimaryReasons r{PrimaryReason::kUserLock, PrimaryReason::kNotUnderstood};
  EXPECT_TRUE(r.Has(PrimaryReason::kUserLock));
  EXPECT_FALSE(r.Has(PrimaryReason::kHandler));
  r.Remove(PrimaryReason::kUserLock);
  EXPECT_FALSE(r.Has(PrimaryReason::kUserLock));
  PrimaryReasons s{PrimaryReason::kHandler};
  r.AddAll(s);
  EXPECT_TRUE(r.Has(PrimaryReason::kHandler));
  r.Clear();
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r, PrimaryReasons{});
}

}  // namespace
}  // namespace ql::analyzer
