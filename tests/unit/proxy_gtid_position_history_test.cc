// GtidPositionHistory: a replica's applied GTID position bounds its lag from
// below, so a restarted replica whose Seconds_Behind_Master says 0 is still
// known to be behind.
#include "proxy/gtid_position_history.h"

#include "gtest/gtest.h"

namespace ql::proxy {
namespace {

using Clock = GtidPositionHistory::Clock;
using std::chrono::seconds;

GtidPosition P(std::string_view text) {
  auto p = ParseGtidPosition(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p.value_or(GtidPosition{});
}

TEST(GtidPosition, Parses) {
  EXPECT_EQ(P("0-1-100"), (GtidPosition{{0, 100}}));
  EXPECT_EQ(P("1-2-50,0-1-100"), (GtidPosition{{0, 100}, {1, 50}}));
  EXPECT_EQ(P("0-1-100,\n1-2-50"), (GtidPosition{{0, 100}, {1, 50}}));
  EXPECT_EQ(P(""), GtidPosition{});
  for (std::string_view bad : {"0-1", "x-1-2", "0-1-", "3E11B1A4-1", "0-1-2-3"}) {
    EXPECT_FALSE(ParseGtidPosition(bad).has_value()) << bad;
  }
}

TEST(GtidPosition, ReachedPerDomain) {
  EXPECT_TRUE(GtidReached(P("0-1-100"), P("0-1-100")));
  EXPECT_TRUE(GtidReached(P("0-1-101"), P("0-1-100")));
  EXPECT_FALSE(GtidReached(P("0-1-99"), P("0-1-100")));
  EXPECT_FALSE(GtidReached(P("0-1-100"), P("0-1-100,1-2-5")));  // domain 1 missing
  EXPECT_TRUE(GtidReached(P("0-1-100,1-2-5"), P("1-2-5")));
  EXPECT_TRUE(GtidReached(P("0-1-1"), GtidPosition{}));
}

TEST(GtidPositionHistory, RestartedReplicaIsBehindWhateverItsSecondsBehindSay) {
  GtidPositionHistory h;
  const Clock::time_point t0 = Clock::now();
  EXPECT_FALSE(h.LagAtLeast(P("0-1-1"), t0).has_value());  // nothing seen yet
  // The primary writes on; the replica is down and stays at 0-1-100.
  for (int s = 0; s <= 30; ++s) h.Observe(P("0-1-" + std::to_string(100 + 10 * s)), t0 + seconds(s));
  // Back at t0 + 30 s, it applied nothing since 0-1-100: the write seen first
  // at t0 + 1 s is missing, so it is at least 29 s behind.
  EXPECT_DOUBLE_EQ(*h.LagAtLeast(P("0-1-100"), t0 + seconds(30)), 29.0);
  // Half way through catching up.
  EXPECT_DOUBLE_EQ(*h.LagAtLeast(P("0-1-250"), t0 + seconds(31)), 15.0);
  // Caught up: nothing newer is missing.
  EXPECT_DOUBLE_EQ(*h.LagAtLeast(P("0-1-400"), t0 + seconds(31)), 0.0);
}

TEST(GtidPositionHistory, IdlePrimaryMeansNoLag) {
  GtidPositionHistory h;
  const Clock::time_point t0 = Clock::now();
  for (int s = 0; s < 100; ++s) h.Observe(P("0-1-7"), t0 + seconds(s));
  EXPECT_DOUBLE_EQ(*h.LagAtLeast(P("0-1-7"), t0 + seconds(100)), 0.0);
  // Not applied: behind since it was first seen, not since last seen.
  EXPECT_DOUBLE_EQ(*h.LagAtLeast(P("0-1-6"), t0 + seconds(100)), 100.0);
}

TEST(GtidPositionHistory, OnlyTheReplicasDomainsCount) {
  GtidPositionHistory h;
  const Clock::time_point t0 = Clock::now();
  h.Observe(P("0-1-10,1-1-5"), t0);
  h.Observe(P("0-1-20,1-1-9"), t0 + seconds(10));
  // Domain 1 filtered out on the replica (IGNORE_DOMAIN_IDS): caught up.
  EXPECT_DOUBLE_EQ(*h.LagAtLeast(P("0-1-20"), t0 + seconds(11)), 0.0);
  // Behind in a domain it applies.
  EXPECT_DOUBLE_EQ(*h.LagAtLeast(P("0-1-10,1-1-9"), t0 + seconds(11)), 1.0);
}

TEST(GtidPositionHistory, AnotherPrimaryStartsAFreshHistory) {
  GtidPositionHistory h;
  const Clock::time_point t0 = Clock::now();
  h.Observe(P("0-1-500"), t0);
  h.Observe(P("0-2-10"), t0 + seconds(5));  // went back: RESET MASTER or a new primary
  EXPECT_DOUBLE_EQ(*h.LagAtLeast(P("0-2-10"), t0 + seconds(6)), 0.0);
}

TEST(GtidPositionHistory, Bounded) {
  GtidPositionHistory h;
  const Clock::time_point t0 = Clock::now();
  for (uint64_t i = 1; i <= 10 * GtidPositionHistory::kMaxEntries; ++i) {
    h.Observe(P("0-1-" + std::to_string(i)), t0 + seconds(i));
  }
  // Behind everything kept: at least as old as the oldest kept.
  const double lag = *h.LagAtLeast(P("0-1-1"), t0 + seconds(10 * GtidPositionHistory::kMaxEntries));
  EXPECT_GE(lag, double(GtidPositionHistory::kMaxEntries) - 1);
}

}  // namespace
}  // namespace ql::proxy
