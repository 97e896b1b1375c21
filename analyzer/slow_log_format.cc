// SlowLogFormatter: number, time and text writers for slow-log entries. All
// output is appended to a caller-owned string with std::to_chars and a civil
// calendar computed here, so formatting needs no locale, no time-zone
// database and no temporary strings.
#include "analyzer/slow_log_format.h"

#include <charconv>
#include <cstring>

#include "analyzer/digest.h"

namespace ql::analyzer {
namespace {

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, res.ptr);
}

// v as exactly `width` digits, zero-padded (v < 10^width).
void AppendPadded(uint64_t v, int width, char pad, std::string* out) {
  char buf[24];
  int i = width;
  do {
    buf[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && i > 0);
  while (i > 0) buf[--i] = pad;
  out->append(buf, static_cast<size_t>(width));
}

// Nanoseconds as seconds with six decimals, rounded to the microsecond.
void AppendSeconds(uint64_t ns, std::string* out) {
  const uint64_t us = ns / 1000 + (ns % 1000 >= 500 ? 1 : 0);
  AppendUint(us / 1000000, out);
  out->push_back('.');
  AppendPadded(us % 1000000, 6, '0', out);
}

void AppendYesNo(bool v, std::string* out) { out->append(v ? "Yes" : "No"); }

// A name written where a parser splits on spaces and brackets.
void AppendSafe(std::string_view s, std::string* out) {
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    const bool bad = u <= 0x20 || u == 0x7f || c == '[' || c == ']' || c == ';';
    out->push_back(bad ? '?' : c);
  }
}

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second;
};

// UTC calendar fields of a Unix time (days-from-civil inverse, proleptic
// Gregorian; valid for any int64 second count we can meet).
Civil ToCivil(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400;
  int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  days += 719468;  // shift the epoch to 0000-03-01
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;                                  // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                   // [0, 11]
  Civil c;
  c.day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.hour = static_cast<unsigned>(rem / 3600);
  c.minute = static_cast<unsigned>(rem % 3600 / 60);
  c.second = static_cast<unsigned>(rem % 60);
  return c;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// Would SlowLogParser take a line starting like this for a header line?
bool LooksLikeMetaLine(std::string_view s) {
  return s.starts_with("#") || s.starts_with("use ") ||
         s.starts_with("SET last_insert_id") || s.starts_with("SET insert_id") ||
         s.starts_with("SET timestamp");
}

bool IsTrailingJunk(char c) {
  return c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void AppendStatement(std::string_view text, std::string* out) {
  while (!text.empty() && IsTrailingJunk(text.back())) text.remove_suffix(1);
  if (text.empty()) text = "/* empty */";
  if (LooksLikeMetaLine(text)) {
    // The parser's test is case-sensitive and pt's fingerprint is not, so
    // flipping the keyword's case keeps "use ?" grouping as pt groups USE
    // (an indent would defeat its "\Ause" rule). A comment is indented.
    if (text[0] == '#') {
      out->push_back(' ');
    } else {
      out->append(text[0] == 'u' ? "USE" : "set");
      text.remove_prefix(3);
    }
  }
  // Indent lines that start with '#', copying the runs in between whole.
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string_view::npos;
       nl = text.find('\n', nl + 1)) {
    if (nl + 1 < text.size() && text[nl + 1] == '#') {
      out->append(text.data() + start, nl + 1 - start);
      out->push_back(' ');
      start = nl + 1;
    }
  }
  out->append(text.data() + start, text.size() - start);
  out->append(";\n");
}

}  // namespace

void SlowLogFormatter::Reset() {
  last_time_second_ = INT64_MIN;
  have_schema_ = false;
  last_schema_.clear();
}

