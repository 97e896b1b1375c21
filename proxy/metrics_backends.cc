// Implementation of the backend health metric families.
#include "proxy/metrics_backends.h"

#include <string>
#include <utility>

namespace ql::proxy {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily NewFamily(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void Set(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric& m = f.metric.emplace_back();
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
}

}  // namespace

void AppendBackendHealthMetrics(const HealthSnapshot& snapshot, std::vector<MetricFamily>& out) {
  MetricFamily up = NewFamily("querylens_backend_up",
                              "1 when the backend monitor's last check connected and got an "
                              "answer to a ping, else 0.",
                              MetricType::Gauge);
  MetricFamily usable = NewFamily("querylens_backend_usable_for_reads",
                                  "1 when the replica may take new reads (up, replicating, lag "
                                  "within the limit, healthy for enough checks), else 0.",
                                  MetricType::Gauge);
  MetricFamily lag = NewFamily("querylens_replication_lag_seconds",
                               "Replication lag of the replica at its last check "
                               "(Seconds_Behind_Master or the heartbeat table); absent when "
                               "unknown.",
                               MetricType::Gauge);
  MetricFamily failed = NewFamily("querylens_backend_checks_failed_total",
                                  "Monitor checks that found the backend down or, for a "
                                  "replica, unfit for reads.",
                                  MetricType::Counter);
  for (const BackendHealth& b : snapshot.backends) {
    const std::string name = b.address.Name();
    const std::string role(analyzer::BackendRoleName(b.role));
    Set(up, {{"backend", name}, {"role", role}}, b.up ? 1 : 0);
    Set(failed, {{"backend", name}, {"role", role}}, double(b.checks_failed));
    if (b.role != analyzer::BackendRole::kReplica) continue;
    Set(usable, {{"backend", name}}, b.usable_for_reads ? 1 : 0);
    if (b.lag_seconds >= 0) Set(lag, {{"backend", name}}, b.lag_seconds);
  }
  out.push_back(std::move(up));
  out.push_back(std::move(usable));
  out.push_back(std::move(lag));
  out.push_back(std::move(failed));
}

}  // namespace ql::proxy
