// Checks the analyzer's hot-path promise: once its buffers have grown to fit
// a workload, analyzing the same kinds of statements again allocates
// nothing. Counts calls to the global operator new, which this file replaces
// for the whole analyzer_test binary (the replacement only counts and then
// defers to malloc).
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "analyzer/statement_analyzer.h"
#include "gtest/gtest.h"
#include "tests/unit/analyzer_test_util.h"

namespace {
std::atomic<long> g_allocations{0};

void* CountedAlloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return CountedAlloc(n); }
void* operator new[](std::size_t n) { return CountedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace ql::analyzer {
namespace {

TEST(AnalyzerAllocation, SteadyStateAllocatesNothing) {
  std::vector<std::string> inputs;
  for (const auto& c : testutil::LoadFingerprintCases()) inputs.push_back(c.input);
  for (const auto& c : testutil::LoadClassifierCases()) inputs.push_back(c.sql);
  ASSERT_GE(inputs.size(), 300u);
  StatementAnalyzer analyzer;
  uint64_t sink = 0;
  for (const std::string& sql : inputs) sink += analyzer.Analyze(sql).digest;  // warm-up
  const long before = g_allocations.load();
  for (int round = 0; round < 3; ++round) {
    for (const std::string& sql : inputs) {
      const StatementAnalysis& a = analyzer.Analyze(sql);
      sink += a.digest + a.fingerprint.size() + a.tags->size() +
              static_cast<uint64_t>(a.classification.statement_class);
    }
  }
  const long after = g_allocations.load();
  EXPECT_EQ(after - before, 0) << "allocations in steady state";
  EXPECT_NE(sink, 0u);
}

}  // namespace
}  // namespace ql::analyzer
