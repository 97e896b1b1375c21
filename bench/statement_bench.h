// Shared pieces of the per-statement benchmarks (bench_analyzer,
// bench_proxy): the loop that feeds a corpus one statement per iteration,
// a filled-in StatementRecord, and a latency distribution.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/statement_record.h"
#include "bench/alloc_counter.h"
#include "bench/statement_corpus.h"
#include "benchmark/benchmark.h"

namespace ql::bench {

// One iteration = one statement, cycling through the corpus, so the time
// column is ns per statement; bytes_per_second is statement text per second.
// The corpus kind is state.range(0).
template <typename Fn>
void PerStatement(benchmark::State& state, const std::vector<std::string>& corpus, Fn&& fn) {
  // Warm-up: one pass so reusable buffers reach their steady-state size.
  for (const auto& s : corpus) fn(s);
  size_t i = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    const std::string& s = corpus[i];
    fn(s);
    bytes += s.size();
    if (++i == corpus.size()) i = 0;
  }
  state.SetBytesProcessed(int64_t(bytes));
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.counters["avg_stmt_bytes"] = double(TotalBytes(corpus)) / double(corpus.size());
  // Three more passes over the corpus, counted.
  CountAllocations(state, "allocs_per_stmt", 3 * corpus.size(), [&, k = size_t(0)]() mutable {
    fn(corpus[k++ % corpus.size()]);
  });
  state.SetLabel(CorpusName(CorpusKind(state.range(0))));
}

// A record as a session fills it in for a successful read on the primary.
inline analyzer::StatementRecord MakeRecord(uint64_t digest, std::string_view fingerprint,
                                            uint64_t ns) {
  analyzer::StatementRecord r;
  r.digest = digest;
  r.fingerprint = fingerprint;
  r.schema = "sbtest";
  r.user = "sbtest";
  r.client_address = "127.0.0.1";
  r.session_id = 7;
  r.backend_role = analyzer::BackendRole::kPrimary;
  r.statement_class = analyzer::StatementClass::kRead;
  r.start_time_ns = 1'790'000'000'000'000'000 + int64_t(ns);
  r.backend_first_byte_ns = ns * 9 / 10;
  r.total_ns = ns;
  r.rows_sent = 1;
  r.bytes_sent = 140;
  r.bytes_received = 40;
  return r;
}

// `n` latencies, log-uniform between 20 us and 200 ms, like a mixed OLTP
// workload.
inline std::vector<uint64_t> Latencies(size_t n) {
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(std::log(20e3), std::log(200e6));
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = uint64_t(std::exp(u(gen)));
  return v;
}

}  // namespace ql::bench
