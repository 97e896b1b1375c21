// DigestStatsTable and DigestSnapshot: aggregation per key, the memory bound
// and its eviction counter, LRU order, snapshot merging across tables, top-N
// queries, and the promise that re-recording an existing key allocates
// nothing.
//
// Allocation counting: analyzer_alloc_test.cc already replaces the global
// operator new for this binary (with a counter private to that file), so this
// file counts one level lower, at malloc, which that replacement and every
// container ends in. The definition below interposes glibc's malloc and
// forwards to __libc_malloc (glibc's own entry point); free, calloc and
// realloc stay glibc's and manage the same heap. Sanitizer builds have their
// own malloc, so there the allocation test is skipped.
#include <atomic>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "analyzer/digest.h"
#include "analyzer/digest_stats.h"
#include "gtest/gtest.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define QL_STATS_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define QL_STATS_COUNT_MALLOC 0
#endif
#endif
#ifndef QL_STATS_COUNT_MALLOC
#define QL_STATS_COUNT_MALLOC 1
#endif

#if QL_STATS_COUNT_MALLOC
namespace {
std::atomic<long> g_stats_mallocs{0};
}  // namespace
extern "C" void* __libc_malloc(size_t size);
extern "C" void* malloc(size_t size) noexcept {
  g_stats_mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
#endif

namespace ql::analyzer {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000;  // 2023-11-14, in ns

// Owns the strings a StatementRecord points at.
struct Stmt {
  std::string fingerprint;
  std::string schema = "shop";
  std::string user = "app";
  std::string literal;
  BackendRole role = BackendRole::kPrimary;

  StatementRecord Record(uint64_t total_ns, int64_t start_ns = kT0) const {
    StatementRecord r;
    r.fingerprint = fingerprint;
    r.digest = DigestId(fingerprint);
    r.schema = schema;
    r.user = user;
    r.backend_role = role;
    r.start_time_ns = start_ns;
    r.total_ns = total_ns;
    r.literal_text = literal;
    return r;
  }
};

Stmt Fp(std::string fingerprint) {
  Stmt s;
  s.fingerprint = std::move(fingerprint);
  return s;
}

TEST(DigestStatsTable, AggregatesOneKey) {
  DigestStatsTable table;
  Stmt s = Fp("select * from t where id = ?");
  StatementRecord a = s.Record(2'000'000, kT0 + 5);
  a.rows_sent = 3;
  a.bytes_sent = 100;
  a.bytes_received = 40;
  a.warnings = 2;
  a.pool_wait_ns = 1000;
  a.state_sync_ns = 2000;
  a.backend_first_byte_ns = 1'500'000;
  a.statement_class = StatementClass::kRead;
  a.ApplyServerStatus(kServerQueryNoIndexUsed | kServerQueryWasSlow);
  StatementRecord b = s.Record(500'000, kT0 + 1);  // earlier start, recorded later
  b.error_code = 1146;
  b.rows_affected = 7;
  b.command = CommandKind::kPrepared;
  b.statement_class = StatementClass::kWrite;
  b.ApplyServerStatus(kServerQueryNoGoodIndexUsed);
  table.Record(a);
  table.Record(b);

  ASSERT_EQ(table.size(), 1u);
  const DigestStats* st = table.Find(DigestKey{DigestId(s.fingerprint), "shop", "app",
                                               BackendRole::kPrimary});
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->count(), 2u);
  EXPECT_EQ(st->errors, 1u);
  EXPECT_EQ(st->total_ns(), 2'500'000u);
  EXPECT_EQ(st->min_ns(), 500'000u);
  EXPECT_EQ(st->max_ns(), 2'000'000u);
  EXPECT_EQ(st->rows_sent, 3u);
  EXPECT_EQ(st->rows_affected, 7u);
  EXPECT_EQ(st->bytes_sent, 100u);
  EXPECT_EQ(st->bytes_received, 40u);
  EXPECT_EQ(st->warnings, 2u);
  EXPECT_EQ(st->pool_wait_ns, 1000u);
  EXPECT_EQ(st->state_sync_ns, 2000u);
  EXPECT_EQ(st->backend_first_byte_ns, 1'500'000u);
  EXPECT_EQ(st->no_index_used, 1u);
  EXPECT_EQ(st->no_good_index_used, 1u);
  EXPECT_EQ(st->server_slow, 1u);
  EXPECT_EQ(st->prepared, 1u);
  EXPECT_EQ(st->first_seen_ns, kT0 + 1);
  EXPECT_EQ(st->last_seen_ns, kT0 + 5);
  // The class of the statement that started last.
  EXPECT_EQ(st->statement_class, StatementClass::kRead);
}

TEST(DigestStatsTable, KeyIsDigestSchemaUserRole) {
  DigestStatsTable table;
  Stmt s = Fp("select ?");
  table.Record(s.Record(1));
  Stmt other_schema = s;
  other_schema.schema = "blog";
  table.Record(other_schema.Record(1));
  Stmt other_user = s;
  other_user.user = "report";
  table.Record(other_user.Record(1));
  Stmt replica = s;
  replica.role = BackendRole::kReplica;
  table.Record(replica.Record(1));
  // Swapped schema and user must not collide.
  Stmt swapped = s;
  swapped.schema = "app";
  swapped.user = "shop";
  table.Record(swapped.Record(1));
  table.Record(s.Record(1));
  EXPECT_EQ(table.size(), 5u);
  EXPECT_EQ(table.fingerprint_count(), 1u);  // one text for the five keys

  DigestSnapshot snap;
  table.SnapshotInto(&snap);
  ASSERT_EQ(snap.entries().size(), 5u);
  EXPECT_EQ(snap.Fingerprint(DigestId("select ?")), "select ?");
  const DigestSnapshotEntry* e = snap.Find(DigestKey{DigestId("select ?"), "shop", "app",
                                                     BackendRole::kPrimary});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->stats.count(), 2u);
}

TEST(DigestStatsTable, MemoryBoundAndEvictionCounter) {
  DigestStatsOptions options;
  options.max_entries = 8;
  DigestStatsTable table(options);
  for (int i = 0; i < 100; ++i) {
    table.Record(Fp("select c" + std::to_string(i) + " from t").Record(1000 + i));
    ASSERT_LE(table.size(), 8u);
    ASSERT_LE(table.fingerprint_count(), 8u);
  }
  EXPECT_EQ(table.size(), 8u);
  EXPECT_EQ(table.evictions(), 92u);
  EXPECT_EQ(table.evicted().statements, 92u);
  uint64_t evicted_ns = 0;
  for (int i = 0; i < 92; ++i) evicted_ns += 1000 + i;
  EXPECT_EQ(table.evicted().total_ns, evicted_ns);
  // The survivors are the eight most recent keys.
  for (int i = 92; i < 100; ++i) {
    const std::string fp = "select c" + std::to_string(i) + " from t";
    EXPECT_NE(table.Find(DigestKey{DigestId(fp), "shop", "app", BackendRole::kPrimary}),
              nullptr) << fp;
  }
  DigestSnapshot snap;
  table.SnapshotInto(&snap);
  EXPECT_EQ(snap.entries().size(), 8u);
  EXPECT_EQ(snap.evictions(), 92u);
}

TEST(DigestStatsTable, EvictsLeastRecentlyUsed) {
  DigestStatsOptions options;
  options.max_entries = 3;
  DigestStatsTable table(options);
  const Stmt a = Fp("a"), b = Fp("b"), c = Fp("c"), d = Fp("d");
  auto has = [&](const Stmt& s) {
    return table.Find(DigestKey{DigestId(s.fingerprint), s.schema, s.user, s.role}) != nullptr;
  };
  table.Record(a.Record(1));
  table.Record(b.Record(1));
  table.Record(c.Record(1));
  table.Record(a.Record(1));  // a is now the most recent; b the oldest
  table.Record(d.Record(1));
  EXPECT_TRUE(has(a));
  EXPECT_FALSE(has(b));
  EXPECT_TRUE(has(c));
  EXPECT_TRUE(has(d));
  table.Record(b.Record(1));  // evicts c
  EXPECT_FALSE(has(c));
  EXPECT_EQ(table.evictions(), 2u);
  // A re-admitted key starts from zero.
  const DigestStats* st = table.Find(DigestKey{DigestId("b"), "shop", "app", BackendRole::kPrimary});
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->count(), 1u);

  // One entry is the smallest table; it still counts.
  DigestStatsOptions one;
  one.max_entries = 0;  // clamped to 1
  DigestStatsTable tiny(one);
  tiny.Record(a.Record(1));
  tiny.Record(b.Record(1));
  EXPECT_EQ(tiny.size(), 1u);
  EXPECT_EQ(tiny.evictions(), 1u);
}

TEST(DigestStatsTable, FingerprintTextIsSharedAndReleased) {
  DigestStatsOptions options;
  options.max_entries = 2;
  DigestStatsTable table(options);
  Stmt s1 = Fp("select x");
  Stmt s2 = s1;
  s2.user = "other";
  table.Record(s1.Record(1));
  table.Record(s2.Record(1));
  EXPECT_EQ(table.fingerprint_count(), 1u);
  table.Record(Fp("select y").Record(1));  // evicts s1, the text stays for s2
  EXPECT_EQ(table.fingerprint_count(), 2u);
  table.Record(Fp("select z").Record(1));  // evicts s2, the text goes
  EXPECT_EQ(table.fingerprint_count(), 2u);
  DigestSnapshot snap;
  table.SnapshotInto(&snap);
  EXPECT_EQ(snap.Fingerprint(DigestId("select x")), "");
  EXPECT_EQ(snap.Fingerprint(DigestId("select z")), "select z");
}

TEST(DigestStatsTable, KeepsTheSlowestLiteralExampleCapped) {
  DigestStatsOptions options;
  options.max_example_bytes = 16;
  options.max_fingerprint_bytes = 12;
  DigestStatsTable table(options);
  Stmt s = Fp("select * from users where id = ?");
  table.Record(s.Record(5));  // no literal text: no example
  s.literal = "SELECT 1";
  table.Record(s.Record(10, kT0 + 10));
  s.literal = "SELECT 2";
  table.Record(s.Record(10));  // not slower: kept the first
  s.literal = "SELECT 'h\xC3\xA9h\xC3\xA9h\xC3\xA9'";  // 9 + 9 bytes
  table.Record(s.Record(30, kT0 + 30));
  s.literal = "SELECT 4";
  table.Record(s.Record(20));

  DigestSnapshot snap;
  table.SnapshotInto(&snap);
  ASSERT_EQ(snap.entries().size(), 1u);
  const DigestSnapshotEntry& e = snap.entries()[0];
  // Cut at 13 bytes, backed off to a character boundary, then "...".
  EXPECT_EQ(e.example, "SELECT 'h\xC3\xA9h...");
  EXPECT_EQ(e.example_ns, 30u);
  EXPECT_EQ(e.example_time_ns, kT0 + 30);
  EXPECT_EQ(snap.Fingerprint(DigestId(s.fingerprint)), "select * ...");
}

// Records `n` statements of a few keys with varied durations, into `table`
// and into `all` (the reference).
void Workload(int n, uint32_t seed, DigestStatsTable* table, DigestStatsTable* all) {
  std::mt19937 rng(seed);
  const char* fps[] = {"select a", "select b", "update t set x = ?", "insert into t values (?+)"};
  const char* schemas[] = {"shop", "blog"};
  for (int i = 0; i < n; ++i) {
    Stmt s = Fp(fps[rng() % 4]);
    s.schema = schemas[rng() % 2];
    s.role = rng() % 3 == 0 ? BackendRole::kReplica : BackendRole::kPrimary;
    s.literal = "literal " + std::to_string(i);
    StatementRecord r = s.Record(1000 + rng() % 50'000'000, kT0 + static_cast<int64_t>(rng() % 1000));
    r.rows_sent = rng() % 100;
    r.error_code = rng() % 10 == 0 ? 1064 : 0;
    table->Record(r);
    all->Record(r);
  }
}

void ExpectSameStats(const DigestStats& a, const DigestStats& b) {
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(a.total_ns(), b.total_ns());
  EXPECT_EQ(a.min_ns(), b.min_ns());
  EXPECT_EQ(a.max_ns(), b.max_ns());
  EXPECT_EQ(a.errors, b.errors);
  EXPECT_EQ(a.rows_sent, b.rows_sent);
  EXPECT_EQ(a.first_seen_ns, b.first_seen_ns);
  EXPECT_EQ(a.last_seen_ns, b.last_seen_ns);
  for (size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(a.latency.bucket(i), b.latency.bucket(i)) << i;
  }
  EXPECT_EQ(a.QuantileNs(0.99), b.QuantileNs(0.99));
}

TEST(DigestSnapshot, MergeAcrossTablesEqualsOneTable) {
  DigestStatsTable worker1, worker2, all;
  Workload(3000, 1, &worker1, &all);
  Workload(2000, 2, &worker2, &all);

  // Reader side: both ways of combining give the single table's answer.
  DigestSnapshot merged;
  worker1.MergeInto(&merged);
  worker2.MergeInto(&merged);
  DigestSnapshot s1, s2, merged2;
  worker1.SnapshotInto(&s1);
  worker2.SnapshotInto(&s2);
  merged2.Merge(s1);
  merged2.Merge(s2);
  DigestSnapshot reference;
  all.SnapshotInto(&reference);

  ASSERT_EQ(reference.entries().size(), 16u);
  for (const DigestSnapshot* snap : {&merged, &merged2}) {
    ASSERT_EQ(snap->entries().size(), reference.entries().size());
    for (const DigestSnapshotEntry& want : reference.entries()) {
      const DigestSnapshotEntry* got = snap->Find(want.key());
      ASSERT_NE(got, nullptr);
      ExpectSameStats(got->stats, want.stats);
      EXPECT_EQ(got->example, want.example);  // the slowest one overall
      EXPECT_EQ(snap->Fingerprint(want.digest), reference.Fingerprint(want.digest));
    }
  }
}

TEST(DigestSnapshot, EvictionTotalsAddUp) {
  DigestStatsOptions options;
  options.max_entries = 2;
  DigestStatsTable w1(options), w2(options);
  for (const char* fp : {"a", "b", "c", "d"}) w1.Record(Fp(fp).Record(10));
  for (const char* fp : {"a", "b", "c"}) w2.Record(Fp(fp).Record(10));
  DigestSnapshot merged;
  w1.MergeInto(&merged);
  w2.MergeInto(&merged);
  EXPECT_EQ(merged.evictions(), 3u);
  EXPECT_EQ(merged.evicted().statements, 3u);
  EXPECT_EQ(merged.evicted().total_ns, 30u);
  EXPECT_EQ(merged.entries().size(), 3u);  // c, d from w1; b, c from w2
}

TEST(DigestSnapshot, IndexSurvivesGrowthCopyAndMove) {
  // Short schema names live inside the strings (SSO), so entries moving in
  // memory would leave the index's views dangling if it were not rebuilt.
  DigestStatsTable table(DigestStatsOptions{.max_entries = 5000});
  for (int i = 0; i < 1000; ++i) {
    Stmt s = Fp("select " + std::to_string(i % 50));
    s.schema = "s" + std::to_string(i / 50);
    table.Record(s.Record(1));
  }
  DigestSnapshot snap;
  for (int round = 0; round < 3; ++round) table.MergeInto(&snap);
  ASSERT_EQ(snap.entries().size(), 1000u);
  auto check = [](const DigestSnapshot& s) {
    for (int i = 0; i < 1000; ++i) {
      const std::string fp = "select " + std::to_string(i % 50);
      const std::string schema = "s" + std::to_string(i / 50);
      const DigestSnapshotEntry* e =
          s.Find(DigestKey{DigestId(fp), schema, "app", BackendRole::kPrimary});
      ASSERT_NE(e, nullptr) << i;
      EXPECT_EQ(e->stats.count(), 3u);
    }
  };
  check(snap);
  DigestSnapshot copy(snap);
  check(copy);
  DigestSnapshot assigned;
  assigned = snap;
  check(assigned);
  DigestSnapshot moved(std::move(copy));
  check(moved);
  snap.Merge(snap);  // self-merge doubles
  EXPECT_EQ(snap.entries()[0].stats.count(), 6u);
}

TEST(DigestSnapshot, TopNOrdering) {
  DigestStatsTable table;
  // slow_rare: 2 x 100 ms = 200 ms total, p99 100 ms
  // fast_often: 1000 x 50 us = 50 ms total
  // medium: 30 x 5 ms = 150 ms total, but one 400 ms outlier -> p99 high
  Stmt slow_rare = Fp("select slow");
  Stmt fast_often = Fp("select fast");
  Stmt medium = Fp("select medium");
  medium.schema = "blog";
  for (int i = 0; i < 2; ++i) table.Record(slow_rare.Record(100'000'000));
  for (int i = 0; i < 1000; ++i) table.Record(fast_often.Record(50'000));
  for (int i = 0; i < 29; ++i) table.Record(medium.Record(5'000'000));
  table.Record(medium.Record(400'000'000));
  DigestSnapshot snap;
  table.SnapshotInto(&snap);

  auto names = [&](const DigestQuery& q) {
    std::vector<std::string> out;
    for (const DigestSnapshotEntry* e : snap.Top(q)) out.emplace_back(snap.Fingerprint(e->digest));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names({DigestOrder::kTotalTime, 10, std::nullopt}),
            (V{"select medium", "select slow", "select fast"}));
  EXPECT_EQ(names({DigestOrder::kCount, 10, std::nullopt}),
            (V{"select fast", "select medium", "select slow"}));
  EXPECT_EQ(names({DigestOrder::kP99, 10, std::nullopt}),
            (V{"select medium", "select slow", "select fast"}));
  EXPECT_EQ(names({DigestOrder::kCount, 1, std::nullopt}), (V{"select fast"}));
  EXPECT_EQ(names({DigestOrder::kTotalTime, 10, "shop"}), (V{"select slow", "select fast"}));
  EXPECT_EQ(names({DigestOrder::kTotalTime, 10, "blog"}), (V{"select medium"}));
  EXPECT_TRUE(names({DigestOrder::kTotalTime, 10, "nowhere"}).empty());
  EXPECT_TRUE(names({DigestOrder::kTotalTime, 0, std::nullopt}).empty());

  // Ties are broken by digest id, so the answer does not depend on the order
  // of the entries.
  DigestStatsTable ties;
  for (const char* fp : {"t1", "t2", "t3", "t4"}) ties.Record(Fp(fp).Record(7));
  const DigestSnapshot tsnap = ties.Snapshot();
  const auto top = tsnap.Top({DigestOrder::kTotalTime, 4, std::nullopt});
  ASSERT_EQ(top.size(), 4u);
  for (size_t i = 1; i < top.size(); ++i) EXPECT_LT(top[i - 1]->digest, top[i]->digest);
}

TEST(DigestStatsTable, ReRecordingAnExistingKeyAllocatesNothing) {
#if !QL_STATS_COUNT_MALLOC
  GTEST_SKIP() << "malloc is the sanitizer's in this build";
#else
  DigestStatsTable table;
  std::vector<Stmt> stmts;
  for (int i = 0; i < 200; ++i) {
    Stmt s = Fp("select * from some_rather_long_table_name_" + std::to_string(i) +
                " where id = ? and a_long_column_name = ?");
    s.schema = "a_schema_name_longer_than_the_small_string_buffer_" + std::to_string(i % 5);
    s.user = i % 2 ? "app" : "a_user_name_longer_than_the_small_string_buffer";
    s.literal = "SELECT * FROM some_rather_long_table_name WHERE id = " + std::to_string(i);
    stmts.push_back(s);
  }
  std::vector<StatementRecord> records;
  for (const Stmt& s : stmts) records.push_back(s.Record(1'000'000));
  for (const StatementRecord& r : records) table.Record(r);  // warm-up: keys created
  ASSERT_EQ(table.size(), 200u);

  const long before = g_stats_mallocs.load();
  for (int round = 0; round < 5; ++round) {
    for (StatementRecord r : records) {
      r.total_ns = 1000 + static_cast<uint64_t>(round) * 100;  // not slower: example stays
      r.rows_sent = 3;
      r.error_code = round == 2 ? 1213 : 0;
      table.Record(r);
    }
  }
  const long after = g_stats_mallocs.load();
  EXPECT_EQ(after - before, 0) << "allocations while re-recording existing keys";
  EXPECT_EQ(table.size(), 200u);

  // The counter is live: a new key does allocate (its strings, its slot).
  const long before_new = g_stats_mallocs.load();
  Stmt fresh = stmts[0];
  fresh.schema = "a_brand_new_schema_name_longer_than_the_small_buffer";
  table.Record(fresh.Record(1));
  EXPECT_GT(g_stats_mallocs.load(), before_new);
#endif
}

}  // namespace
}  // namespace ql::analyzer
