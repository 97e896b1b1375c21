// How many heap allocations the process has made, when a counting hook is
// linked in. The normal querylens binary has none and reports nothing; the
// benchmark build querylens_alloc_counting (bench/malloc_counter.cc) counts
// every malloc-family call, and /metrics then exports the total as
// querylens_heap_allocations_total, so allocations per query can be read
// from a running proxy (bench/per_query.sh).
#pragma once

#include <cstdint>
#include <optional>

namespace ql::proxy {

struct HeapAllocationCounts {
  uint64_t workers = 0;  // made on worker threads (the statement path)
  uint64_t others = 0;   // monitor, admin, start-up ...
};

// Heap allocations since the process started; nullopt without the hook.
std::optional<HeapAllocationCounts> HeapAllocationCount();

// Called by each worker thread when it starts: its allocations count as the
// workers' from then on. Does nothing without the hook.
void CountHeapAllocationsAsWorker();

}  // namespace ql::proxy

// Defined only by a counting hook (bench/malloc_counter.cc); weak
// references here, so that the normal binary links without them.
extern "C" uint64_t querylens_heap_allocation_count(int workers) __attribute__((weak));
extern "C" void querylens_heap_allocation_mark_worker() __attribute__((weak));
