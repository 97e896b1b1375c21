// Micro benchmarks of proxy/ pieces that run once per statement on a
// worker, outside the socket I/O: the metrics shard increment
// (WorkerMetrics::OnStatement) and the whole statement recorder
// (StatementRecorder::Analyze + Record: analyzer, digest table, metrics
// shard; no slow log, which is off by default). ns per statement and heap
// allocations per statement (target 0).
//
// The relay itself (Asio sockets) is not in here yet; its allocations are
// measured on the running proxy (bench/RESULTS.md, "Allocations on the relay
// path").
#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/statement_record.h"
#include "bench/alloc_counter.h"
#include "bench/statement_bench.h"
#include "bench/statement_corpus.h"
#include "benchmark/benchmark.h"
#include "proxy/config.h"
#include "proxy/metrics_shard.h"
#include "proxy/statement_recorder.h"

namespace ql::bench {
namespace {

void BM_WorkerMetrics_OnStatement(benchmark::State& state) {
  auto lat = Latencies(4096);
  proxy::WorkerMetrics metrics;
  std::vector<analyzer::StatementRecord> records;
  const analyzer::StatementClass classes[] = {analyzer::StatementClass::kRead,
                                              analyzer::StatementClass::kWrite,
                                              analyzer::StatementClass::kTransactionControl};
  for (size_t i = 0; i < lat.size(); ++i) {
    analyzer::StatementRecord r = MakeRecord(i, "select c from sbtest1 where id = ?", lat[i]);
    r.statement_class = classes[i % 3];
    if (i % 97 == 0) r.error_code = 1213;
    records.push_back(r);
  }
  size_t j = 0;
  auto one = [&] {
    metrics.OnStatement(records[j]);
    j = (j + 1) & 4095;
  };
  for (auto _ : state) one();
  state.SetItemsProcessed(int64_t(state.iterations()));
  CountAllocations(state, "allocs_per_stmt", 10000, one);
}
BENCHMARK(BM_WorkerMetrics_OnStatement);

// What a session hands its worker's StatementRecorder per statement:
// Analyze when the command arrives, Record when the response is out.
void BM_StatementRecorder(benchmark::State& state) {
  auto corpus = MakeCorpus(CorpusKind(state.range(0)));
  auto lat = Latencies(4096);
  proxy::Config config;
  proxy::StatementRecorder recorder(config, nullptr);
  proxy::StatementIdentity identity;
  size_t j = 0;
  PerStatement(state, corpus, [&](const std::string& s) {
    recorder.Analyze(s, &identity);
    analyzer::StatementRecord r = MakeRecord(identity.digest, identity.fingerprint, lat[j]);
    r.statement_class = identity.statement_class;
    r.bytes_received = s.size() + 4;
    j = (j + 1) & 4095;
    recorder.Record(r, s);
  });
}
BENCHMARK(BM_StatementRecorder)->ArgName("corpus")->DenseRange(0, kCorpusCount - 1);

}  // namespace
}  // namespace ql::bench
