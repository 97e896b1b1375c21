// Allow-list, silencing and deduplication of N+1 findings.
#include "analyzer/n_plus_one_reporter.h"

#include <algorithm>
#include <utility>

#include "analyzer/digest.h"

namespace ql::analyzer {
namespace {

uint64_t Mix(uint64_t h, std::string_view part) {
  // Length first, so ("ab", "c") and ("a", "bc") differ.
  const uint64_t len = part.size();
  h = Xxh64(std::string_view(reinterpret_cast<const char*>(&len), sizeof(len)), h);
  return Xxh64(part, h);
}

uint64_t MixNumber(uint64_t h, uint64_t n) {
  return Xxh64(std::string_view(reinterpret_cast<const char*>(&n), sizeof(n)), h);
}

}  // namespace

bool MatchesPattern(std::string_view pattern, std::string_view value) {
  if (!pattern.empty() && pattern.back() == '*') {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 1);
    return value.substr(0, prefix.size()) == prefix;
  }
  return pattern == value;
}

bool NPlusOneAllowList::Matches(const NPlusOneFinding& f) const {
  for (const std::string& route : routes) {
    if (!f.route.empty() && MatchesPattern(route, f.route)) return true;
  }
  if (f.kind == FindingKind::kTooManyStatements) return false;
  for (uint64_t digest : digests) {
    if (digest == f.digest) return true;
    for (const RelatedFingerprint& r : f.related) {
      if (f.kind == FindingKind::kRepeatedCycle && r.digest == digest) return true;
    }
  }
  for (const std::string& pattern : tables) {
    for (const std::string& table : f.tables) {
      if (MatchesPattern(pattern, table)) return true;
    }
  }
  return false;
}

std::string_view ReportDecisionName(ReportDecision decision) {
  switch (decision) {
    case ReportDecision::kReport: return "report";
    case ReportDecision::kSuppressed: return "suppressed";
    case ReportDecision::kAllowListed: return "allow_listed";
    case ReportDecision::kSilenced: return "silenced";
  }
  return "report";
}

NPlusOneReporter::NPlusOneReporter(NPlusOneReporterOptions options)
    : options_(std::move(options)) {}

void NPlusOneReporter::SetOptions(NPlusOneReporterOptions options) {
  options_ = std::move(options);
}

FindingHead HeadOf(const NPlusOneFinding& f) {
  FindingHead head;
  head.kind = f.kind;
  head.confidence = f.confidence;
  head.statements = f.statements;
  head.total_ns = f.total_ns;
  head.silenced = f.silenced;
  head.digest = f.digest;
  head.has_parent = f.has_parent;
  head.parent_digest = f.parent_digest;
  head.route = f.route;
  head.controller = f.controller;
  head.action = f.action;
  head.app_name = f.app_name;
  return head;
}

uint64_t NPlusOneReporter::KeyOf(const FindingHead& f) {
  uint64_t h = MixNumber(0, static_cast<uint64_t>(f.kind));
  h = Mix(h, f.route);
  h = Mix(h, f.controller);
  h = Mix(h, f.action);
  h = Mix(h, f.app_name);
  h = MixNumber(h, f.has_parent ? f.parent_digest : 0);
  return MixNumber(h, f.digest);
}

ReportDecision NPlusOneReporter::Admit(NPlusOneFinding* f, int64_t now_ns) {
  ReportDecision decision = ReportDecision::kReport;
  if (f->silenced) {
    decision = ReportDecision::kSilenced;
  } else if (options_.allow_list.Matches(*f)) {
    decision = ReportDecision::kAllowListed;
  } else {
    const uint64_t key = KeyOf(HeadOf(*f));
    auto it = keys_.find(key);
    if (it != keys_.end() && now_ns - it->second.last_report_ns < options_.dedup_interval_ns) {
      ++it->second.suppressed;
      decision = ReportDecision::kSuppressed;
    } else if (it != keys_.end()) {
      f->suppressed = it->second.suppressed;
      it->second = KeyState{now_ns, 0};
    } else {
      if (keys_.size() >= std::max<size_t>(options_.max_keys, 1)) MakeRoom(now_ns);
      keys_[key] = KeyState{now_ns, 0};
      f->suppressed = 0;
    }
  }
  ++counts_[static_cast<size_t>(decision)];
  return decision;
}

bool NPlusOneReporter::SuppressRepeat(const FindingHead& head, int64_t now_ns) {
  if (head.silenced) return false;
  auto it = keys_.find(KeyOf(head));
  if (it == keys_.end() || now_ns - it->second.last_report_ns >= options_.dedup_interval_ns) {
    return false;
  }
  ++it->second.suppressed;
  ++counts_[static_cast<size_t>(ReportDecision::kSuppressed)];
  return true;
}

void NPlusOneReporter::MakeRoom(int64_t now_ns) {
  const int64_t interval = options_.dedup_interval_ns;
  const size_t before = keys_.size();
  for (auto it = keys_.begin(); it != keys_.end();) {
    if (now_ns - it->second.last_report_ns >= interval) {
      keys_.erase(it++);
    } else {
      ++it;
    }
  }
  if (keys_.size() < before) return;
  auto oldest = keys_.begin();
  for (auto it = keys_.begin(); it != keys_.end(); ++it) {
    if (it->second.last_report_ns < oldest->second.last_report_ns) oldest = it;
  }
  if (oldest != keys_.end()) keys_.erase(oldest);
}

}  // namespace ql::analyzer
