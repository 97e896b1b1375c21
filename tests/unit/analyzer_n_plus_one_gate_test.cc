// The FindingGate between the N+1 rules and the reporter: the head a gate
// sees carries exactly the key and counts of the finding that would be
// built, and a repeat the reporter would only count is counted and never
// built (what keeps a loop that recurs in every request free of
// allocations once it has been logged).
#include <string>
#include <vector>

#include "analyzer/n_plus_one_detector.h"
#include "analyzer/n_plus_one_reporter.h"
#include "gtest/gtest.h"
#include "tests/unit/n_plus_one_feed.h"

namespace ql::analyzer {
namespace {

constexpr int64_t kSec = 1'000'000'000;

// What a gate saw, copied (a head's views die with the unit).
struct SeenHead {
  uint64_t key;
  FindingKind kind;
  Confidence confidence;
  uint64_t statements;
  uint64_t total_ns;
  bool silenced;
};

class RecordingGate final : public FindingGate {
 public:
  bool Skip(const FindingHead& h) override {
    seen.push_back({NPlusOneReporter::KeyOf(h), h.kind, h.confidence, h.statements, h.total_ns,
                    h.silenced});
    return false;
  }
  std::vector<SeenHead> seen;
};

// The proxy's arrangement (proxy/n_plus_one_sink.cc) without the lock.
class ReporterGate final : public FindingGate {
 public:
  bool Skip(const FindingHead& h) override { return reporter.SuppressRepeat(h, now); }
  NPlusOneReporter reporter;
  int64_t now = 0;
};

// One Django-like request: a product list, a category lookup and a tag
// lookup per product (N+1 twice, a repeated cycle), an UPDATE per product
// (a write loop), and more statements than max_unit_statements.
class Request {
 public:
  Request(NPlusOneDetector* detector, std::vector<NPlusOneFinding>* out)
      : detector_(detector), out_(out) {}

  void Run(int request, const std::string& route) {
    const std::string tag =
        " /*route='" + route + "',traceparent='00-" + std::string(31, '0') +
        std::to_string(request % 10) + "-00f067aa0ba902b7-01'*/";
    Statement("SELECT `shop_product`.`id`, `shop_product`.`category_id` FROM `shop_product`" + tag,
              40);
    for (int i = 1; i <= 40; ++i) {
      Statement("SELECT `shop_category`.`name` FROM `shop_category` WHERE "
                "`shop_category`.`id` = " + std::to_string(i % 9 + 1) + tag, 1);
      Statement("SELECT `shop_tag`.`name` FROM `shop_tag` WHERE `shop_tag`.`product_id` = " +
                std::to_string(i) + tag, 2);
      Statement("UPDATE `shop_product` SET `seen` = 1 WHERE `shop_product`.`id` = " +
                std::to_string(i) + tag, 0, 1);
    }
  }
  void Close() { detector_->Close(out_); }

 private:
  void Statement(const std::string& sql, uint64_t rows, uint64_t affected = 0) {
    now_ = feed_.Observe(*detector_, sql, {rows, affected}, now_ + 100'000, out_);
  }

  NPlusOneDetector* detector_;
  std::vector<NPlusOneFinding>* out_;
  testutil::NPlusOneFeed feed_;
  int64_t now_ = kSec;
};

NPlusOneOptions AllKinds() {
  NPlusOneOptions options;
  options.detect_write_loops = true;
  return options;
}

TEST(NPlusOneGate, HeadMatchesTheFindingBuiltAfterIt) {
  RecordingGate gate;
  NPlusOneDetector detector(AllKinds(), &gate);
  std::vector<NPlusOneFinding> out;
  Request request(&detector, &out);
  request.Run(1, "products/");
  request.Close();

  std::vector<bool> kinds(kFindingKindCount, false);
  for (const NPlusOneFinding& f : out) kinds[size_t(f.kind)] = true;
  for (FindingKind k : {FindingKind::kNPlusOne, FindingKind::kRepeatedCycle,
                        FindingKind::kWriteLoop, FindingKind::kTooManyStatements}) {
    EXPECT_TRUE(kinds[size_t(k)]) << FindingKindName(k);
  }
  ASSERT_EQ(gate.seen.size(), out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const FindingHead built = HeadOf(out[i]);
    EXPECT_EQ(gate.seen[i].key, NPlusOneReporter::KeyOf(built)) << i;
    EXPECT_EQ(gate.seen[i].kind, built.kind) << i;
    EXPECT_EQ(gate.seen[i].confidence, built.confidence) << i;
    EXPECT_EQ(gate.seen[i].statements, built.statements) << i;
    EXPECT_EQ(gate.seen[i].total_ns, built.total_ns) << i;
    EXPECT_EQ(gate.seen[i].silenced, built.silenced) << i;
  }
}

TEST(NPlusOneGate, SuppressRepeatCountsAsAdmitWould) {
  NPlusOneReporter reporter;  // 60 s
  NPlusOneFinding f;
  f.route = "products/";
  f.digest = 0x22;
  const FindingHead head = HeadOf(f);
  EXPECT_FALSE(reporter.SuppressRepeat(head, 0)) << "never reported: Admit decides";
  EXPECT_EQ(reporter.Admit(&f, 0), ReportDecision::kReport);
  EXPECT_TRUE(reporter.SuppressRepeat(head, 1 * kSec));
  EXPECT_TRUE(reporter.SuppressRepeat(head, 59 * kSec));
  EXPECT_EQ(reporter.count(ReportDecision::kSuppressed), 2u);
  EXPECT_FALSE(reporter.SuppressRepeat(head, 60 * kSec)) << "interval over";
  NPlusOneFinding later = f;
  EXPECT_EQ(reporter.Admit(&later, 60 * kSec), ReportDecision::kReport);
  EXPECT_EQ(later.suppressed, 2u);

  FindingHead silenced = head;
  silenced.silenced = true;
  EXPECT_FALSE(reporter.SuppressRepeat(silenced, 61 * kSec)) << "Admit says kSilenced";
  FindingHead other = head;
  other.route = "orders/";
  EXPECT_FALSE(reporter.SuppressRepeat(other, 61 * kSec));
}

TEST(NPlusOneGate, RepeatsWithinTheIntervalAreNeverBuilt) {
  ReporterGate gate;
  NPlusOneDetector detector(AllKinds(), &gate);
  std::vector<NPlusOneFinding> out;
  Request request(&detector, &out);

  request.Run(1, "products/");
  request.Run(2, "products/");  // a new trace id closes the first unit
  ASSERT_FALSE(out.empty());
  const size_t first = out.size();
  for (NPlusOneFinding& f : out) {
    EXPECT_EQ(gate.reporter.Admit(&f, gate.now), ReportDecision::kReport);
  }
  out.clear();

  gate.now = 5 * kSec;
  request.Run(3, "products/");  // closes the second unit: all repeats
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(gate.reporter.count(ReportDecision::kSuppressed), first);

  request.Run(4, "orders/");  // closes the third: the same loops, another call site
  EXPECT_TRUE(out.empty()) << "the third unit was products/ too";
  request.Run(5, "orders/");  // closes the orders/ unit: new keys, built
  EXPECT_EQ(out.size(), first);
  out.clear();

  gate.now = 61 * kSec;  // the interval is over: built again, for Admit
  request.Close();
  EXPECT_EQ(out.size(), first);
}

}  // namespace
}  // namespace ql::analyzer
