// Implementation of GtidPositionHistory.
#include "proxy/gtid_position_history.h"

#include <algorithm>
#include <charconv>

namespace ql::proxy {
namespace {

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

}  // namespace

std::optional<GtidPosition> ParseGtidPosition(std::string_view text) {
  GtidPosition out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view gtid = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!gtid.empty() && (gtid.front() == ' ' || gtid.front() == '\n')) gtid.remove_prefix(1);
    // domain-server-sequence
    const size_t d1 = gtid.find('-');
    const size_t d2 = d1 == std::string_view::npos ? d1 : gtid.find('-', d1 + 1);
    uint32_t domain = 0;
    uint32_t server = 0;
    uint64_t seq = 0;
    if (d2 == std::string_view::npos || !ParseNumber(gtid.substr(0, d1), &domain) ||
        !ParseNumber(gtid.substr(d1 + 1, d2 - d1 - 1), &server) ||
        !ParseNumber(gtid.substr(d2 + 1), &seq)) {
      return std::nullopt;
    }
    out.emplace_back(domain, seq);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool GtidReached(const GtidPosition& applied, const GtidPosition& target,
                 bool only_applied_domains) {
  for (const auto& [domain, seq] : target) {
    auto it = std::lower_bound(applied.begin(), applied.end(), std::make_pair(domain, uint64_t{0}));
    const bool has_domain = it != applied.end() && it->first == domain;
    if (has_domain ? it->second < seq : !only_applied_domains) return false;
  }
  return true;
}

void GtidPositionHistory::Observe(const GtidPosition& position, Clock::time_point at) {
  if (!seen_.empty()) {
    const GtidPosition& last = seen_.back().position;
    if (position == last) return;
    // Went back in some domain (another primary, RESET MASTER): what was
    // seen before says nothing about this history.
    if (!GtidReached(position, last)) seen_.clear();
  }
  seen_.push_back({position, at});
  if (seen_.size() > kMaxEntries) seen_.pop_front();
}

std::optional<double> GtidPositionHistory::LagAtLeast(const GtidPosition& applied,
                                                      Clock::time_point now) const {
  if (seen_.empty()) return std::nullopt;
  // The oldest position not applied: its write was made before first seen.
  for (const Seen& s : seen_) {
    // Only the domains the replica applies at all: one that filters a
    // domain out (IGNORE_DOMAIN_IDS), or has not received a domain's first
    // transaction yet, is judged by the others alone.
    if (!GtidReached(applied, s.position, /*only_applied_domains=*/true)) {
      return std::max(0.0, std::chrono::duration<double>(now - s.first_seen).count());
    }
  }
  return 0.0;
}

}  // namespace ql::proxy
