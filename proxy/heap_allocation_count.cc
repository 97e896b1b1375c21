// Implementation of HeapAllocationCount: asks the hook if one is linked.
#include "proxy/heap_allocation_count.h"

namespace ql::proxy {

std::optional<HeapAllocationCounts> HeapAllocationCount() {
  // An undefined weak symbol has address null.
  if (&querylens_heap_allocation_count == nullptr) return std::nullopt;
  return HeapAllocationCounts{querylens_heap_allocation_count(1),
                              querylens_heap_allocation_count(0)};
}

void CountHeapAllocationsAsWorker() {
  if (&querylens_heap_allocation_mark_worker != nullptr) querylens_heap_allocation_mark_worker();
}

}  // namespace ql::proxy
