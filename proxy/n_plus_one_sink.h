// NPlusOneSink: one worker's end of the N+1 detector. Sessions own their
// NPlusOneDetector (client_session.h) and hand the findings it returns to
// their worker's sink, which
//   - admits them through the proxy's one SharedNPlusOneReporter
//     (allow-list, querylens_ignore, deduplication: one log line per call
//     site, parent and statement per --n-plus-one-dedup-interval, whichever
//     worker's sessions ran the loop);
//   - counts them in the worker's metrics shard (every finding that is not
//     allow-listed or silenced, including those the log held back);
//   - logs the admitted ones at WARN (text, or with --log-format json the
//     finding's JSON keys at the top level of the line, see logging.h);
//   - keeps the last kRecentFindings logged findings for /api/n_plus_one;
//   - polls the sessions' detectors every kPollInterval, so that the last
//     request on a persistent connection is reported within the idle gap
//     plus one poll, without waiting for the session's next statement.
// Only the worker's thread touches it; /api/n_plus_one reads a copy made on
// that thread (admin_api_collect.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "analyzer/n_plus_one_detector.h"
#include "analyzer/n_plus_one_finding.h"
#include "analyzer/n_plus_one_options.h"
#include "analyzer/n_plus_one_reporter.h"
#include "proxy/asio.h"
#include "proxy/config.h"
#include "proxy/metrics_shard.h"

namespace ql::proxy {

inline constexpr size_t kRecentFindings = 200;
inline constexpr auto kNPlusOnePollInterval = std::chrono::milliseconds(250);

// One logged finding as /api/n_plus_one shows it.
struct RecentFinding {
  int64_t reported_ns = 0;  // wall clock, Unix epoch
  uint64_t sequence = 0;    // per worker, for a stable newest-first order
  int worker = 0;
  std::string json;         // AppendFindingJson
};

// The detector's and the reporter's options from the configuration.
analyzer::NPlusOneOptions DetectorOptionsFrom(const Config& config);
analyzer::NPlusOneReporterOptions ReporterOptionsFrom(const Config& config);

// The reporter all workers share, so that a loop served by several workers
// is still logged once per interval. Only findings pass through it (at most
// a few per unit of work, never one per statement), so its lock is off the
// statement path.
class SharedNPlusOneReporter {
 public:
  explicit SharedNPlusOneReporter(analyzer::NPlusOneReporterOptions options)
      : reporter_(std::move(options)) {}

  analyzer::ReportDecision Admit(analyzer::NPlusOneFinding* finding, int64_t monotonic_now_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    return reporter_.Admit(finding, monotonic_now_ns);
  }
  bool SuppressRepeat(const analyzer::FindingHead& head, int64_t monotonic_now_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    return reporter_.SuppressRepeat(head, monotonic_now_ns);
  }

 private:
  std::mutex mu_;
  analyzer::NPlusOneReporter reporter_;
};

// A worker's end of the N+1 detection: its sessions' detectors ask it, as
// their FindingGate, whether a finding is a repeat the reporter would only
// count (then it is counted here and never built), and hand it the rest.
class NPlusOneSink final : public analyzer::FindingGate {
 public:
  // `reporter` is shared with the other workers' sinks and outlives them.
  NPlusOneSink(const Config& config, int worker_index, WorkerMetrics* metrics,
               SharedNPlusOneReporter* reporter);

  bool enabled() const { return enabled_; }
  const analyzer::NPlusOneOptions& detector_options() const { return detector_options_; }

  // Sessions register their detector for polling while they live.
  void Watch(analyzer::NPlusOneDetector* detector, uint32_t session_id) {
    watched_[detector] = session_id;
  }
  void Unwatch(analyzer::NPlusOneDetector* detector) { watched_.erase(detector); }

  // A scratch vector for a detector's output; hand it back with Submit.
  std::vector<analyzer::NPlusOneFinding>* scratch() {
    scratch_.clear();
    return &scratch_;
  }
  // Admits, counts, logs and keeps the findings in *findings; clears it.
  void Submit(std::vector<analyzer::NPlusOneFinding>* findings);
  // FindingGate: a repeat within the deduplication interval is counted
  // (metrics and the reporter's suppressed count) and skipped.
  bool Skip(const analyzer::FindingHead& head) override;
  // Polls every watched detector (the timer's job: idle units close, long
  // idle sessions give their memory back), except those whose session has a
  // command in flight (`busy(session id)`): a long statement is not an idle
  // gap.
  void PollAll(int64_t monotonic_now_ns, const std::function<bool(uint32_t)>& busy);

  // Newest last; at most kRecentFindings.
  void CopyRecent(std::vector<RecentFinding>* out) const;
  size_t watched() const { return watched_.size(); }

 private:
  bool enabled_;
  int worker_index_;
  analyzer::NPlusOneOptions detector_options_;
  SharedNPlusOneReporter* reporter_;
  WorkerMetrics* metrics_;
  absl::flat_hash_map<analyzer::NPlusOneDetector*, uint32_t> watched_;  // -> session id
  std::vector<analyzer::NPlusOneFinding> scratch_;
  std::vector<analyzer::NPlusOneFinding> polled_;
  std::vector<RecentFinding> ring_;  // circular once full
  size_t ring_next_ = 0;
  uint64_t sequence_ = 0;
  std::string text_;
  std::string json_;
};

// Monotonic nanoseconds, the detector's clock.
inline int64_t MonotonicNs(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

class SessionRegistry;

// The worker's poll loop: spawned on the worker's io_context, runs until it
// stops. Sessions with a command in flight (per the registry) are skipped.
awaitable<void> RunNPlusOnePoller(NPlusOneSink* sink, const SessionRegistry* sessions);

}  // namespace ql::proxy
