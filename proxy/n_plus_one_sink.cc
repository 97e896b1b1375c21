// Implementation of NPlusOneSink and the worker's poll loop.
#include "proxy/n_plus_one_sink.h"

#include <algorithm>

#include "analyzer/n_plus_one_format.h"
#include "proxy/logging.h"
#include "proxy/worker_context.h"

namespace ql::proxy {
namespace {

int64_t SecondsToNs(double s) { return int64_t(s * 1e9); }

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

analyzer::NPlusOneOptions DetectorOptionsFrom(const Config& c) {
  analyzer::NPlusOneOptions o;
  o.unit_idle_gap_ns = SecondsToNs(c.n_plus_one_unit_idle_gap_s);
  o.unit_max_age_ns = SecondsToNs(c.n_plus_one_unit_max_age_s);
  o.min_repeats = uint32_t(c.n_plus_one_min_repeats);
  o.min_total_ns = SecondsToNs(c.n_plus_one_min_total_time_s);
  // "Fast" loops need at least as many repeats as any loop.
  o.min_repeats_fast = std::max(uint32_t(c.n_plus_one_min_repeats_fast), o.min_repeats);
  o.min_distinct_values = uint32_t(c.n_plus_one_min_distinct_values);
  o.batch_min_literals = uint32_t(c.n_plus_one_batch_min_literals);
  o.batch_max_avg_rows = uint64_t(c.n_plus_one_batch_max_avg_rows);
  o.min_duplicates = uint32_t(c.n_plus_one_min_duplicates);
  o.min_cycle_length = uint32_t(c.n_plus_one_cycle_min_length);
  o.max_cycle_length = uint32_t(c.n_plus_one_cycle_max_length);
  o.min_cycle_repeats = uint32_t(c.n_plus_one_cycle_min_repeats);
  o.detect_write_loops = c.n_plus_one_write_loops;
  o.max_unit_statements = uint32_t(c.n_plus_one_max_statements);
  o.top_fingerprints = uint32_t(c.n_plus_one_top_fingerprints);
  o.max_fingerprints_per_unit = size_t(c.n_plus_one_max_fingerprints);
  return o;
}

analyzer::NPlusOneReporterOptions ReporterOptionsFrom(const Config& c) {
  analyzer::NPlusOneReporterOptions o;
  o.dedup_interval_ns = SecondsToNs(c.n_plus_one_dedup_interval_s);
  o.allow_list.digests = c.n_plus_one_allow_digests;
  o.allow_list.tables = c.n_plus_one_allow_tables;
  o.allow_list.routes = c.n_plus_one_allow_routes;
  return o;
}

NPlusOneSink::NPlusOneSink(const Config& config, int worker_index, WorkerMetrics* metrics,
                           SharedNPlusOneReporter* reporter)
    : enabled_(config.n_plus_one),
      worker_index_(worker_index),
      detector_options_(DetectorOptionsFrom(config)),
      reporter_(reporter),
      metrics_(metrics) {}

void NPlusOneSink::Submit(std::vector<analyzer::NPlusOneFinding>* findings) {
  if (findings->empty()) return;
  const int64_t now = MonotonicNs(std::chrono::steady_clock::now());
  for (analyzer::NPlusOneFinding& f : *findings) {
    const analyzer::ReportDecision decision = reporter_->Admit(&f, now);
    metrics_->NPlusOneDecision(analyzer::HeadOf(f), decision);
    if (decision != analyzer::ReportDecision::kReport) continue;
    text_.clear();
    json_.clear();
    analyzer::AppendFindingText(f, &text_);
    analyzer::AppendFindingJson(f, &json_);
    LogWithJson(LogLevel::kWarn, text_, json_);
    RecentFinding entry{WallNs(), ++sequence_, worker_index_, json_};
    if (ring_.size() < kRecentFindings) {
      ring_.push_back(std::move(entry));
    } else {
      ring_[ring_next_] = std::move(entry);
      ring_next_ = (ring_next_ + 1) % kRecentFindings;
    }
  }
  findings->clear();
}

bool NPlusOneSink::Skip(const analyzer::FindingHead& head) {
  const int64_t now = MonotonicNs(std::chrono::steady_clock::now());
  if (!reporter_->SuppressRepeat(head, now)) return false;
  metrics_->NPlusOneDecision(head, analyzer::ReportDecision::kSuppressed);
  return true;
}

void NPlusOneSink::PollAll(int64_t monotonic_now_ns, const std::function<bool(uint32_t)>& busy) {
  polled_.clear();
  for (const auto& [d, session_id] : watched_) {
    if (d->wants_poll() && !busy(session_id)) d->Poll(monotonic_now_ns, &polled_);
  }
  Submit(&polled_);
}

void NPlusOneSink::CopyRecent(std::vector<RecentFinding>* out) const {
  out->reserve(out->size() + ring_.size());
  // Oldest first: from ring_next_ when the ring has wrapped.
  for (size_t i = 0; i < ring_.size(); ++i) {
    out->push_back(ring_[(ring_next_ + i) % ring_.size()]);
  }
}

awaitable<void> RunNPlusOnePoller(NPlusOneSink* sink, const SessionRegistry* sessions) {
  const auto busy = [sessions](uint32_t id) {
    auto it = sessions->entries().find(id);
    return it != sessions->entries().end() && it->second.running_since_ns != 0;
  };
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    timer.expires_after(kNPlusOnePollInterval);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    sink->PollAll(MonotonicNs(std::chrono::steady_clock::now()), busy);
  }
}

}  // namespace ql::proxy
