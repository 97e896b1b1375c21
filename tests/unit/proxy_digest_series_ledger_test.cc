// DigestSeriesLedger: /metrics' per-digest counters and digest="other" never
// go backwards from one scrape to the next, whatever enters or leaves the
// top and whatever the tables evict; growth is neither lost nor counted twice.
#include "proxy/digest_series_ledger.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ql::proxy {
namespace {

// Digest tables as a scrape sees them: totals per digest (one schema), and
// what eviction removed. Top = by total time, as the exposition picks.
struct Tables {
  std::map<uint64_t, DigestCounts> live;
  DigestCounts evicted;

  void Run(uint64_t digest, uint64_t n, uint64_t ns_each) {
    live[digest].statements += n;
    live[digest].total_ns += n * ns_each;
  }
  void Evict(uint64_t digest) {
    evicted += live[digest];
    live.erase(digest);
  }
  // Part of a digest's counts leave (one worker's table evicted its entry).
  void EvictPart(uint64_t digest, DigestCounts part) {
    live[digest].statements -= part.statements;
    live[digest].total_ns -= part.total_ns;
    evicted += part;
  }
  DigestCounts Total() const {
    DigestCounts t = evicted;
    for (const auto& [d, c] : live) t += c;
    return t;
  }
  const DigestExposition& Scrape(DigestSeriesLedger& ledger, size_t top) const {
    std::vector<DigestSeries> series;
    for (const auto& [d, c] : live) series.push_back({d, "app", c});
    std::stable_sort(series.begin(), series.end(), [](const auto& a, const auto& b) {
      return a.counts.total_ns > b.counts.total_ns;
    });
    return ledger.Account(series, std::min(top, series.size()), evicted);
  }
};

const ExposedDigest* Find(const DigestExposition& e, uint64_t digest) {
  for (const ExposedDigest& d : e.top) {
    if (d.digest == digest) return &d;
  }
  return nullptr;
}

uint64_t Sum(const DigestExposition& e) {
  uint64_t n = e.other.statements;
  for (const ExposedDigest& d : e.top) n += d.counts.statements;
  return n;
}

TEST(DigestSeriesLedger, FirstScrapeShowsWholeCounts) {
  Tables t;
  t.Run(1, 10, 100);
  t.Run(2, 5, 1000);
  t.Run(3, 1, 10);
  DigestSeriesLedger ledger;
  const DigestExposition& e = t.Scrape(ledger, 2);
  ASSERT_EQ(e.top.size(), 2u);
  EXPECT_EQ(Find(e, 2)->counts.statements, 5u);
  EXPECT_EQ(Find(e, 1)->counts.statements, 10u);
  EXPECT_EQ(e.other.statements, 1u);
  EXPECT_EQ(e.other.total_ns, 10u);
}

// The reported case: with the top 3 by time, x1 (2 statements) is pushed
// out by three slower digests, then comes back when it runs again.
TEST(DigestSeriesLedger, OtherDoesNotGoBackwardsWhenADigestClimbsIntoTheTop) {
  Tables t;
  DigestSeriesLedger ledger;
  for (uint64_t d = 100; d < 130; ++d) t.Run(d, 1, 1);  // background: "other"
  t.Run(1, 2, 50'000'000);
  const uint64_t other1 = t.Scrape(ledger, 3).other.statements;
  for (uint64_t d = 2; d <= 4; ++d) t.Run(d, 1, 200'000'000);
  const DigestExposition second = t.Scrape(ledger, 3);
  EXPECT_EQ(Find(second, 1), nullptr);
  EXPECT_GE(second.other.statements, other1);
  t.Run(1, 6, 100'000'000);
  const DigestExposition third = t.Scrape(ledger, 3);
  ASSERT_NE(Find(third, 1), nullptr);
  EXPECT_GE(third.other.statements, second.other.statements);
  // Back in the top, x1's series counts from its return: its 6 new runs.
  // Its first 2 left with its series.
  EXPECT_EQ(Find(third, 1)->counts.statements, 6u);
  EXPECT_LE(Sum(third), t.Total().statements);
}

TEST(DigestSeriesLedger, PartialEvictionDoesNotTakeASeriesBackwards) {
  Tables t;
  DigestSeriesLedger ledger;
  t.Run(1, 10, 1000);
  EXPECT_EQ(Find(t.Scrape(ledger, 1), 1)->counts.statements, 10u);
  t.EvictPart(1, {4, 4000});  // one worker's entry of it is evicted
  t.Run(1, 3, 1000);
  const DigestExposition& e = t.Scrape(ledger, 1);
  EXPECT_GE(Find(e, 1)->counts.statements, 10u);
  EXPECT_EQ(Sum(e), t.Total().statements);  // nothing lost, nothing twice
}

// Random workloads: every series and "other" are monotonic while shown, and
// what is shown, plus what series showed when they left the top, adds up to
// every statement seen.
TEST(DigestSeriesLedger, RandomWorkloadsStayMonotonicAndAddUp) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    Tables t;
    DigestSeriesLedger ledger;
    const size_t top = 1 + rng() % 5;
    std::map<uint64_t, uint64_t> shown_before;
    DigestCounts other_before;
    uint64_t departed = 0;
    for (int scrape = 0; scrape < 60; ++scrape) {
      for (int k = 0; k < 8; ++k) t.Run(rng() % 12, 1 + rng() % 5, 1 + rng() % 1000);
      if (rng() % 4 == 0 && !t.live.empty()) {
        auto it = std::next(t.live.begin(), long(rng() % t.live.size()));
        if (rng() % 2 == 0) {
          t.Evict(it->first);
        } else {
          t.EvictPart(it->first, {it->second.statements / 2, it->second.total_ns / 2});
        }
      }
      const DigestExposition& e = t.Scrape(ledger, top);
      EXPECT_GE(e.other.statements, other_before.statements);
      EXPECT_GE(e.other.total_ns, other_before.total_ns);
      std::map<uint64_t, uint64_t> shown;
      for (const ExposedDigest& d : e.top) {
        shown[d.digest] = d.counts.statements;
        auto it = shown_before.find(d.digest);
        if (it != shown_before.end()) {
          EXPECT_GE(d.counts.statements, it->second);
        }
      }
      for (const auto& [digest, n] : shown_before) {
        if (!shown.count(digest)) departed += n;
      }
      EXPECT_EQ(Sum(e) + departed, t.Total().statements) << round << " " << scrape;
      shown_before = std::move(shown);
      other_before = e.other;
    }
  }
}

}  // namespace
}  // namespace ql::proxy
