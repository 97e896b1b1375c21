// Implementation of the /metrics exposition.
#include "proxy/metrics_exposition.h"

#include "proxy/metrics_family_builder.h"

#include <algorithm>
#include <array>
#include <limits>
#include <sstream>
#include <tuple>

#include <prometheus/text_serializer.h>

#include "analyzer/digest.h"
#include "analyzer/latency_histogram.h"
#include "proxy/heap_allocation_count.h"
#include "proxy/metrics_backends.h"

namespace ql::proxy {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using analyzer::BackendRole;

constexpr std::array<BackendRole, 3> kRoles = {BackendRole::kPrimary, BackendRole::kReplica,
                                               BackendRole::kNone};

using metrics_build::Add;
using metrics_build::AddValue;
using metrics_build::Family;

void AddHistogram(MetricFamily& f, std::vector<ClientMetric::Label> labels,
                  const analyzer::LatencyHistogram& h) {
  constexpr auto& bounds = analyzer::kPrometheusLatencyBuckets;
  std::array<uint64_t, bounds.size()> cumulative{};
  h.CumulativeCounts(bounds, cumulative);
  ClientMetric& m = Add(f, std::move(labels));
  m.histogram.sample_count = h.count();
  m.histogram.sample_sum = double(h.sum()) / 1e9;
  m.histogram.bucket.reserve(bounds.size() + 1);
  for (size_t i = 0; i < bounds.size(); ++i) {
    m.histogram.bucket.push_back({cumulative[i], bounds[i]});
  }
  m.histogram.bucket.push_back({h.count(), std::numeric_limits<double>::infinity()});
}

std::string S(std::string_view v) { return std::string(v); }

// N+1 findings (n_plus_one_sink.h): every kind x confidence series is
// always present, so rate() works from the first finding.
void AddNPlusOneFamilies(const WorkerMetrics& m, std::vector<MetricFamily>& out) {
  using analyzer::Confidence;
  using analyzer::FindingKind;
  MetricFamily findings = Family("querylens_n_plus_one_findings_total",
                                 "N+1 detector findings by kind and confidence, including those "
                                 "the log deduplicated (not allow-listed or silenced ones).",
                                 MetricType::Counter);
  MetricFamily statements = Family("querylens_n_plus_one_statements_total",
                                   "Statements in the repeats of N+1 findings, by kind.",
                                   MetricType::Counter);
  MetricFamily seconds = Family("querylens_n_plus_one_seconds_total",
                                "Time spent in the repeats of N+1 findings, by kind.",
                                MetricType::Counter);
  for (int k = 0; k < analyzer::kFindingKindCount; ++k) {
    const auto kind = FindingKind(k);
    const std::string name = S(analyzer::FindingKindName(kind));
    for (int c = analyzer::kConfidenceCount - 1; c >= 0; --c) {
      const auto confidence = Confidence(c);
      AddValue(findings, {{"kind", name}, {"confidence", S(analyzer::ConfidenceName(confidence))}},
               double(m.n_plus_one_findings(kind, confidence)));
    }
    if (kind == FindingKind::kTooManyStatements) continue;
    AddValue(statements, {{"kind", name}}, double(m.n_plus_one_statements(kind)));
    AddValue(seconds, {{"kind", name}}, double(m.n_plus_one_ns(kind)) / 1e9);
  }
  out.push_back(std::move(findings));
  out.push_back(std::move(statements));
  out.push_back(std::move(seconds));
  MetricFamily decisions = Family("querylens_n_plus_one_decisions_total",
                                  "N+1 findings by what the reporter decided: report (logged), "
                                  "suppressed (deduplicated), allow_listed, silenced "
                                  "(querylens_ignore).",
                                  MetricType::Counter);
  for (int d = 0; d < 4; ++d) {
    const auto decision = analyzer::ReportDecision(d);
    AddValue(decisions, {{"decision", S(analyzer::ReportDecisionName(decision))}},
             double(m.n_plus_one_decisions(decision)));
  }
  out.push_back(std::move(decisions));
}

void AddDigestFamilies(const ExpositionInput& in, std::vector<MetricFamily>& out) {
  const analyzer::DigestSnapshot& digests = in.snapshot->digests;
  std::vector<DigestSeries> series;
  series.reserve(digests.entries().size());
  for (const auto& e : digests.entries()) {
    series.push_back({e.digest, e.schema, {e.stats.count(), e.stats.total_ns()}});
  }
  std::sort(series.begin(), series.end(), [](const DigestSeries& a, const DigestSeries& b) {
    return std::tie(a.digest, a.schema) < std::tie(b.digest, b.schema);
  });
  // Coalesce the users and roles of each pair.
  size_t n = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    if (n > 0 && series[n - 1].digest == series[i].digest &&
        series[n - 1].schema == series[i].schema) {
      series[n - 1].counts += series[i].counts;
    } else {
      series[n++] = series[i];
    }
  }
  series.resize(n);
  auto by_time = [](const DigestSeries& a, const DigestSeries& b) {
    if (a.counts.total_ns != b.counts.total_ns) return a.counts.total_ns > b.counts.total_ns;
    return std::tie(a.digest, a.schema) < std::tie(b.digest, b.schema);
  };
  const size_t top = std::min(in.top_digests, series.size());
  std::partial_sort(series.begin(), series.begin() + ptrdiff_t(top), series.end(), by_time);
  // Counters must not go backwards between scrapes: the admin's ledger
  // accounts for growth (digest_series_ledger.h). Without one, a fresh ledger
  // gives every pair its whole count, as a first scrape would.
  DigestSeriesLedger fresh;
  DigestSeriesLedger& ledger = in.digest_ledger != nullptr ? *in.digest_ledger : fresh;
  const DigestCounts evicted{digests.evicted().statements, digests.evicted().total_ns};
  const DigestExposition& exposed = ledger.Account(series, top, evicted);

