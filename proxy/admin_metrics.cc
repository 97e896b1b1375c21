// AdminMetrics: see admin_metrics.h.
#include "proxy/admin_metrics.h"

#include <array>
#include <string>

#include <prometheus/counter.h>

namespace ql::proxy {

namespace {

constexpr std::array<std::string_view, 8> kKnownPaths = {
    "/metrics",  "/healthz",      "/readyz",        "/api/digests",
    "/api/backends", "/api/sessions", "/api/n_plus_one", "/"};

}  // namespace

std::string_view AdminPathLabel(std::string_view path) {
  for (std::string_view known : kKnownPaths) {
    if (path == known) return known;
  }
  return "other";
}

AdminMetrics::AdminMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("querylens_admin_requests_total")
                   .Help("Requests the admin API answered, by path and HTTP status.")
                   .Register(*registry_);
  // Scrapes copy every worker's digest table: milliseconds, more when large.
  auto& scrape = prometheus::BuildHistogram()
                     .Name("querylens_scrape_duration_seconds")
                     .Help("Time to build the /metrics answer, worker snapshots included.")
                     .Register(*registry_);
  scrape_seconds_ = &scrape.Add(
      {}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                  0.25, 0.5, 1, 2.5});
}

void AdminMetrics::RequestServed(std::string_view path, unsigned status) {
  requests_->Add({{"path", std::string(AdminPathLabel(path))}, {"code", std::to_string(status)}})
      .Increment();
}

void AdminMetrics::ScrapeTook(double seconds) { scrape_seconds_->Observe(seconds); }

std::vector<prometheus::MetricFamily> AdminMetrics::Collect() const { return registry_->Collect(); }

}  // namespace ql::proxy
