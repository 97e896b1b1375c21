// Tests for ApplyFindings (proxy/backend_monitor.h): the rule that turns one
// monitor check into a backend's health, with its hysteresis: one bad check
// takes a replica out of rotation, N good ones in a row bring it back, and a
// caught-up replica keeps serving reads while the primary is down.
#include "proxy/backend_monitor.h"

#include "gtest/gtest.h"

namespace ql::proxy {
namespace {

constexpr int kHealthyChecksNeeded = 2;
constexpr double kMaxLag = 10;

CheckFindings Replicating(double lag) {
  CheckFindings f;
  f.up = true;
  f.read_only = true;
  f.replication_running = true;
  f.lag_seconds = lag;
  return f;
}

CheckFindings CaughtUpWithDownPrimary() {
  CheckFindings f;
  f.up = true;
  f.read_only = true;
  f.lag_bounded_without_replication = true;
  f.caught_up_with_down_primary = true;
  f.lag_seconds = 1;
  return f;
}

class ReplicaHealth : public ::testing::Test {
 protected:
  void Apply(const CheckFindings& f) { ApplyFindings(f, kHealthyChecksNeeded, kMaxLag, streak_, h_); }

  int streak_ = 0;
  BackendHealth h_;  // a replica by default
};

TEST_F(ReplicaHealth, TakesReadsAfterEnoughGoodChecksInARow) {
  Apply(Replicating(0));
  EXPECT_FALSE(h_.usable_for_reads);
  EXPECT_EQ(h_.last_error, "healthy for 1 of 2 checks needed before taking reads");
  Apply(Replicating(3));
  EXPECT_TRUE(h_.usable_for_reads);
  EXPECT_EQ(h_.last_error, "");
  EXPECT_EQ(h_.lag_seconds, 3);
}

TEST_F(ReplicaHealth, OneBadCheckStopsReads) {
  Apply(Replicating(0));
  Apply(Replicating(0));
  ASSERT_TRUE(h_.usable_for_reads);
  Apply(Replicating(11));
  EXPECT_FALSE(h_.usable_for_reads);
  EXPECT_EQ(h_.last_error, "lag 11s > max 10s");
  EXPECT_EQ(h_.checks_failed, 1u);
  Apply(Replicating(0));
  EXPECT_FALSE(h_.usable_for_reads);  // the streak starts again
}

TEST_F(ReplicaHealth, StoppedReplicationOrUnknownLagTakesNoReads) {
  CheckFindings stopped = Replicating(0);
  stopped.replication_running = false;
  Apply(stopped);
  Apply(stopped);
  EXPECT_FALSE(h_.usable_for_reads);
  EXPECT_EQ(h_.last_error, "replication is not running");
  Apply(Replicating(-1));
  EXPECT_EQ(h_.last_error, "replication lag unknown");
  CheckFindings down;
  Apply(down);
  EXPECT_FALSE(h_.up);
  EXPECT_EQ(h_.last_error, "down");
}

TEST_F(ReplicaHealth, CaughtUpReplicaServesReadsWhileThePrimaryIsDown) {
  Apply(Replicating(0));
  Apply(Replicating(0));
  ASSERT_TRUE(h_.usable_for_reads);
  // The primary dies: the IO thread reconnects, but nothing newer exists.
  Apply(CaughtUpWithDownPrimary());
  EXPECT_TRUE(h_.usable_for_reads);
  EXPECT_TRUE(h_.caught_up_with_down_primary);
  EXPECT_FALSE(h_.replication_running);
  EXPECT_EQ(h_.last_error, "");
  // The primary is back and replication resumes.
  Apply(Replicating(0));
  EXPECT_TRUE(h_.usable_for_reads);
  EXPECT_FALSE(h_.caught_up_with_down_primary);
}

TEST_F(ReplicaHealth, ReconnectingReplicaKeepsReadsWhileItsBoundIsWithinTheLimit) {
  Apply(Replicating(0));
  Apply(Replicating(0));
  ASSERT_TRUE(h_.usable_for_reads);
  // The IO thread reconnects; the replica applied all the primary had when
  // last seen, 2 s ago: no bad check, so no hysteresis either.
  CheckFindings bounded = Replicating(2);
  bounded.replication_running = false;
  bounded.lag_bounded_without_replication = true;
  Apply(bounded);
  EXPECT_TRUE(h_.usable_for_reads);
  EXPECT_FALSE(h_.caught_up_with_down_primary);
  // The primary wrote more and the bound grew past the limit.
  bounded.lag_seconds = 12;
  Apply(bounded);
  EXPECT_FALSE(h_.usable_for_reads);
  EXPECT_EQ(h_.last_error, "lag 12s > max 10s");
}

TEST_F(ReplicaHealth, ErrorWinsOverCaughtUp) {
  // The monitor clears the error when it sets the flag; an error that is
  // still there (e.g. a failed read after it) keeps the replica out.
  CheckFindings f = CaughtUpWithDownPrimary();
  f.error = "SHOW SLAVE STATUS: timeout";
  Apply(f);
  Apply(f);
  EXPECT_FALSE(h_.usable_for_reads);
  EXPECT_EQ(h_.last_error, "SHOW SLAVE STATUS: timeout");
}

TEST(PrimaryHealth, NeverTakesReadsAndWarnsAboutReadOnly) {
  BackendHealth h;
  h.role = analyzer::BackendRole::kPrimary;
  int streak = 0;
  CheckFindings f;
  f.up = true;
  f.read_only = true;
  ApplyFindings(f, kHealthyChecksNeeded, kMaxLag, streak, h);
  ApplyFindings(f, kHealthyChecksNeeded, kMaxLag, streak, h);
  EXPECT_FALSE(h.usable_for_reads);
  EXPECT_EQ(h.last_error, "primary has read_only=ON: writes will fail");
  ApplyFindings(CheckFindings{}, kHealthyChecksNeeded, kMaxLag, streak, h);
  EXPECT_FALSE(h.up);
  EXPECT_EQ(h.checks_failed, 1u);
}

}  // namespace
}  // namespace ql::proxy