  MetricFamily statements =
      Family("querylens_digest_statements_total",
             "Statements per digest (masked fingerprint id) and schema, for the top digests by "
             "total time; the rest, including evicted digests, under digest=\"other\".",
             MetricType::Counter);
  MetricFamily seconds = Family("querylens_digest_seconds_total",
                                "Total statement time per digest and schema, for the top digests "
                                "by total time; the rest under digest=\"other\".",
                                MetricType::Counter);
  MetricFamily info = Family("querylens_digest_info",
                             "The masked fingerprint text of each top digest (value 1).",
                             MetricType::Gauge);
  std::vector<uint64_t> described;
  char hex[16];
  for (const ExposedDigest& d : exposed.top) {
    analyzer::DigestHexTo(d.digest, hex);
    std::string id(hex, sizeof hex);
    AddValue(statements, {{"digest", id}, {"schema", d.schema}}, double(d.counts.statements));
    AddValue(seconds, {{"digest", id}, {"schema", d.schema}}, double(d.counts.total_ns) / 1e9);
    if (std::find(described.begin(), described.end(), d.digest) == described.end()) {
      described.push_back(d.digest);
      AddValue(info,
               {{"digest", id},
                {"fingerprint", SafeText(digests.Fingerprint(d.digest), kDigestInfoTextBytes)}},
               1);
    }
  }
  AddValue(statements, {{"digest", "other"}, {"schema", ""}}, double(exposed.other.statements));
  AddValue(seconds, {{"digest", "other"}, {"schema", ""}}, double(exposed.other.total_ns) / 1e9);
  out.push_back(std::move(statements));
  out.push_back(std::move(seconds));
  out.push_back(std::move(info));

  MetricFamily tracked = Family("querylens_digests_tracked",
                                "Digest statistics entries (digest, schema, user, role) held by "
                                "all workers.",
                                MetricType::Gauge);
  AddValue(tracked, {}, double(digests.entries().size()));
  out.push_back(std::move(tracked));
  MetricFamily evictions = Family("querylens_digest_evictions_total",
                                  "Digest statistics entries evicted to keep the tables bounded "
                                  "(--digest-max-entries per worker).",
                                  MetricType::Counter);
  AddValue(evictions, {}, double(digests.evictions()));
  out.push_back(std::move(evictions));
}

}  // namespace

