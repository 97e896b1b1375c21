// Allocation counting for the benchmark binaries. alloc_counter.cc replaces
// the global operator new/delete family of every bench_* executable: each
// call to a replaced operator new bumps a process-wide counter and then
// defers to malloc. Benchmarks read the counter around their timed loop and
// report allocations per iteration (or per statement) as a counter, so a
// regression on the zero-allocation hot path shows in the output.
#pragma once

#include <cstdint>

#include "benchmark/benchmark.h"

namespace ql::bench {

// Total calls to any replaced operator new since the process started.
uint64_t AllocationCount();

// Runs `work` (one unit: a statement, a response, a buffer of packets)
// `units` times outside the timed loop and stores the allocations per unit
// as state.counters[name]. Counting is kept out of the timed loop because
// Google Benchmark itself allocates a few times per run (a constant that
// would otherwise show as a small non-zero rate). Call it after the timed
// loop, so that the reusable buffers are warm, as in steady state.
template <typename Work>
void CountAllocations(benchmark::State& state, const char* name, uint64_t units, Work&& work) {
  const uint64_t before = AllocationCount();
  for (uint64_t i = 0; i < units; ++i) work();
  const uint64_t n = AllocationCount() - before;
  state.counters[name] = benchmark::Counter(units == 0 ? 0.0 : double(n) / double(units));
}

}  // namespace ql::bench
