// SlowLogFormatter: golden text for both time styles and for the text and
// name sanitizing, and a check against the real Percona pt-query-digest
// (skipped when it is not installed): the log of a mixed workload must come
// back with the right fingerprints, counts and total times, and grouped by
// our Digest attribute it must agree with DigestStatsTable.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "analyzer/digest.h"
#include "analyzer/digest_stats.h"
#include "analyzer/slow_log_format.h"
#include "gtest/gtest.h"

namespace ql::analyzer {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kNov24 = 1795554303;  // 2026-11-24 21:05:03 UTC
constexpr int64_t kNov25 = 1795597200;  // 2026-11-25 09:00:00 UTC

StatementRecord Rec(std::string_view fingerprint, int64_t start_ns, uint64_t total_ns) {
  StatementRecord r;
  r.fingerprint = fingerprint;
  r.digest = DigestId(fingerprint);
  r.schema = "shop";
  r.user = "app";
  r.client_address = "10.0.0.5";
  r.session_id = 42;
  r.backend_role = BackendRole::kPrimary;
  r.start_time_ns = start_ns;
  r.total_ns = total_ns;
  return r;
}

std::string Hex(std::string_view fingerprint) { return DigestHex(DigestId(fingerprint)); }

TEST(SlowLogFormat, MariaDbGolden) {
  SlowLogFormatter f;
  std::string out;
  StatementRecord a = Rec("select * from t where id = ?", kNov24 * kSec + 100'000'000, 1'234'567);
  a.rows_sent = 1;
  a.bytes_sent = 123;
  a.bytes_received = 45;
  a.pool_wait_ns = 10'000;
  a.backend_first_byte_ns = 950'400;
  a.no_index_used = true;
  f.Append(a, a.fingerprint, &out);
  // Same second, same schema: no "# Time:", no "use".
  StatementRecord b = Rec("update t set a = ? where id = ?", kNov24 * kSec + 200'000'000, 499);
  b.rows_affected = 3;
  b.error_code = 1213;
  b.warnings = 1;
  b.backend_role = BackendRole::kReplica;
  b.state_sync_ns = 2'000'500;
  f.Append(b, "UPDATE t SET a = 1 WHERE id = 2;", &out);
  // Another day (hour < 10 is space-padded, as MariaDB prints it), another
  // schema.
  StatementRecord c = Rec("commit", kNov25 * kSec, 2'500'000'000);
  c.schema = "blog";
  c.backend_role = BackendRole::kNone;
  f.Append(c, "COMMIT", &out);

  const std::string expected =
      "# Time: 261124 21:05:03\n"
      "# User@Host: app[app] @  [10.0.0.5]\n"
      "# Thread_id: 42  Schema: shop  QC_hit: No\n"
      "# Query_time: 0.001235  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0\n"
      "# Rows_affected: 0  Bytes_sent: 123\n"
      "# Bytes_received: 45  Errno: 0  Warnings: 0  No_index_used: Yes  No_good_index_used: No\n"
      "# Backend: primary  Digest: 0x" + Hex("select * from t where id = ?") +
      "  Pool_wait: 0.000010  Sync_time: 0.000000  Backend_wait: 0.000950\n"
      "use shop;\n"
      "SET timestamp=1795554303;\n"
      "select * from t where id = ?;\n"
      "# User@Host: app[app] @  [10.0.0.5]\n"
      "# Thread_id: 42  Schema: shop  QC_hit: No\n"
      "# Query_time: 0.000000  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\n"
      "# Rows_affected: 3  Bytes_sent: 0\n"
      "# Bytes_received: 0  Errno: 1213  Warnings: 1  No_index_used: No  No_good_index_used: No\n"
      "# Backend: replica  Digest: 0x" + Hex("update t set a = ? where id = ?") +
      "  Pool_wait: 0.000000  Sync_time: 0.002001  Backend_wait: 0.000000\n"
      "SET timestamp=1795554303;\n"
      "UPDATE t SET a = 1 WHERE id = 2;\n"
      "# Time: 261125  9:00:02\n"
      "# User@Host: app[app] @  [10.0.0.5]\n"
      "# Thread_id: 42  Schema: blog  QC_hit: No\n"
      "# Query_time: 2.500000  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\n"
      "# Rows_affected: 0  Bytes_sent: 0\n"
      "# Bytes_received: 0  Errno: 0  Warnings: 0  No_index_used: No  No_good_index_used: No\n"
      "# Backend: none  Digest: 0x" + Hex("commit") +
      "  Pool_wait: 0.000000  Sync_time: 0.000000  Backend_wait: 0.000000\n"
      "use blog;\n"
      "SET timestamp=1795597200;\n"
      "COMMIT;\n";
  EXPECT_EQ(out, expected);
}

TEST(SlowLogFormat, IsoGoldenWithoutProxyFields) {
  SlowLogFormatter f(SlowLogOptions{SlowLogTimeStyle::kIso8601, false});
  std::string out = "kept|";  // appends, never replaces
  StatementRecord a = Rec("select ?", kNov24 * kSec + 100'000'000, 1'234'567);
  f.Append(a, "SELECT 1", &out);
  f.Append(a, "SELECT 2", &out);  // ISO style repeats the time every entry
  const std::string entry_head =
      "# Time: 2026-11-24T21:05:03.101234Z\n"
      "# User@Host: app[app] @  [10.0.0.5]\n"
      "# Thread_id: 42  Schema: shop  QC_hit: No\n"
      "# Query_time: 0.001235  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\n"
      "# Rows_affected: 0  Bytes_sent: 0\n";
  EXPECT_EQ(out, "kept|" + entry_head + "use shop;\nSET timestamp=1795554303;\nSELECT 1;\n" +
                     entry_head + "SET timestamp=1795554303;\nSELECT 2;\n");
}

TEST(SlowLogFormat, CalendarEdges) {
  SlowLogFormatter f(SlowLogOptions{SlowLogTimeStyle::kIso8601, false});
  auto time_line = [&](int64_t unix_seconds) {
    std::string out;
    f.Append(Rec("x", unix_seconds * kSec, 0), "x", &out);
    return out.substr(0, out.find('\n'));
  };
  EXPECT_EQ(time_line(0), "# Time: 1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(time_line(1709210096), "# Time: 2024-02-29T12:34:56.000000Z");
  EXPECT_EQ(time_line(951782400), "# Time: 2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(time_line(4102444799), "# Time: 2099-12-31T23:59:59.000000Z");
  SlowLogFormatter m;
  std::string out;
  m.Append(Rec("x", 0, 0), "x", &out);
  EXPECT_EQ(out.substr(0, out.find('\n')), "# Time: 700101  0:00:00");
}

// The statement lines of one entry (after "SET timestamp=...;\n").
std::string Body(std::string_view text) {
  SlowLogFormatter f;
  std::string out;
  f.Append(Rec("x", kNov24 * kSec, 0), text, &out);
  const std::string marker = "SET timestamp=1795554303;\n";
  return out.substr(out.find(marker) + marker.size());
}

TEST(SlowLogFormat, StatementTextIsMadeSafeForTheParser) {
  EXPECT_EQ(Body("SELECT 1"), "SELECT 1;\n");
  EXPECT_EQ(Body("SELECT 1 ;; \n\t"), "SELECT 1;\n");
  EXPECT_EQ(Body(""), "/* empty */;\n");
  EXPECT_EQ(Body(" ;\n"), "/* empty */;\n");
  // Would be read as header lines: the keyword's case is flipped (the
  // parser's test is case-sensitive, pt's fingerprint is not), a comment is
  // indented.
  EXPECT_EQ(Body("use shop"), "USE shop;\n");
  EXPECT_EQ(Body("use ?"), "USE ?;\n");
  EXPECT_EQ(Body("SET timestamp=5"), "set timestamp=5;\n");
  EXPECT_EQ(Body("SET insert_id=5"), "set insert_id=5;\n");
  EXPECT_EQ(Body("SET last_insert_id=5"), "set last_insert_id=5;\n");
  EXPECT_EQ(Body("# comment\nSELECT 1"), " # comment\nSELECT 1;\n");
  // The parser's matching is case-sensitive; these are statements to it.
  EXPECT_EQ(Body("USE shop"), "USE shop;\n");
  EXPECT_EQ(Body("set timestamp = ?"), "set timestamp = ?;\n");
  EXPECT_EQ(Body("SET NAMES utf8mb4"), "SET NAMES utf8mb4;\n");
  // ";\n#" inside a statement would end the entry.
  EXPECT_EQ(Body("SELECT 1;\n# two\nSELECT 2;\n#three\n#"),
            "SELECT 1;\n # two\nSELECT 2;\n #three\n #;\n");
  EXPECT_EQ(Body("SELECT 'a\n#b'"), "SELECT 'a\n #b';\n");
}

TEST(SlowLogFormat, NamesCannotBreakTheLineFormat) {
  SlowLogFormatter f(SlowLogOptions{SlowLogTimeStyle::kMariaDb, false});
  StatementRecord r = Rec("x", kNov24 * kSec, 0);
  r.user = "bad user[x]";
  r.schema = "my db;\n";
  r.client_address = "";
  std::string out;
  f.Append(r, "x", &out);
  EXPECT_NE(out.find("# User@Host: bad?user?x?[bad?user?x?] @  []\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Schema: my?db??  QC_hit"), std::string::npos) << out;
  EXPECT_NE(out.find("\nuse my?db??;\n"), std::string::npos) << out;

  // No schema: MariaDB's "Schema: %s  QC_hit" with nothing in it (pt has a
  // rule for exactly this), and no use line.
  r.schema = "";
  out.clear();
  SlowLogFormatter g;
  g.Append(r, "x", &out);
  EXPECT_NE(out.find("Schema:   QC_hit: No\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("\nuse "), std::string::npos) << out;
}

TEST(SlowLogFormat, ResetPrintsTimeAndSchemaAgain) {
  SlowLogFormatter f;
  StatementRecord r = Rec("x", kNov24 * kSec, 0);
  std::string first, second, third;
  f.Append(r, "x", &first);
  f.Append(r, "x", &second);
  f.Reset();
  f.Append(r, "x", &third);
  EXPECT_NE(first.find("# Time:"), std::string::npos);
  EXPECT_NE(first.find("\nuse shop;"), std::string::npos);
  EXPECT_EQ(second.find("# Time:"), std::string::npos);
  EXPECT_EQ(second.find("\nuse shop;"), std::string::npos);
  EXPECT_EQ(third, first);
}

// ---------------------------------------------------------------------------
// The real pt-query-digest.

// Just enough JSON to read pt-query-digest --output json: finds members of
// objects and elements of arrays as raw text.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') {
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\') ++i;
    }
    return i + 1;
  }
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      if (s[i] == '"') {
        i = SkipValue(s, i) - 1;
      } else if (s[i] == '{' || s[i] == '[') {
        ++depth;
      } else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return i;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}

// The members (object) or elements (array) of `s`, as raw value texts; for
// objects each is preceded by its key.
std::vector<std::pair<std::string, std::string_view>> Children(std::string_view s) {
  std::vector<std::pair<std::string, std::string_view>> out;
  const bool object = !s.empty() && s[0] == '{';
  size_t i = 1;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ',' || s[i] == ' ' || s[i] == '\n')) ++i;
    if (i >= s.size() || s[i] == '}' || s[i] == ']') break;
    std::string key;
    if (object) {
      const size_t end = SkipValue(s, i);
      key = std::string(s.substr(i + 1, end - i - 2));
      i = end + 1;  // past ':'
    }
    const size_t end = SkipValue(s, i);
    out.emplace_back(key, s.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string_view Member(std::string_view object, std::string_view key) {
  for (const auto& [k, v] : Children(object)) {
    if (k == key) return v;
  }
  return {};
}

std::string Unquote(std::string_view v) {
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) {
      ++i;
      out.push_back(v[i] == 'n' ? '\n' : v[i]);
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

struct PtClass {
  uint64_t count = 0;
  double seconds = 0;
};
struct PtReport {
  uint64_t total = 0;
  std::map<std::string, PtClass> classes;  // by fingerprint (or group-by value)
};

std::optional<PtReport> RunPtQueryDigest(const std::string& log_text, const std::string& extra) {
  std::string path = testing::TempDir() + "ql_slow_log_XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return std::nullopt;
  close(fd);
  std::ofstream(path, std::ios::binary) << log_text;
  const std::string cmd = "pt-query-digest --output json --limit 100000 " + extra + " '" + path +
                          "' 2>/dev/null";
  std::string json;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) json.append(buf, n);
    pclose(p);
  }
  std::remove(path.c_str());
  const size_t start = json.find('{');
  if (start == std::string::npos) return std::nullopt;
  const std::string_view doc = std::string_view(json).substr(start);
  PtReport report;
  report.total = std::strtoull(std::string(Member(Member(doc, "global"), "query_count")).c_str(),
                               nullptr, 10);
  for (const auto& [unused, cls] : Children(Member(doc, "classes"))) {
    PtClass c;
    c.count = std::strtoull(std::string(Member(cls, "query_count")).c_str(), nullptr, 10);
    const std::string sum = Unquote(Member(Member(Member(cls, "metrics"), "Query_time"), "sum"));
    c.seconds = std::strtod(sum.c_str(), nullptr);
    report.classes[Unquote(Member(cls, "fingerprint"))] = c;
  }
  return report;
}

bool HavePtQueryDigest() {
  return std::system("command -v pt-query-digest >/dev/null 2>&1") == 0;
}

// One kind of statement of the workload: our fingerprint, the text to log
// when literals are on (%d takes a running number), and the fingerprint
// pt-query-digest computes from each. Where pt's differs from ours, the
// difference is one of its documented rules (profiling.md 2.1).
struct Kind {
  const char* ours;
  const char* literal;
  const char* pt_of_ours;
  const char* pt_of_literal;
  int count;
};
constexpr Kind kKinds[] = {
    {"select * from users where id = ?", "SELECT * FROM users WHERE id = %d",
     "select * from users where id = ?", "select * from users where id = ?", 7},
    {"update orders set status = ? where id = ?", "UPDATE orders SET status = 'paid' WHERE id = %d;",
     "update orders set status = ? where id = ?", "update orders set status = ? where id = ?", 5},
    // pt writes no space before a collapsed list.
    {"select a from t where b in (?+)", "select a from t where b in (1, 2, %d)",
     "select a from t where b in(?+)", "select a from t where b in(?+)", 4},
    {"insert into audit (a, b) values (?+)", "INSERT INTO audit (a, b) VALUES (%d, 'x'), (2, 'y')",
     "insert into audit (a, b) values(?+)", "insert into audit (a, b) values(?+)", 3},
    // Would be header lines; the keyword's case is flipped.
    {"use ?", "use shop%d", "use ?", "use ?", 2},
    {"set timestamp = ?", "SET timestamp=17000000%d", "set timestamp = ?", "set timestamp=?", 2},
    // A '#' line inside the statement (a comment pt strips).
    {"select name from users where id = ?", "SELECT name\n# the name column\nFROM users WHERE id = %d",
     "select name from users where id = ?", "select name from users where id = ?", 3},
    // pt folds the offset into "limit ?".
    {"select ? from dual where x = ? limit ? offset ?", "SELECT 1 FROM dual WHERE x = %d LIMIT 5 OFFSET 10",
     "select ? from dual where x = ? limit ?", "select ? from dual where x = ? limit ?", 2},
    {"select * from users where name = ?", "SELECT * FROM users WHERE name = 'Zo\xC3\xAB%d'",
     "select * from users where name = ?", "select * from users where name = ?", 2},
    {"commit", "COMMIT", "commit", "commit", 6},
};

struct Workload {
  std::vector<std::string> literals;  // owns the texts records point at
  std::vector<StatementRecord> records;
  std::vector<const Kind*> kinds;
};

Workload MakeWorkload() {
  Workload w;
  int n = 0;
  for (const Kind& k : kKinds) n += k.count;
  w.literals.reserve(static_cast<size_t>(n));
  int64_t t = kNov24 * kSec;
  int i = 0;
  for (const Kind& k : kKinds) {
    for (int j = 0; j < k.count; ++j, ++i) {
      char text[256];
      std::snprintf(text, sizeof text, k.literal, 100 + i);
      w.literals.emplace_back(text);
      // Durations from 37 us to ~1.6 s, sub-microsecond parts included so
      // rounding is exercised; starts spread over a few seconds.
      StatementRecord r = Rec(k.ours, t, 37'000 + static_cast<uint64_t>(i) * 37'123'457 % 1'600'000'000);
      r.schema = i % 3 == 0 ? "blog" : "shop";
      r.backend_role = i % 2 ? BackendRole::kReplica : BackendRole::kPrimary;
      r.rows_sent = static_cast<uint64_t>(i);
      r.literal_text = w.literals.back();
      w.records.push_back(r);
      w.kinds.push_back(&k);
      t += 150'000'000;
    }
  }
  return w;
}

double RoundedSeconds(uint64_t ns) {  // what the log prints
  return static_cast<double>(ns / 1000 + (ns % 1000 >= 500 ? 1 : 0)) / 1e6;
}

void CheckPtGroups(const Workload& w, bool literal_text, SlowLogTimeStyle style) {
  SlowLogFormatter f(SlowLogOptions{style, true});
  std::string log;
  std::map<std::string, PtClass> expected;
  for (size_t i = 0; i < w.records.size(); ++i) {
    const StatementRecord& r = w.records[i];
    f.Append(r, literal_text ? r.literal_text : r.fingerprint, &log);
    PtClass& c = expected[literal_text ? w.kinds[i]->pt_of_literal : w.kinds[i]->pt_of_ours];
    ++c.count;
    c.seconds += RoundedSeconds(r.total_ns);
  }
  const std::optional<PtReport> report = RunPtQueryDigest(log, "");
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->total, w.records.size()) << "every entry parsed as one event";
  ASSERT_EQ(report->classes.size(), expected.size()) << log;
  for (const auto& [fingerprint, want] : expected) {
    auto it = report->classes.find(fingerprint);
    ASSERT_NE(it, report->classes.end()) << "pt did not report: " << fingerprint;
    EXPECT_EQ(it->second.count, want.count) << fingerprint;
    EXPECT_NEAR(it->second.seconds, want.seconds, 1e-6 * want.count) << fingerprint;
  }
}

TEST(SlowLogPtQueryDigest, FingerprintTextGroupsAsExpected) {
  if (!HavePtQueryDigest()) GTEST_SKIP() << "pt-query-digest not installed (percona-toolkit)";
  CheckPtGroups(MakeWorkload(), false, SlowLogTimeStyle::kMariaDb);
}

TEST(SlowLogPtQueryDigest, LiteralTextGroupsAsExpected) {
  if (!HavePtQueryDigest()) GTEST_SKIP() << "pt-query-digest not installed (percona-toolkit)";
  CheckPtGroups(MakeWorkload(), true, SlowLogTimeStyle::kMariaDb);
  CheckPtGroups(MakeWorkload(), true, SlowLogTimeStyle::kIso8601);
}

TEST(SlowLogPtQueryDigest, GroupByDigestAgreesWithDigestTable) {
  if (!HavePtQueryDigest()) GTEST_SKIP() << "pt-query-digest not installed (percona-toolkit)";
  const Workload w = MakeWorkload();
  SlowLogFormatter f;
  DigestStatsTable table;
  std::string log;
  for (const StatementRecord& r : w.records) {
    f.Append(r, r.literal_text, &log);
    table.Record(r);
  }
  DigestSnapshot snap;
  table.SnapshotInto(&snap);
  // The table keys by schema and role too; pt's Digest groups by digest only.
  std::map<std::string, PtClass> by_digest;
  for (const DigestSnapshotEntry& e : snap.entries()) {
    PtClass& c = by_digest["0x" + DigestHex(e.digest)];
    c.count += e.stats.count();
    c.seconds += static_cast<double>(e.stats.total_ns()) / 1e9;
  }
  const std::optional<PtReport> report = RunPtQueryDigest(log, "--group-by Digest");
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->total, w.records.size());
  ASSERT_EQ(report->classes.size(), std::size(kKinds));
  ASSERT_EQ(by_digest.size(), std::size(kKinds));
  for (const auto& [digest, want] : by_digest) {
    auto it = report->classes.find(digest);
    ASSERT_NE(it, report->classes.end()) << digest;
    EXPECT_EQ(it->second.count, want.count) << digest;
    // The log rounds each duration to the microsecond.
    EXPECT_NEAR(it->second.seconds, want.seconds, 1e-6 * want.count) << digest;
  }
}

}  // namespace
}  // namespace ql::analyzer
