// Tests for the proxy's connection ids (WorkerContext::ConnectionId and
// WorkerOfConnectionId): above kConnectionIdBase, unique across workers
// without a shared counter, and mapped back to their worker, also where
// the 32-bit id space wraps.
#include <cstdint>
#include <set>

#include "gtest/gtest.h"
#include "proxy/worker_context.h"

namespace ql::proxy {
namespace {

constexpr uint32_t kBase = WorkerContext::kConnectionIdBase;

TEST(ConnectionIds, StartAboveTheBaseAndMapBackToTheirWorker) {
  for (int workers : {1, 2, 3, 7}) {
    std::set<uint32_t> seen;
    for (int w = 0; w < workers; ++w) {
      for (uint64_t n = 1; n <= 50; ++n) {
        const uint32_t id = WorkerContext::ConnectionId(n, workers, w);
        EXPECT_GE(id, kBase);
        EXPECT_EQ(WorkerContext::WorkerOfConnectionId(id, workers), w) << workers << " " << id;
        EXPECT_TRUE(seen.insert(id).second) << "id " << id << " given twice";
      }
    }
  }
}

TEST(ConnectionIds, WrapStaysInRangeAndOnTheSameWorker) {
  for (int workers : {1, 2, 3}) {
    const uint64_t span = (uint64_t(UINT32_MAX) + 1 - kBase) / workers * workers;
    const uint64_t per_worker = span / workers;
    for (int w = 0; w < workers; ++w) {
      for (uint64_t n = per_worker - 3; n <= per_worker + 3; ++n) {
        const uint32_t id = WorkerContext::ConnectionId(n, workers, w);
        EXPECT_GE(id, kBase) << workers << " " << n;
        EXPECT_EQ(WorkerContext::WorkerOfConnectionId(id, workers), w) << workers << " " << n;
      }
    }
  }
  // The largest id is UINT32_MAX itself with one worker.
  const uint64_t span1 = uint64_t(UINT32_MAX) + 1 - kBase;
  EXPECT_EQ(WorkerContext::ConnectionId(span1 - 1, 1, 0), UINT32_MAX);
  EXPECT_EQ(WorkerContext::ConnectionId(span1, 1, 0), kBase);
}

TEST(ConnectionIds, ServerThreadIdsAndOutOfRangeIdsNameNoWorker) {
  EXPECT_EQ(WorkerContext::WorkerOfConnectionId(57, 2), -1);  // as SHOW PROCESSLIST shows
  EXPECT_EQ(WorkerContext::WorkerOfConnectionId(kBase - 1, 2), -1);
  EXPECT_EQ(WorkerContext::WorkerOfConnectionId(uint64_t(UINT32_MAX) + 1, 2), -1);
  EXPECT_EQ(WorkerContext::WorkerOfConnectionId(kBase + 3, 2), 1);
}

}  // namespace
}  // namespace ql::proxy
