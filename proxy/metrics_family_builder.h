// Small builders for prometheus-cpp MetricFamily values, shared by the
// files that turn the proxy's counters into /metrics families.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

namespace ql::proxy::metrics_build {

inline prometheus::MetricFamily Family(std::string name, std::string help,
                                       prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

inline prometheus::ClientMetric& Add(prometheus::MetricFamily& f,
                                     std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric& m = f.metric.emplace_back();
  m.label = std::move(labels);
  return m;
}

// A counter or gauge sample, whichever the family is.
inline void AddValue(prometheus::MetricFamily& f,
                     std::vector<prometheus::ClientMetric::Label> labels, double value) {
  prometheus::ClientMetric& m = Add(f, std::move(labels));
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
}

}  // namespace ql::proxy::metrics_build
