// Tests for proxy/replica_selector: which replicas may take reads (health,
// the primary, failures this worker saw until the monitor looked twice more),
// and the choice among them by least outstanding work or by weight.
#include "proxy/replica_selector.h"

#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace ql::proxy {
namespace {

// A snapshot with a primary at [0] and one replica per entry of `usable`.
HealthSnapshot Snapshot(uint64_t round, std::vector<bool> usable,
                        std::vector<uint32_t> weights = {}) {
  HealthSnapshot h;
  h.round = round;
  BackendHealth primary;
  primary.role = analyzer::BackendRole::kPrimary;
  primary.up = true;
  primary.usable_for_reads = true;  // never honoured for the primary
  h.backends.push_back(primary);
  for (size_t i = 0; i < usable.size(); ++i) {
    BackendHealth r;
    r.role = analyzer::BackendRole::kReplica;
    r.up = usable[i];
    r.usable_for_reads = usable[i];
    r.weight = i < weights.size() ? weights[i] : 1;
    h.backends.push_back(r);
  }
  return h;
}

TEST(ReplicaSelector, Usable) {
  ReplicaSelector sel(3, ReplicaSelection::kLeastOutstanding);
  const HealthSnapshot h = Snapshot(5, {true, false});
  EXPECT_FALSE(sel.Usable(nullptr, 1));  // no snapshot yet
  EXPECT_FALSE(sel.Usable(&h, 0));       // the primary, even if marked usable
  EXPECT_TRUE(sel.Usable(&h, 1));
  EXPECT_FALSE(sel.Usable(&h, 2));       // usable_for_reads false
  EXPECT_FALSE(sel.Usable(&h, 3));       // past the snapshot
  EXPECT_FALSE(sel.Usable(&h, 100));
}

TEST(ReplicaSelector, BackendsBeyondTheSelectorAreNotUsable) {
  // A snapshot with more backends than this selector was built for.
  ReplicaSelector sel(2, ReplicaSelection::kLeastOutstanding);
  const HealthSnapshot h = Snapshot(1, {true, true, true});
  EXPECT_TRUE(sel.Usable(&h, 1));
  EXPECT_FALSE(sel.Usable(&h, 2));
  EXPECT_EQ(sel.Choose(&h), 1u);
  ReplicaSelector weighted(2, ReplicaSelection::kWeighted);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(weighted.Choose(&h), 1u);
}

TEST(ReplicaSelector, AnyUsable) {
  ReplicaSelector sel(3, ReplicaSelection::kLeastOutstanding);
  EXPECT_FALSE(sel.AnyUsable(nullptr));
  const HealthSnapshot none = Snapshot(1, {false, false});
  EXPECT_FALSE(sel.AnyUsable(&none));
  const HealthSnapshot only_primary = Snapshot(1, {});
  EXPECT_FALSE(sel.AnyUsable(&only_primary));
  const HealthSnapshot second = Snapshot(1, {false, true});
  EXPECT_TRUE(sel.AnyUsable(&second));
  EXPECT_EQ(sel.Choose(&none), 0u);
  EXPECT_EQ(sel.Choose(nullptr), 0u);
  EXPECT_EQ(sel.Choose(&second), 2u);
}

TEST(ReplicaSelector, SuspectAfterFailureUntilTwoRoundsLater) {
  ReplicaSelector sel(3, ReplicaSelection::kLeastOutstanding);
  const HealthSnapshot at10 = Snapshot(10, {true, true});
  sel.MarkFailed(&at10, 1);
  EXPECT_FALSE(sel.Usable(&at10, 1));
  EXPECT_TRUE(sel.Usable(&at10, 2));
  EXPECT_EQ(sel.Choose(&at10), 2u);
  // The next round may have started before the failure: still suspect.
  const HealthSnapshot at11 = Snapshot(11, {true, true});
  EXPECT_FALSE(sel.Usable(&at11, 1));
  // Two rounds past the failure: the monitor has looked since.
  const HealthSnapshot at12 = Snapshot(12, {true, true});
  EXPECT_TRUE(sel.Usable(&at12, 1));
  const HealthSnapshot at13 = Snapshot(13, {true, true});
  EXPECT_TRUE(sel.Usable(&at13, 1));
  // And the monitor still has the last word.
  const HealthSnapshot down = Snapshot(13, {false, true});
  EXPECT_FALSE(sel.Usable(&down, 1));
}

TEST(ReplicaSelector, OnlySuspectMakesNoneUsable) {
  ReplicaSelector sel(2, ReplicaSelection::kWeighted);
  const HealthSnapshot h = Snapshot(4, {true});
  ASSERT_TRUE(sel.AnyUsable(&h));
  sel.MarkFailed(&h, 1);
  EXPECT_FALSE(sel.AnyUsable(&h));
  EXPECT_EQ(sel.Choose(&h), 0u);
  const HealthSnapshot later = Snapshot(6, {true});
  EXPECT_TRUE(sel.AnyUsable(&later));
  EXPECT_EQ(sel.Choose(&later), 1u);
}

TEST(ReplicaSelector, MarkFailedWithoutSnapshotAndOutOfRange) {
  ReplicaSelector sel(2, ReplicaSelection::kLeastOutstanding);
  sel.MarkFailed(nullptr, 1);  // counts as round 0
  const HealthSnapshot r1 = Snapshot(1, {true});
  EXPECT_FALSE(sel.Usable(&r1, 1));
  const HealthSnapshot r2 = Snapshot(2, {true});
  EXPECT_TRUE(sel.Usable(&r2, 1));
  sel.MarkFailed(&r2, 5);  // out of range: ignored, no crash
  EXPECT_TRUE(sel.Usable(&r2, 1));
}

TEST(ReplicaSelector, LeastOutstandingPrefersFewestHeld) {
  ReplicaSelector sel(4, ReplicaSelection::kLeastOutstanding);
  const HealthSnapshot h = Snapshot(1, {true, true, true});
  EXPECT_EQ(sel.Choose(&h), 1u);  // all equal: the first
  sel.Hold(1);
  EXPECT_EQ(sel.Choose(&h), 2u);
  sel.Hold(2);
  EXPECT_EQ(sel.Choose(&h), 3u);
  sel.Hold(3);
  EXPECT_EQ(sel.Choose(&h), 1u);  // one each: the first again
  sel.Hold(1);
  sel.Hold(3);
  EXPECT_EQ(sel.Choose(&h), 2u);  // 2, 1, 2
  sel.Unhold(1);
  sel.Unhold(1);
  EXPECT_EQ(sel.Choose(&h), 1u);  // 0, 1, 2
  sel.Unhold(1);                  // below zero stays zero
  sel.Hold(1);
  EXPECT_EQ(sel.Choose(&h), 1u);  // 1, 1, 2: tie on held and in flight, the first
  sel.StatementStarted(1);
  EXPECT_EQ(sel.Choose(&h), 2u);  // the tie broken by statements in flight
}

TEST(ReplicaSelector, LeastOutstandingBreaksTiesByInFlight) {
  ReplicaSelector sel(3, ReplicaSelection::kLeastOutstanding);
  const HealthSnapshot h = Snapshot(1, {true, true});
  sel.Hold(1);
  sel.Hold(2);
  sel.StatementStarted(1);
  sel.StatementStarted(1);
  sel.StatementStarted(2);
  EXPECT_EQ(sel.Choose(&h), 2u);
  sel.StatementEnded(1);
  sel.StatementEnded(1);
  EXPECT_EQ(sel.Choose(&h), 1u);
  sel.StatementEnded(1);  // below zero stays zero
  sel.StatementStarted(1);
  EXPECT_EQ(sel.Choose(&h), 1u);  // 1 vs 1 in flight: the first
  // Held count wins over in-flight count.
  sel.Hold(1);
  sel.StatementEnded(1);
  sel.StatementStarted(2);
  sel.StatementStarted(2);
  EXPECT_EQ(sel.Choose(&h), 2u);  // held 2 vs 1, in flight 0 vs 3
}

TEST(ReplicaSelector, LeastOutstandingSkipsUnusable) {
  ReplicaSelector sel(4, ReplicaSelection::kLeastOutstanding);
  const HealthSnapshot h = Snapshot(1, {false, true, true});
  sel.Hold(2);
  sel.Hold(2);
  EXPECT_EQ(sel.Choose(&h), 3u);
  sel.Hold(3);
  sel.Hold(3);
  sel.Hold(3);
  EXPECT_EQ(sel.Choose(&h), 2u);  // 1 holds nothing but is down
  // Choose does not hold by itself.
  EXPECT_EQ(sel.Choose(&h), 2u);
}

TEST(ReplicaSelector, WeightedSmoothRoundRobin) {
  ReplicaSelector sel(3, ReplicaSelection::kWeighted);
  const HealthSnapshot h = Snapshot(1, {true, true}, {2, 1});
  std::vector<size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(sel.Choose(&h));
  // Smooth: the heavy one never three times in a row, 4:2 over six picks.
  EXPECT_EQ(picks, (std::vector<size_t>{1, 2, 1, 1, 2, 1}));
  std::map<size_t, int> count;
  for (size_t p : picks) ++count[p];
  EXPECT_EQ(count[1], 4);
  EXPECT_EQ(count[2], 2);
}

TEST(ReplicaSelector, WeightedProportions) {
  ReplicaSelector sel(4, ReplicaSelection::kWeighted);
  const HealthSnapshot h = Snapshot(1, {true, true, true}, {5, 1, 1});
  std::map<size_t, int> count;
  for (int i = 0; i < 70; ++i) ++count[sel.Choose(&h)];
  EXPECT_EQ(count[1], 50);
  EXPECT_EQ(count[2], 10);
  EXPECT_EQ(count[3], 10);
  EXPECT_EQ(count[0], 0);
}

TEST(ReplicaSelector, WeightedIgnoresLoadAndSkipsUnusable) {
  ReplicaSelector sel(3, ReplicaSelection::kWeighted);
  const HealthSnapshot h = Snapshot(1, {true, true});
  sel.Hold(1);
  sel.Hold(1);
  sel.StatementStarted(1);
  // Equal weights alternate regardless of held connections.
  std::vector<size_t> picks;
  for (int i = 0; i < 4; ++i) picks.push_back(sel.Choose(&h));
  EXPECT_EQ(picks, (std::vector<size_t>{1, 2, 1, 2}));
  const HealthSnapshot one_down = Snapshot(2, {false, true});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sel.Choose(&one_down), 2u);
}

TEST(ReplicaSelector, WeightZeroCountsAsOne) {
  ReplicaSelector sel(3, ReplicaSelection::kWeighted);
  const HealthSnapshot h = Snapshot(1, {true, true}, {0, 1});
  std::map<size_t, int> count;
  for (int i = 0; i < 10; ++i) ++count[sel.Choose(&h)];
  EXPECT_EQ(count[1], 5);
  EXPECT_EQ(count[2], 5);
}

}  // namespace
}  // namespace ql::proxy
