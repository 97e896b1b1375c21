// Whole-process heap allocation counting for querylens_alloc_counting (the
// proxy built with this file; see bench/CMakeLists.txt). It interposes the
// malloc family, so it sees every allocation: operator new (libstdc++ calls
// malloc), Asio's coroutine frames (std::aligned_alloc), OpenSSL, libc.
// Memory still comes from glibc (its __libc_* entry points): only a counter
// is added. /metrics exports the counts, the worker threads' apart
// (proxy/heap_allocation_count.h).
//
// Finding where allocations come from: with
//   QUERYLENS_ALLOC_TRACE=SECONDS,COUNT
// the first COUNT allocations made SECONDS or more after start-up (so, in
// steady state under load) print a backtrace to stderr, e.g.
//   QUERYLENS_ALLOC_TRACE=20,200 querylens_alloc_counting ... 2>trace.txt
//   c++filt <trace.txt | less
// The binary is linked with -rdynamic, so its own functions have names.
#include <execinfo.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
void __libc_free(void* p);
}

namespace {

// Worker threads (they call querylens_heap_allocation_mark_worker when they
// start) and all other threads, counted apart: the statement path runs on
// the workers.
std::atomic<uint64_t> g_worker_allocations{0};
std::atomic<uint64_t> g_other_allocations{0};
thread_local bool t_worker = false;

// Backtrace mode (QUERYLENS_ALLOC_TRACE); off unless set before main().
std::atomic<int64_t> g_trace_remaining{0};
int64_t g_trace_start_ns = 0;
// Set while a backtrace is taken: backtrace() may allocate itself.
thread_local bool t_tracing = false;

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Writes without allocating (no stdio).
void WriteText(const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= size_t(w);
  }
}

void WriteNumber(uint64_t v) {
  char buf[24];
  size_t i = sizeof buf;
  do {
    buf[--i] = char('0' + v % 10);
    v /= 10;
  } while (v != 0);
  WriteText(buf + i, sizeof buf - i);
}

void Trace(size_t size) {
  if (t_tracing || MonotonicNs() < g_trace_start_ns) return;
  if (g_trace_remaining.fetch_sub(1, std::memory_order_relaxed) <= 0) return;
  t_tracing = true;
  void* frames[40];
  int n = backtrace(frames, 40);
  WriteText("--- allocation of ", 18);
  WriteNumber(size);
  WriteText(" bytes, thread ", 15);
  WriteNumber(uint64_t(gettid()));
  WriteText("\n", 1);
  // Frame 0 is Trace, 1 Count, 2 the malloc function.
  if (n > 2) backtrace_symbols_fd(frames + 2, n - 2, 2);
  t_tracing = false;
}

inline void Count(size_t size) {
  (t_worker ? g_worker_allocations : g_other_allocations).fetch_add(1, std::memory_order_relaxed);
  if (g_trace_remaining.load(std::memory_order_relaxed) > 0) Trace(size);
}

// Reads QUERYLENS_ALLOC_TRACE before main().
__attribute__((constructor)) void ReadTraceConfig() {
  const char* v = std::getenv("QUERYLENS_ALLOC_TRACE");
  if (v == nullptr || *v == '\0') return;
  char* end = nullptr;
  const double seconds = std::strtod(v, &end);
  long count = 100;
  if (end != nullptr && *end == ',') count = std::strtol(end + 1, nullptr, 10);
  // backtrace() loads libgcc_s on first use: do it now, not inside malloc.
  void* frame[1];
  t_tracing = true;
  backtrace(frame, 1);
  t_tracing = false;
  g_trace_start_ns = MonotonicNs() + int64_t(seconds * 1e9);
  g_trace_remaining.store(count, std::memory_order_relaxed);
}

bool PowerOfTwo(size_t a) { return a != 0 && (a & (a - 1)) == 0; }

}  // namespace

extern "C" {

uint64_t querylens_heap_allocation_count(int workers) {
  return (workers != 0 ? g_worker_allocations : g_other_allocations)
      .load(std::memory_order_relaxed);
}

void querylens_heap_allocation_mark_worker() { t_worker = true; }

void* malloc(size_t size) {
  Count(size);
  return __libc_malloc(size);
}

void* calloc(size_t n, size_t size) {
  Count(n * size);
  return __libc_calloc(n, size);
}

void* realloc(void* p, size_t size) {
  Count(size);
  return __libc_realloc(p, size);
}

void* reallocarray(void* p, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, total);
}

void free(void* p) { __libc_free(p); }

void* memalign(size_t alignment, size_t size) {
  Count(size);
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
  Count(size);
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  if (!PowerOfTwo(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  Count(size);
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(size_t size) {
  Count(size);
  return __libc_valloc(size);
}

void* pvalloc(size_t size) {
  Count(size);
  return __libc_pvalloc(size);
}

}  // extern "C"
