// AdminMetrics: the admin thread's own metrics, kept in a prometheus-cpp
// Registry because only that thread updates them (the statement counters
// live in per-worker shards and are merged at scrape time instead; see
// metrics_exposition.h). /metrics appends the registry's families.
//
//   querylens_admin_requests_total{path,code}  counter  paths: the known
//                                              endpoints, everything else "other"
//   querylens_scrape_duration_seconds          histogram time to build /metrics
//                                              (worker snapshots included)
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

namespace ql::proxy {

class AdminMetrics {
 public:
  AdminMetrics();

  void RequestServed(std::string_view path, unsigned status);
  void ScrapeTook(double seconds);

  std::vector<prometheus::MetricFamily> Collect() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Histogram* scrape_seconds_;
};

// The path label of a request: bounded to the known endpoints.
std::string_view AdminPathLabel(std::string_view path);

}  // namespace ql::proxy
