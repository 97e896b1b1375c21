// Micro benchmarks of analyzer/: the statement path (tokenizer, fingerprint,
// digest id, classifier and sqlcommenter tags in StatementAnalyzer::Analyze)
// over corpora of statements as real clients send them, and the per-statement
// accounting (DigestStatsTable::Record, LatencyHistogram::Record). Reports
// ns per statement (the time column; one iteration is one statement), MB/s
// (bytes_per_second), and heap allocations per statement (allocs_per_stmt,
// from the counting hook in alloc_counter.cc; the target is 0).
//
// Corpora: bench/statement_corpus.cc (sysbench, point_select, django,
// in_list, mixed).
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/digest_stats.h"
#include "analyzer/fingerprint.h"
#include "analyzer/latency_histogram.h"
#include "analyzer/n_plus_one_detector.h"
#include "analyzer/n_plus_one_reporter.h"
#include "analyzer/n_plus_one_input.h"
#include "analyzer/n_plus_one_literals.h"
#include "analyzer/sql_tokenizer.h"
#include "analyzer/statement_analyzer.h"
#include "analyzer/statement_classifier.h"
#include "analyzer/statement_record.h"
#include "bench/alloc_counter.h"
#include "bench/statement_bench.h"
#include "bench/statement_corpus.h"
#include "benchmark/benchmark.h"

