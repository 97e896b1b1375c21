// /metrics: turns a merged ProxySnapshot (and the backend probe results) into
// prometheus-cpp MetricFamily values and serializes them with its
// TextSerializer (text exposition format 0.0.4). The families are built here
// at scrape time from the merged shards rather than kept in a
// prometheus::Registry, because the counters live in per-worker shards that
// only their workers write. The admin thread's own metrics (requests, scrape
// time) do live in a Registry (admin_metrics.h) and arrive as `extra`.
//
// Families (all names prefixed querylens_; durations in seconds):
//   build_info{version}                           gauge 1
//   statements_total{role,class}                  counter   role x class seen so far
//   statement_duration_seconds{role,class}        histogram analyzer::kPrometheusLatencyBuckets
//   statement_errors_total{class}                 counter   9 error classes (metrics_shard.h)
//   rows_sent_total{role}, rows_affected_total{role}         counter  3 roles
//   client_sent_bytes_total, client_received_bytes_total     counter
//   client_connections                            gauge
//   client_connections_total                      counter
//   backend_connections{backend,role}             gauge     configured backends
//   pool_idle_connections{backend,role}           gauge     configured backends
//   pool_wait_timeouts_total{backend,role}        counter   waits that ended in ERR 1040
//   backend_connect_failures_total{backend}       counter   configured backends
//   backend_up{backend,role}                      gauge     from BackendProber (admin_api_backends.h)
//   pool_wait_seconds{role}                       histogram
//   slow_log_entries_total, slow_log_dropped_total counter
//   digest_statements_total{digest,schema}        counter   top K (digest, schema) pairs by total
//   digest_seconds_total{digest,schema}           counter   the same pairs' total time
//   digest_info{digest,fingerprint}               gauge 1   the top K digests' masked text (<= 200 bytes)
//   digests_tracked                               gauge     (digest, schema, user, role) entries merged
//   digest_evictions_total                        counter
//   scrape_worker_timeouts_total                  counter   workers that missed a scrape's deadline
// Everything outside the top K (including what the digest tables evicted)
// is summed into one series with digest="other" and schema="" (an empty label,
// i.e. absent in PromQL), so the per-digest families have at most K + 1
// series and the whole exposition stays bounded by the configuration.
//
// Extension points for later issues: routing decisions by reason, pins by
// reason, replica lag and read_only, N+1 findings. Each adds fields to
// WorkerMetrics (recorded on the worker), or to BackendStatus (probed), and
// one Add...() block in BuildMetricFamilies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "proxy/admin_api_backends.h"
#include "proxy/admin_api_collect.h"
#include "proxy/digest_series_ledger.h"

namespace ql::proxy {

inline constexpr size_t kDigestInfoTextBytes = 200;

struct ExpositionInput {
  const ProxySnapshot* snapshot = nullptr;
  std::vector<BackendStatus> backends;
  HealthSnapshotPtr health;  // the backend monitor's; when set it supplies backend_up
  std::string_view version;
  size_t top_digests = 200;
  // Keeps the digest counters monotonic across scrapes (the admin thread's);
  // null: each call is a first scrape.
  DigestSeriesLedger* digest_ledger = nullptr;
  uint64_t slow_log_written = 0;
  uint64_t slow_log_dropped = 0;
  uint64_t worker_timeouts = 0;
  // Families kept elsewhere (the admin thread's registry), appended as-is.
  std::vector<prometheus::MetricFamily> extra;
};

std::vector<prometheus::MetricFamily> BuildMetricFamilies(const ExpositionInput& in);

// The text exposition of BuildMetricFamilies.
std::string RenderMetrics(const ExpositionInput& in);

// Text safe for a label value or a JSON string: invalid UTF-8 bytes become
// '?', control characters a space; cut at a character boundary to at most
// max_bytes, with "..." appended when cut.
std::string SafeText(std::string_view text, size_t max_bytes);

}  // namespace ql::proxy
