// Micro benchmarks of proxy/ pieces that run once per statement on a
// worker, outside the socket I/O: the metrics shard increment
// (WorkerMetrics::OnStatement), the whole statement recorder
// (StatementRecorder::Analyze + Record: analyzer, digest table, metrics
// shard; no slow log, which is off by default) and the router decision
// (hint scan, --route-rule match, RoutePlanner, replica choice). ns per
// statement and heap allocations per statement (target 0).
//
// The relay itself (Asio sockets) is not in here yet; its allocations are
// measured on the running proxy (bench/RESULTS.md, "Allocations on the relay
// path").
#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/route_rules.h"
#include "analyzer/statement_classifier.h"
#include "analyzer/statement_record.h"
#include "bench/alloc_counter.h"
#include "bench/statement_bench.h"
#include "bench/statement_corpus.h"
#include "benchmark/benchmark.h"
#include "proxy/config.h"
#include "proxy/metrics_shard.h"
#include "proxy/replica_selector.h"
#include "proxy/route_planner.h"
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

// What a session decides per statement before it picks a connection
// (ClientSession::ChooseSlot): the comment-hint scan over the text, the
// --route-rule match (range(1) rules, none matching, the worst case: every
// rule is tried), the planner, and for replica reads the replica choice
// among two. The classification and fingerprint come from the recorder's
// Analyze pass and are computed beforehand.
void BM_RouteDecision(benchmark::State& state) {
  const auto corpus = MakeCorpus(CorpusKind(state.range(0)));
  struct Prepared {
    analyzer::Classification classification;
    std::string fingerprint;
    uint64_t digest;
  };
  std::vector<Prepared> prepared;
  proxy::Config config;
  proxy::StatementRecorder recorder(config, nullptr);
  analyzer::StatementClassifier classifier;
  for (const std::string& s : corpus) {
    proxy::StatementIdentity identity;
    recorder.Analyze(s, &identity);
    prepared.push_back(
        {classifier.Classify(s), std::string(identity.fingerprint), identity.digest});
  }
  std::vector<analyzer::RouteRule> rules;
  const char* const kRules[] = {"user=reporting=>replica", "schema=analytics=>replica",
                                "fingerprint=select * from audit_log*=>primary",
                                "digest=00000000deadbeef=>replica"};
  for (int64_t i = 0; i < state.range(1); ++i) {
    rules.push_back(*analyzer::ParseRouteRule(kRules[i % 4]));
  }

  proxy::HealthSnapshot health;
  health.round = 10;
  health.backends.resize(3);
  health.backends[0].role = analyzer::BackendRole::kPrimary;
  for (size_t b = 1; b < 3; ++b) health.backends[b].usable_for_reads = true;
  proxy::ReplicaSelector replicas(3, proxy::ReplicaSelection::kLeastOutstanding);

  uint64_t decisions = 0;
  uint64_t to_replica = 0;
  PerStatement(state, corpus, [&](const std::string& s) {
    const Prepared& p = prepared[size_t(&s - corpus.data())];
    ++decisions;
    proxy::RouteFacts f;
    f.classification = &p.classification;
    f.hint = proxy::FindRouteHint(s);
    if (!rules.empty()) {
      f.rule = analyzer::MatchRouteRules(rules, "sbtest", "sbtest", p.digest, p.fingerprint);
    }
    f.replica_usable = replicas.AnyUsable(&health);
    f.fingerprint = p.fingerprint;
    const proxy::RouteChoice choice = proxy::PlanRoute(f);
    if (choice.replica) {
      const size_t b = replicas.Choose(&health);
      replicas.StatementStarted(b);
      replicas.StatementEnded(b);
      ++to_replica;
    }
    benchmark::DoNotOptimize(choice);
  });
  state.counters["replica_share"] = double(to_replica) / double(decisions);
}
BENCHMARK(BM_RouteDecision)
    ->ArgNames({"corpus", "rules"})
    ->ArgsProduct({benchmark::CreateDenseRange(0, kCorpusCount - 1, 1), {0, 4}});

}  // namespace
}  // namespace ql::bench
