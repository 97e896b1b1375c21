// The N+1 detector's building blocks on their own: value-set counters, the
// repeated-cycle detector, the shortening of long fingerprint texts; and
// the whole pipeline over the analyzer's statement corpora and random bytes
// (no crash, bounded output).
#include <random>
#include <string>
#include <vector>

#include "analyzer/digest.h"
#include "analyzer/n_plus_one_cycles.h"
#include "analyzer/n_plus_one_detector.h"
#include "analyzer/n_plus_one_format.h"
#include "analyzer/n_plus_one_shape.h"
#include "analyzer/n_plus_one_suggest.h"
#include "analyzer/n_plus_one_unit_table.h"
#include "analyzer/n_plus_one_value_sets.h"
#include "gtest/gtest.h"
#include "tests/unit/analyzer_test_util.h"
#include "tests/unit/n_plus_one_feed.h"

namespace ql::analyzer {
namespace {

uint64_t H(int i) { return Xxh64(std::to_string(i), 42); }

TEST(NPlusOneValueSets, DistinctIsExactThenEstimated) {
  DistinctCounter d;
  EXPECT_EQ(d.Count(), 0u);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20; ++i) d.Add(H(i));
  }
  EXPECT_EQ(d.Count(), 20u);
  EXPECT_FALSE(d.estimated());
  for (int i = 20; i < 32; ++i) d.Add(H(i));
  EXPECT_EQ(d.Count(), 32u);
  EXPECT_FALSE(d.estimated());
  d.Add(H(32));
  EXPECT_TRUE(d.estimated());
  EXPECT_GT(d.Count(), 32u);
  for (int n : {100, 500, 1000}) {
    DistinctCounter e;
    for (int i = 0; i < n; ++i) e.Add(H(i));
    for (int i = 0; i < n; ++i) e.Add(H(i));  // repeats change nothing
    EXPECT_NEAR(static_cast<double>(e.Count()), n, n * 0.15) << n;
  }
  DistinctCounter saturated;
  for (int i = 0; i < 100'000; ++i) saturated.Add(H(i));
  EXPECT_GE(saturated.Count(), 3000u);  // the bitmap's limit, not garbage
  d.Clear();
  EXPECT_EQ(d.Count(), 0u);
}

TEST(NPlusOneValueSets, RepeatCounterFindsTheMostRepeatedSet) {
  RepeatCounter r;
  EXPECT_EQ(r.MaxCount(), 0u);
  for (int i = 0; i < 100; ++i) r.Add(H(i % 20));  // 20 sets, 5 each
  EXPECT_EQ(r.MaxCount(), 5u);  // sets beyond the first 16 are not counted, others are
  r.Clear();
  r.Add(H(1));
  r.Add(H(2));
  r.Add(H(1));
  EXPECT_EQ(r.MaxCount(), 2u);
}

class Cycles {
 public:
  explicit Cycles(uint32_t min_repeats = 3, size_t max_runs = 8) : d(2, 8, min_repeats, max_runs) {}
  // One statement per character: same letter, same digest.
  Cycles& Feed(const std::string& letters) {
    for (char c : letters) {
      d.Add(static_cast<uint64_t>(c), t, 1000, seq++);
      t += 2000;
    }
    return *this;
  }
  std::vector<std::string> Runs() {
    d.Finish();
    std::vector<std::string> out;
    for (size_t i = 0; i < d.run_count(); ++i) {
      const CycleRun& run = d.run(i);
      std::string s;
      for (uint32_t k = 0; k < run.length; ++k) s.push_back(static_cast<char>(run.digests[k]));
      out.push_back(s + "x" + std::to_string(run.repeats) + "/" + std::to_string(run.statements));
    }
    return out;
  }
  CycleDetector d;
  int64_t t = 0;
  uint64_t seq = 0;
};

TEST(NPlusOneCycles, FindsPrimitiveSequencesRepeatedBackToBack) {
  EXPECT_EQ(Cycles().Feed("PABABAB").Runs(), std::vector<std::string>{"ABx3/6"});
  EXPECT_EQ(Cycles().Feed("PABCABCABCABQ").Runs(), std::vector<std::string>{"ABCx3/11"});
  EXPECT_EQ(Cycles().Feed("PABAB").Runs(), std::vector<std::string>{});      // 2 rounds
  EXPECT_EQ(Cycles().Feed("PAAAAAAAA").Runs(), std::vector<std::string>{});  // plain N+1
  EXPECT_EQ(Cycles().Feed("ABCDEFGHABCDEFGHABCDEFGH").Runs(),
            std::vector<std::string>{"ABCDEFGHx3/24"});
  EXPECT_EQ(Cycles().Feed("ABCDEFGHIABCDEFGHIABCDEFGHI").Runs(),
            std::vector<std::string>{});  // 9 long
  // ABAC repeated is a 4-cycle, not an AB or AC one.
  EXPECT_EQ(Cycles().Feed("ABACABACABAC").Runs(), std::vector<std::string>{"ABACx3/12"});
}

TEST(NPlusOneCycles, SameSequenceLaterInTheUnitIsMerged) {
  Cycles c;
  c.Feed("ABABAB").Feed("QQ").Feed("ABABABAB");
  EXPECT_EQ(c.Runs(), std::vector<std::string>{"ABx7/14"});
  EXPECT_EQ(c.d.run(0).first_seq, 0u);
  EXPECT_EQ(c.d.run(0).total_ns, 14'000u);
}

TEST(NPlusOneCycles, RunsAreBounded) {
  Cycles c(3, 2);
  c.Feed("ABABAB-CDCDCD-EFEFEF-");
  EXPECT_EQ(c.Runs(), (std::vector<std::string>{"ABx3/6", "CDx3/6"}));
  EXPECT_EQ(c.d.dropped_runs(), 1u);
  c.d.Clear();
  EXPECT_EQ(c.d.run_count(), 0u);
}

TEST(NPlusOneCycles, TimesCoverTheRun) {
  Cycles c;
  c.Feed("PABABABQ");
  c.d.Finish();
  ASSERT_EQ(c.d.run_count(), 1u);
  const CycleRun& run = c.d.run(0);
  EXPECT_EQ(run.first_start_ns, 2000);  // the first A
  EXPECT_EQ(run.last_end_ns, 13000);    // the last B ends at 12000 + 1000
  EXPECT_EQ(run.total_ns, 6000u);
  EXPECT_EQ(run.max_ns, 1000u);
  EXPECT_EQ(run.first_seq, 1u);
}

TEST(NPlusOneShorten, KeepsShortTextsAndTheFromPartOfLongOnes) {
  std::string out;
  ShortenFingerprint("select a from t", 512, &out);
  EXPECT_EQ(out, "select a from t");

  std::string columns;
  for (int i = 0; i < 60; ++i)
    columns += (i ? ", " : "") + std::string("shop_product.column_") + std::to_string(i);
  const std::string text =
      "select " + columns + " from shop_product where shop_product.id = ? limit ?";
  ShortenFingerprint(text, 256, &out);
  EXPECT_LE(out.size(), 256u);
  EXPECT_TRUE(out.starts_with("select shop_product.column_0, shop_product.column_1")) << out;
  EXPECT_TRUE(out.ends_with(", ... from shop_product where shop_product.id = ? limit ?") ||
              out.ends_with(" ... from shop_product where shop_product.id = ? limit ?"))
      << out;

  // The FROM part alone is too long: both ends are cut.
  const std::string long_where = "select a, b from t where " + std::string(1000, 'x');
  ShortenFingerprint(long_where, 100, &out);
  EXPECT_LE(out.size(), 100u);
  EXPECT_TRUE(out.ends_with("xxx...")) << out;
  EXPECT_NE(out.find(" from t where "), std::string::npos) << out;

  // No " from ": cut at the end, never inside a UTF-8 sequence.
  std::string utf8 = "select '";
  for (int i = 0; i < 100; ++i) utf8 += "\xc3\xa9";
  ShortenFingerprint(utf8, 64, &out);
  EXPECT_LE(out.size(), 64u);
  EXPECT_TRUE(out.ends_with("\xc3\xa9..."));
}

// Every statement of the fingerprint and classifier corpora, then random
// bytes, through literal hashing, shapes, suggestions, the detector (small
// table, write loops on) and both output formats.
TEST(NPlusOneRobustness, CorporaAndRandomBytes) {
  std::vector<std::string> inputs;
  for (const auto& c : testutil::LoadFingerprintCases()) inputs.push_back(c.input);
  for (const auto& c : testutil::LoadClassifierCases()) inputs.push_back(c.sql);
  ASSERT_GE(inputs.size(), 300u);
  std::mt19937 rng(5);
  const std::string alphabet =
      "select from where in limit offset order by join on ( ) , . ? = > ' ` \\";
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    const size_t len = rng() % 80;
    for (size_t k = 0; k < len; ++k) {
      s.push_back(rng() % 4 == 0 ? static_cast<char>(rng() % 256)
                                 : alphabet[rng() % alphabet.size()]);
    }
    inputs.push_back(s);
  }
  NPlusOneOptions options;
  options.max_fingerprints_per_unit = 8;
  options.max_text_bytes = 48;
  options.detect_write_loops = true;
  NPlusOneDetector detector(options);
  testutil::NPlusOneFeed feed;
  std::vector<NPlusOneFinding> findings;
  StatementShape previous;
  int64_t now = 0;
  for (const std::string& sql : inputs) {
    for (int repeat = 0; repeat < 3; ++repeat) {
      const NPlusOneInput in =
          feed.Input(sql, {uint64_t(repeat), 1, 0, 30'000'000}, now += 40'000'000);
      detector.Observe(in, &findings);
      StatementShape shape;
      shape.Parse(in.fingerprint);
      for (FindingKind kind :
           {FindingKind::kNPlusOne, FindingKind::kDuplicate, FindingKind::kWriteLoop}) {
        EXPECT_LT(SuggestFix(kind, shape, &previous).size(), 2048u);
      }
      previous.Parse(in.fingerprint);
    }
    EXPECT_LE(detector.tracked_fingerprints(), 8u);
  }
  detector.Close(&findings);
  EXPECT_FALSE(findings.empty());
  std::string text;
  std::string json;
  for (const NPlusOneFinding& f : findings) {
    AppendFindingText(f, &text);
    AppendFindingJson(f, &json);
    EXPECT_LE(f.fingerprint.size(), 48u);
  }
  EXPECT_EQ(text.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace ql::analyzer