namespace ql::bench {
namespace {

using analyzer::StatementAnalyzer;

// ---- analyzer -----------------------------------------------------------------------

void BM_Analyze(benchmark::State& state) {
  auto corpus = MakeCorpus(CorpusKind(state.range(0)));
  StatementAnalyzer analyzer;
  PerStatement(state, corpus, [&](const std::string& s) {
    const auto& a = analyzer.Analyze(s);
    benchmark::DoNotOptimize(a.digest);
  });
}
BENCHMARK(BM_Analyze)->ArgName("corpus")->DenseRange(0, 4);

// What the proxy does per statement with the N+1 detector on: the analysis
// plus the literal summary, either as a second tokenizer pass
// (SummarizeLiterals) or folded into the analyzer's pass
// (set_summarize_literals). The folded summary is checked against the
// second pass: a mismatch fails the benchmark.
void BM_AnalyzeWithLiterals(benchmark::State& state) {
  auto corpus = MakeCorpus(CorpusKind(state.range(0)));
  const bool folded = state.range(1) != 0;
  StatementAnalyzer analyzer;
  analyzer.set_summarize_literals(folded);
  for (const std::string& s : corpus) {
    const analyzer::LiteralSummary one_pass = analyzer.Analyze(s).literals;
    const analyzer::LiteralSummary two_pass = analyzer::SummarizeLiterals(s);
    if (folded && (one_pass.values_hash != two_pass.values_hash ||
                   one_pass.filter_hash != two_pass.filter_hash ||
                   one_pass.literal_count != two_pass.literal_count ||
                   one_pass.page_slot_mask != two_pass.page_slot_mask)) {
      state.SkipWithError("folded literal summary differs from SummarizeLiterals");
      return;
    }
  }
  PerStatement(state, corpus, [&](const std::string& s) {
    const auto& a = analyzer.Analyze(s);
    const analyzer::LiteralSummary literals =
        folded ? a.literals : analyzer::SummarizeLiterals(s);
    benchmark::DoNotOptimize(a.digest);
    benchmark::DoNotOptimize(literals.values_hash);
  });
}
BENCHMARK(BM_AnalyzeWithLiterals)
    ->ArgNames({"corpus", "folded"})
    ->ArgsProduct({{0, 1, 2, 3, 4}, {0, 1}});

// The parts of Analyze alone, on the mixed corpus, to see where time goes.
void BM_TokenizeOnly(benchmark::State& state) {
  auto corpus = MakeCorpus(CorpusKind(state.range(0)));
  PerStatement(state, corpus, [&](const std::string& s) {
    analyzer::SqlTokenizer t(s);
    analyzer::Token tok;
    size_t n = 0;
    while (t.Next(&tok)) ++n;
    benchmark::DoNotOptimize(n);
  });
}
BENCHMARK(BM_TokenizeOnly)->ArgName("corpus")->Arg(0)->Arg(4);

void BM_FingerprintOnly(benchmark::State& state) {
  auto corpus = MakeCorpus(CorpusKind(state.range(0)));
  analyzer::Fingerprinter fp;
  std::string out;
  PerStatement(state, corpus, [&](const std::string& s) {
    fp.Fingerprint(s, &out);
    benchmark::DoNotOptimize(out.data());
  });
}
BENCHMARK(BM_FingerprintOnly)->ArgName("corpus")->Arg(0)->Arg(4);

void BM_ClassifyOnly(benchmark::State& state) {
  auto corpus = MakeCorpus(CorpusKind(state.range(0)));
  analyzer::StatementClassifier c;
  PerStatement(state, corpus, [&](const std::string& s) {
    auto cl = c.Classify(s);
    benchmark::DoNotOptimize(cl.statement_class);
  });
}
BENCHMARK(BM_ClassifyOnly)->ArgName("corpus")->Arg(0)->Arg(4);

// ---- per-statement accounting -----------------------------------------------------

// `keys` distinct (digest, fingerprint) pairs recorded round-robin into a
// table of the default 2,000 entries: up to 2,000 every record is a hit;
// above, the least recently used entry is evicted on every record (churn).
void BM_DigestStatsTable_Record(benchmark::State& state) {
  const size_t keys = size_t(state.range(0));
  std::vector<std::string> fingerprints;
  std::vector<uint64_t> digests;
  for (size_t i = 0; i < keys; ++i) {
    fingerprints.push_back("select c from sbtest" + std::to_string(i) + " where id = ?");
    digests.push_back(analyzer::DigestId(fingerprints.back()));
  }
  auto lat = Latencies(4096);
  analyzer::DigestStatsTable table;
  std::vector<analyzer::StatementRecord> records;
  for (size_t i = 0; i < keys; ++i) records.push_back(MakeRecord(digests[i], fingerprints[i], lat[i % lat.size()]));
  for (const auto& r : records) table.Record(r);  // warm-up
  size_t i = 0, j = 0;
  auto one = [&] {
    analyzer::StatementRecord& r = records[i];
    r.total_ns = lat[j];
    table.Record(r);
    if (++i == records.size()) i = 0;
    j = (j + 1) & 4095;
  };
  for (auto _ : state) one();
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.counters["evictions"] = double(table.evictions());
  CountAllocations(state, "allocs_per_stmt", std::max<size_t>(10000, 2 * keys), one);
}
BENCHMARK(BM_DigestStatsTable_Record)->ArgName("keys")->Arg(1)->Arg(100)->Arg(2000)->Arg(5000);

void BM_LatencyHistogram_Record(benchmark::State& state) {
  auto lat = Latencies(4096);
  analyzer::LatencyHistogram h;
  size_t j = 0;
  auto one = [&] {
    h.Record(lat[j]);
    j = (j + 1) & 4095;
  };
  for (auto _ : state) one();
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(int64_t(state.iterations()));
  CountAllocations(state, "allocs_per_stmt", 10000, one);
}
BENCHMARK(BM_LatencyHistogram_Record);

void BM_LatencyHistogram_Quantile(benchmark::State& state) {
  auto lat = Latencies(4096);
  analyzer::LatencyHistogram h;
  for (uint64_t v : lat) h.Record(v);
  for (auto _ : state) benchmark::DoNotOptimize(h.Quantile(0.99));
}
BENCHMARK(BM_LatencyHistogram_Quantile);

// ---- N+1 detector -------------------------------------------------------------------

// Django requests as one session sends them, each with its own traceparent,
// 300 us per statement and `gap` ms between requests (5: a busy pooled
// connection, where the new trace id closes the unit; 600: past the 500 ms
// idle gap, which closes it too; only 10 s without statements would give
// the unit table back); `loop`
// lookups of polls_choice per request (3: no finding; 12: an N+1 finding per
// request). `reporter` 1: the detector's FindingGate is a reporter, as in
// the proxy (proxy/n_plus_one_sink.cc), so a finding repeated within the
// deduplication interval is counted and never built; 0: every finding is
// built (what the first request of each interval costs). Arguments: loop,
// gap, reporter.
// The inputs are prepared up front (analysis, literal summary, call site),
// so the benchmark times NPlusOneDetector::Observe (and, for the findings
// it builds, the reporter's Admit): the step the proxy adds per statement.
class ReporterGate final : public analyzer::FindingGate {
 public:
  bool Skip(const analyzer::FindingHead& head) override {
    return reporter.SuppressRepeat(head, 0);
  }
  analyzer::NPlusOneReporter reporter;
};

void BM_NPlusOne_Observe(benchmark::State& state) {
  const size_t loop = size_t(state.range(0));
  const int64_t gap_ns = state.range(1) * 1'000'000;
  ReporterGate gate;
  std::vector<size_t> starts;
  auto corpus = DjangoCorpus(50, loop, &starts);
  std::deque<std::string> owned;  // never moves its strings
  auto keep = [&](std::string_view s) -> std::string_view { return owned.emplace_back(s); };
  std::vector<analyzer::NPlusOneInput> inputs;
  StatementAnalyzer analyzer;
  int64_t t = 1'000'000'000;
  size_t next_request = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    if (next_request < starts.size() && starts[next_request] == i) {
      t += gap_ns;
      ++next_request;
    }
    const auto& a = analyzer.Analyze(corpus[i]);
    analyzer::StatementRecord r = MakeRecord(a.digest, keep(a.fingerprint), 250'000);
    r.statement_class = a.classification.statement_class;
    if (r.statement_class == analyzer::StatementClass::kWrite) {
      r.rows_sent = 0;
      r.rows_affected = 1;
    }
    analyzer::NPlusOneInput in =
        analyzer::MakeNPlusOneInput(r, *a.tags, analyzer::SummarizeLiterals(corpus[i]), t);
    in.call_site.traceparent = keep(in.call_site.traceparent);
    in.call_site.route = keep(in.call_site.route);
    in.call_site.controller = keep(in.call_site.controller);
    in.call_site.framework = keep(in.call_site.framework);
    in.call_site.action = keep(in.call_site.action);
    in.call_site.app_name = keep(in.call_site.app_name);
    inputs.push_back(in);
    t += 300'000;
  }
  // The next pass starts `gap` after this one ends, as the next request would.
  const int64_t span = t - 1'000'000'000;

  analyzer::NPlusOneDetector detector({}, state.range(2) != 0 ? &gate : nullptr);
  std::vector<analyzer::NPlusOneFinding> findings;
  uint64_t found = 0;
  size_t i = 0;
  int64_t offset = 0;
  auto one = [&] {
    analyzer::NPlusOneInput in = inputs[i];
    in.start_ns += offset;
    detector.Observe(in, &findings);
    if (!findings.empty()) {
      found += findings.size();
      for (analyzer::NPlusOneFinding& f : findings) gate.reporter.Admit(&f, 0);
      findings.clear();
    }
    if (++i == inputs.size()) {
      i = 0;
      offset += span;
    }
  };
  for (size_t k = 0; k < inputs.size(); ++k) one();  // warm-up
  found = 0;
  for (auto _ : state) one();
  state.SetItemsProcessed(int64_t(state.iterations()));
  // Findings built (not counted by the gate) per request.
  state.counters["built_per_request"] =
      double(found) / (double(state.iterations()) / double(inputs.size()) * double(starts.size()));
  CountAllocations(state, "allocs_per_stmt", 3 * inputs.size(), one);
}
BENCHMARK(BM_NPlusOne_Observe)
    ->ArgNames({"loop", "gap_ms", "reporter"})
    ->ArgsProduct({{3, 12}, {5, 600}, {0, 1}});

// What a worker does per statement outside the relay, as
// proxy/statement_recorder.cc wires it: analyze, keep the identity (digest,
// fingerprint copied into a reused string, class), then fill a record and
// account it in the digest table. The metrics shard and the recorder as a
// whole are in bench_proxy; the slow log is off by default.
void BM_StatementPath(benchmark::State& state) {
  auto corpus = MakeCorpus(CorpusKind(state.range(0)));
  auto lat = Latencies(4096);
  StatementAnalyzer analyzer;
  analyzer::DigestStatsTable table;
  std::string fingerprint;
  size_t j = 0;
  PerStatement(state, corpus, [&](const std::string& s) {
    const auto& a = analyzer.Analyze(s);
    fingerprint.assign(a.fingerprint);
    analyzer::StatementRecord r = MakeRecord(a.digest, fingerprint, lat[j]);
    r.statement_class = a.classification.statement_class;
    j = (j + 1) & 4095;
    table.Record(r);
  });
}
BENCHMARK(BM_StatementPath)->ArgName("corpus")->DenseRange(0, 4);

}  // namespace
}  // namespace ql::bench
