// Prometheus families for the backend monitor's findings (backend_health.h),
// built from one HealthSnapshot at scrape time:
//   querylens_backend_up{backend,role}                 gauge   1 when the last check connected and pinged
//   querylens_backend_usable_for_reads{backend}        gauge   replicas only: 1 when reads may go there
//   querylens_replication_lag_seconds{backend}         gauge   replicas whose lag is known
//   querylens_backend_checks_failed_total{backend,role} counter checks that found the backend unfit
// querylens_backend_up replaces the login-probe family of the same name in
// metrics_exposition.cc when a snapshot is available (a name may appear once).
#pragma once

#include <vector>

#include <prometheus/metric_family.h>

#include "proxy/backend_health.h"

namespace ql::proxy {

void AppendBackendHealthMetrics(const HealthSnapshot& snapshot,
                                std::vector<prometheus::MetricFamily>& out);

}  // namespace ql::proxy