std::string SafeText(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    size_t len = 0;
    if (b < 0x80) {
      len = 1;
    } else {
      // Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates.
      unsigned char lo = 0x80, hi = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
      } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
      } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
      }
      if (len == 0 || i + len > text.size()) {
        len = 0;
      } else {
        for (size_t k = 1; k < len; ++k) {
          const auto c = static_cast<unsigned char>(text[i + k]);
          const unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
          if (c < min || c > max) {
            len = 0;
            break;
          }
        }
      }
    }
    const size_t produced = len == 0 ? 1 : len;
    if (out.size() + produced > max_bytes) {
      out.append("...");
      return out;
    }
    if (len == 0) {
      out.push_back('?');
      i += 1;
    } else if (len == 1) {
      out.push_back(b < 0x20 || b == 0x7F ? ' ' : char(b));
      i += 1;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::vector<MetricFamily> BuildMetricFamilies(const ExpositionInput& in) {
  const ProxySnapshot& snap = *in.snapshot;
  const WorkerMetrics& m = snap.metrics;
  std::vector<MetricFamily> out;

  MetricFamily build = Family("querylens_build_info", "querylens version (value 1).",
                              MetricType::Gauge);
  AddValue(build, {{"version", S(in.version)}}, 1);
  out.push_back(std::move(build));

  // Only in the allocation-counting benchmark build (bench/per_query.sh).
  if (const std::optional<HeapAllocationCounts> heap = HeapAllocationCount()) {
    MetricFamily allocs = Family("querylens_heap_allocations_total",
                                 "Heap allocations since start, by the threads that made them "
                                 "(allocation-counting build only).",
                                 MetricType::Counter);
    AddValue(allocs, {{"threads", "workers"}}, double(heap->workers));
    AddValue(allocs, {{"threads", "others"}}, double(heap->others));
    out.push_back(std::move(allocs));
  }

  MetricFamily statements =
      Family("querylens_statements_total",
             "Statements (text queries and prepared-statement executions) by the backend role "
             "that answered and statement class.",
             MetricType::Counter);
  MetricFamily duration = Family("querylens_statement_duration_seconds",
                                 "Statement latency as the client saw it: from the whole command "
                                 "read to the last response byte written.",
                                 MetricType::Histogram);
  for (BackendRole role : kRoles) {
    for (int c = 0; c < kStatementClassCount; ++c) {
      const auto cls = analyzer::StatementClass(c);
      const analyzer::LatencyHistogram& h = m.statements(role, cls);
      if (h.count() == 0) continue;  // a combination appears once seen, then stays
      const std::string role_name = S(analyzer::BackendRoleName(role));
      const std::string class_name = S(analyzer::StatementClassName(cls));
      AddValue(statements, {{"role", role_name}, {"class", class_name}}, double(h.count()));
      AddHistogram(duration, {{"role", role_name}, {"class", class_name}}, h);
    }
  }
  out.push_back(std::move(statements));
  out.push_back(std::move(duration));

  MetricFamily errors = Family("querylens_statement_errors_total",
                               "Statements that ended in an ERR packet, by error class (see "
                               "proxy/metrics_shard.h for the code mapping).",
                               MetricType::Counter);
  for (int c = 0; c < kErrorClassCount; ++c) {
    AddValue(errors, {{"class", S(ErrorClassName(ErrorClass(c)))}},
             double(m.errors(ErrorClass(c))));
  }
  out.push_back(std::move(errors));

  MetricFamily rows_sent = Family("querylens_rows_sent_total",
                                  "Result-set rows relayed to clients.", MetricType::Counter);
  MetricFamily rows_affected = Family("querylens_rows_affected_total",
                                      "Rows the backends reported as affected.",
                                      MetricType::Counter);
  for (BackendRole role : kRoles) {
    AddValue(rows_sent, {{"role", S(analyzer::BackendRoleName(role))}}, double(m.rows_sent(role)));
    AddValue(rows_affected, {{"role", S(analyzer::BackendRoleName(role))}},
             double(m.rows_affected(role)));
  }
  out.push_back(std::move(rows_sent));
  out.push_back(std::move(rows_affected));

  MetricFamily sent = Family("querylens_client_sent_bytes_total",
                             "Bytes of statement responses written to clients.",
                             MetricType::Counter);
  AddValue(sent, {}, double(m.bytes_to_clients()));
  out.push_back(std::move(sent));
  MetricFamily received = Family("querylens_client_received_bytes_total",
                                 "Bytes of statements read from clients.", MetricType::Counter);
  AddValue(received, {}, double(m.bytes_from_clients()));
  out.push_back(std::move(received));

  MetricFamily clients = Family("querylens_client_connections", "Open client connections.",
                                MetricType::Gauge);
  AddValue(clients, {}, double(std::max<int64_t>(0, m.client_connections_current())));
  out.push_back(std::move(clients));
  MetricFamily clients_total = Family("querylens_client_connections_total",
                                      "Client connections accepted.", MetricType::Counter);
  AddValue(clients_total, {}, double(m.client_connections_total()));
  out.push_back(std::move(clients_total));
  MetricFamily login_failures = Family("querylens_client_login_failures_total",
                                       "Client logins (handshake or COM_CHANGE_USER) that failed, "
                                       "by reason: access_denied, handshake, backend.",
                                       MetricType::Counter);
  for (int i = 0; i < kLoginFailureCount; ++i) {
    AddValue(login_failures, {{"reason", S(LoginFailureName(LoginFailure(i)))}},
             double(m.login_failures(LoginFailure(i))));
  }
  out.push_back(std::move(login_failures));

  // Per backend: every configured backend, so the series exist from the start.
  MetricFamily backend_conns = Family("querylens_backend_connections",
                                      "Backend connections open in the workers' pools (held by "
                                      "client sessions, being reset, or idle).",
                                      MetricType::Gauge);
  MetricFamily idle_conns = Family("querylens_pool_idle_connections",
                                   "Backend connections idle in the workers' pools, reset and "
                                   "ready for the next session.",
                                   MetricType::Gauge);
  MetricFamily wait_timeouts = Family("querylens_pool_wait_timeouts_total",
                                      "Waits for a pool connection that ran out of "
                                      "--pool-wait-timeout: the client got ERR 1040.",
                                      MetricType::Counter);
  MetricFamily failures = Family("querylens_backend_connect_failures_total",
                                 "Backend connection attempts that failed (connect, TLS or login).",
                                 MetricType::Counter);
  MetricFamily up = Family("querylens_backend_up",
                           "1 when the backend answered the last probe (a login, at most every "
                           "few seconds), else 0.",
                           MetricType::Gauge);
  for (const BackendStatus& b : in.backends) {
    const std::string role = S(analyzer::BackendRoleName(b.role));
    int64_t conns = 0;
    int64_t idle = 0;
    uint64_t timeouts = 0;
    for (const auto& c : snap.backend_connections) {
      if (c.backend == b.name) {
        conns += c.connections;
        idle += c.idle;
        timeouts += c.wait_timeouts;
      }
    }
    uint64_t failed = 0;
    for (const auto& [name, count] : m.connect_failures()) {
      if (name == b.name) failed += count;
    }
    AddValue(backend_conns, {{"backend", b.name}, {"role", role}}, double(conns));
    AddValue(idle_conns, {{"backend", b.name}, {"role", role}}, double(idle));
    AddValue(wait_timeouts, {{"backend", b.name}, {"role", role}}, double(timeouts));
    AddValue(failures, {{"backend", b.name}}, double(failed));
    AddValue(up, {{"backend", b.name}, {"role", role}}, b.up ? 1 : 0);
  }
  out.push_back(std::move(backend_conns));
  out.push_back(std::move(idle_conns));
  out.push_back(std::move(wait_timeouts));
  out.push_back(std::move(failures));
  if (in.health) {
    AppendBackendHealthMetrics(*in.health, out);  // its backend_up replaces the probe's
  } else {
    out.push_back(std::move(up));
  }

  MetricFamily pool_wait = Family("querylens_pool_wait_seconds",
                                  "Per statement, the wait for a backend connection (0 when the "
                                  "session already held one).",
                                  MetricType::Histogram);
  for (BackendRole role : kRoles) {
    const analyzer::LatencyHistogram& h = m.pool_wait(role);
    if (h.count() == 0) continue;
    AddHistogram(pool_wait, {{"role", S(analyzer::BackendRoleName(role))}}, h);
  }
  out.push_back(std::move(pool_wait));

  MetricFamily pins = Family("querylens_session_pins_total",
                             "Client sessions pinned to the primary, by reason (once per session "
                             "and reason).",
                             MetricType::Counter);
  for (int i = 0; i < kPinReasonCount; ++i) {
    AddValue(pins, {{"reason", S(PinReasonName(PinReason(i)))}}, double(m.pins(PinReason(i))));
  }
  out.push_back(std::move(pins));
  MetricFamily routing = Family("querylens_routing_decisions_total",
                                "Statements by where the router sent them and why (reason: "
                                "read, transaction, recent_write, pinned, hint_primary, ...).",
                                MetricType::Counter);
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < kRouteReasonCount; ++i) {
      const uint64_t n = m.routes(t == 1, RouteReason(i));
      if (n == 0) continue;  // at most 2 x 15 series; only those that happened
      AddValue(routing, {{"target", t == 1 ? "replica" : "primary"},
                         {"reason", S(RouteReasonName(RouteReason(i)))}},
               double(n));
    }
  }
  out.push_back(std::move(routing));
  MetricFamily retries = Family("querylens_read_retries_total",
                                "Reads that failed on a replica before any byte reached the "
                                "client and were served by the primary instead.",
                                MetricType::Counter);
  AddValue(retries, {}, double(m.read_retries()));
  out.push_back(std::move(retries));
  MetricFamily causal = Family("querylens_causal_reads_total",
                               "Reads after a write with --causal-reads, by outcome (replica: it "
                               "caught up in time; otherwise the primary served the read).",
                               MetricType::Counter);
  for (int i = 0; i < kCausalReadOutcomeCount; ++i) {
    AddValue(causal, {{"outcome", S(CausalReadOutcomeName(CausalReadOutcome(i)))}},
             double(m.causal_reads(CausalReadOutcome(i))));
  }
  out.push_back(std::move(causal));
  AddNPlusOneFamilies(m, out);

  MetricFamily slow = Family("querylens_slow_log_entries_total",
                             "Entries written to the slow-query log.", MetricType::Counter);
  AddValue(slow, {}, double(in.slow_log_written));
  out.push_back(std::move(slow));
  MetricFamily slow_dropped = Family("querylens_slow_log_dropped_total",
                                     "Slow-query log entries dropped because the writer's queue "
                                     "was full.",
                                     MetricType::Counter);
  AddValue(slow_dropped, {}, double(in.slow_log_dropped));
  out.push_back(std::move(slow_dropped));

  AddDigestFamilies(in, out);

  MetricFamily timeouts = Family("querylens_scrape_worker_timeouts_total",
                                 "Times a worker did not hand over its metrics within the scrape "
                                 "deadline (its previous values were used).",
                                 MetricType::Counter);
  AddValue(timeouts, {}, double(in.worker_timeouts));
  out.push_back(std::move(timeouts));
  return out;
}

std::string RenderMetrics(const ExpositionInput& in) {
  std::vector<MetricFamily> families = BuildMetricFamilies(in);
  families.insert(families.end(), in.extra.begin(), in.extra.end());
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, families);
  return std::move(os).str();
}

}  // namespace ql::proxy
