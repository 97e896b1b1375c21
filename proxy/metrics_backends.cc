// Implementation of the backend health metric families.
#include "proxy/metrics_backends.h"

#include "proxy/metrics_family_builder.h"

#include <string>
#include <utility>

namespace ql::proxy {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using metrics_build::AddValue;
using metrics_build::Family;

}  // namespace

void AppendBackendHealthMetrics(const HealthSnapshot& snapshot, std::vector<MetricFamily>& out) {
  MetricFamily up = Family("querylens_backend_up",
                              "1 when the backend monitor's last check connected and got an "
                              "answer to a ping, else 0.",
                              MetricType::Gauge);
  MetricFamily usable = Family("querylens_backend_usable_for_reads",
                                  "1 when the replica may take new reads (up, replicating, lag "
                                  "within the limit, healthy for enough checks), else 0.",
                                  MetricType::Gauge);
  MetricFamily lag = Family("querylens_replication_lag_seconds",
                               "Replication lag of the replica at its last check "
                               "(Seconds_Behind_Master or the heartbeat table); absent when "
                               "unknown.",
                               MetricType::Gauge);
  MetricFamily failed = Family("querylens_backend_checks_failed_total",
                                  "Monitor checks that found the backend down or, for a "
                                  "replica, unfit for reads.",
                                  MetricType::Counter);
  MetricFamily read_only = Family("querylens_backend_read_only",
                                  "1 when the backend reported @@read_only = ON at its last "
                                  "check (expected on replicas; on the primary writes would fail).",
                                  MetricType::Gauge);
  for (const BackendHealth& b : snapshot.backends) {
    const std::string name = b.address.Name();
    const std::string role(analyzer::BackendRoleName(b.role));
    AddValue(up, {{"backend", name}, {"role", role}}, b.up ? 1 : 0);
    AddValue(failed, {{"backend", name}, {"role", role}}, double(b.checks_failed));
    if (b.up) AddValue(read_only, {{"backend", name}, {"role", role}}, b.read_only ? 1 : 0);
    if (b.role != analyzer::BackendRole::kReplica) continue;
    AddValue(usable, {{"backend", name}}, b.usable_for_reads ? 1 : 0);
    if (b.lag_seconds >= 0) AddValue(lag, {{"backend", name}}, b.lag_seconds);
  }
  out.push_back(std::move(up));
  out.push_back(std::move(usable));
  out.push_back(std::move(lag));
  out.push_back(std::move(failed));
  out.push_back(std::move(read_only));
}

}  // namespace ql::proxy
