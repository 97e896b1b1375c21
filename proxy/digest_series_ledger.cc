// Implementation of DigestSeriesLedger.
#include "proxy/digest_series_ledger.h"

#include <cstring>
#include <utility>

namespace ql::proxy {
namespace {

uint64_t Growth(uint64_t now, uint64_t before) { return now > before ? now - before : 0; }

DigestCounts Growth(const DigestCounts& now, const DigestCounts& before) {
  return {Growth(now.statements, before.statements), Growth(now.total_ns, before.total_ns)};
}

}  // namespace

std::string DigestSeriesLedger::Key(uint64_t digest, std::string_view schema) {
  std::string key(sizeof digest, '\0');
  std::memcpy(key.data(), &digest, sizeof digest);
  key.append(schema);
  return key;
}

const DigestExposition& DigestSeriesLedger::Account(const std::vector<DigestSeries>& series,
                                                    size_t top, DigestCounts evicted) {
  DigestCounts total = evicted;
  for (const DigestSeries& s : series) total += s.counts;
  // Growth no pair below accounts for: entries evicted since the last scrape.
  DigestCounts unattributed = Growth(total, last_total_);

  absl::flat_hash_map<std::string, DigestCounts> seen;
  absl::flat_hash_map<std::string, DigestCounts> exposed;
  seen.reserve(series.size());
  exposed.reserve(top);
  out_.top.clear();
  for (size_t i = 0; i < series.size(); ++i) {
    const DigestSeries& s = series[i];
    std::string key = Key(s.digest, s.schema);
    auto before = seen_.find(key);
    const DigestCounts grew =
        Growth(s.counts, before != seen_.end() ? before->second : DigestCounts{});
    unattributed = Growth(unattributed, grew);
    if (i < top) {
      auto it = exposed_.find(key);
      DigestCounts shown = it != exposed_.end() ? it->second : DigestCounts{};
      shown += grew;
      exposed.emplace(key, shown);
      out_.top.push_back({s.digest, std::string(s.schema), shown});
    } else {
      out_.other += grew;
    }
    seen.emplace(std::move(key), s.counts);
  }
  out_.other += unattributed;
  seen_ = std::move(seen);
  exposed_ = std::move(exposed);
  last_total_ = total;
  return out_;
}

}  // namespace ql::proxy