void SlowLogFormatter::AppendTime(int64_t time_ns, std::string* out) {
  const int64_t second = FloorDiv(time_ns, 1000000000);
  const Civil c = ToCivil(second);
  if (options_.time_style == SlowLogTimeStyle::kMariaDb) {
    if (second == last_time_second_) return;
    last_time_second_ = second;
    out->append("# Time: ");
    const int64_t yy = c.year % 100;
    AppendPadded(static_cast<uint64_t>(yy < 0 ? yy + 100 : yy), 2, '0', out);
    AppendPadded(c.month, 2, '0', out);
    AppendPadded(c.day, 2, '0', out);
    out->push_back(' ');
    AppendPadded(c.hour, 2, ' ', out);
  } else {
    out->append("# Time: ");
    AppendPadded(static_cast<uint64_t>(c.year < 0 ? 0 : c.year), 4, '0', out);
    out->push_back('-');
    AppendPadded(c.month, 2, '0', out);
    out->push_back('-');
    AppendPadded(c.day, 2, '0', out);
    out->push_back('T');
    AppendPadded(c.hour, 2, '0', out);
  }
  out->push_back(':');
  AppendPadded(c.minute, 2, '0', out);
  out->push_back(':');
  AppendPadded(c.second, 2, '0', out);
  if (options_.time_style == SlowLogTimeStyle::kIso8601) {
    out->push_back('.');
    AppendPadded(static_cast<uint64_t>(time_ns - second * 1000000000) / 1000, 6, '0', out);
    out->push_back('Z');
  }
  out->push_back('\n');
}

void SlowLogFormatter::Append(const StatementRecord& r, std::string_view text,
                              std::string* out) {
  // The server stamps an entry when it writes it, i.e. at the end.
  AppendTime(r.start_time_ns + static_cast<int64_t>(r.total_ns), out);

  // No reverse DNS: the host is left empty, as a server with
  // skip-name-resolve writes it; pt-query-digest then uses the IP.
  out->append("# User@Host: ");
  AppendSafe(r.user, out);
  out->push_back('[');
  AppendSafe(r.user, out);
  out->append("] @  [");
  AppendSafe(r.client_address, out);
  out->append("]\n");

  out->append("# Thread_id: ");
  AppendUint(r.session_id, out);
  out->append("  Schema: ");
  AppendSafe(r.schema, out);
  out->append("  QC_hit: No\n");

  out->append("# Query_time: ");
  AppendSeconds(r.total_ns, out);
  out->append("  Lock_time: 0.000000  Rows_sent: ");
  AppendUint(r.rows_sent, out);
  out->append("  Rows_examined: 0\n");

  out->append("# Rows_affected: ");
  AppendUint(r.rows_affected, out);
  out->append("  Bytes_sent: ");
  AppendUint(r.bytes_sent, out);
  out->push_back('\n');

  if (options_.proxy_fields) {
    out->append("# Bytes_received: ");
    AppendUint(r.bytes_received, out);
    out->append("  Errno: ");
    AppendUint(r.error_code, out);
    out->append("  Warnings: ");
    AppendUint(r.warnings, out);
    out->append("  No_index_used: ");
    AppendYesNo(r.no_index_used, out);
    out->append("  No_good_index_used: ");
    AppendYesNo(r.no_good_index_used, out);
    out->push_back('\n');

    out->append("# Backend: ");
    out->append(BackendRoleName(r.backend_role));
    // "0x" keeps pt-query-digest from typing the attribute as a number
    // (it does when the first value it sees happens to be all digits, and
    // then fails on the next hex one).
    out->append("  Digest: 0x");
    char hex[16];
    DigestHexTo(r.digest, hex);
    out->append(hex, sizeof hex);
    out->append("  Pool_wait: ");
    AppendSeconds(r.pool_wait_ns, out);
    out->append("  Sync_time: ");
    AppendSeconds(r.state_sync_ns, out);
    out->append("  Backend_wait: ");
    AppendSeconds(r.backend_first_byte_ns, out);
    out->push_back('\n');
  }

  // "use" only when the schema changed and there is one to use.
  if (!have_schema_ || r.schema != last_schema_) {
    if (!r.schema.empty()) {
      out->append("use ");
      AppendSafe(r.schema, out);
      out->append(";\n");
    }
    have_schema_ = true;
    last_schema_.assign(r.schema.data(), r.schema.size());
  }

  out->append("SET timestamp=");
  const int64_t start_second = FloorDiv(r.start_time_ns, 1000000000);
  AppendUint(static_cast<uint64_t>(start_second < 0 ? 0 : start_second), out);
  out->append(";\n");

  AppendStatement(text, out);
}

}  // namespace ql::analyzer
