// Formats finished statements as MariaDB slow-query-log entries, the format
// Percona's pt-query-digest (and anything else that reads server slow logs)
// parses. See shared/research/profiling.md 3.2-3.4. One entry:
//
//   # Time: 261124 21:05:03
//   # User@Host: app[app] @  [10.0.0.5]
//   # Thread_id: 42  Schema: shop  QC_hit: No
//   # Query_time: 0.001234  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0
//   # Rows_affected: 0  Bytes_sent: 123
//   # Bytes_received: 45  Errno: 0  Warnings: 0  No_index_used: No  No_good_index_used: No
//   # Backend: primary  Digest: 0x0f70cec4015f2a34  Pool_wait: 0.000010  Sync_time: 0.000000  Backend_wait: 0.000950
//   use shop;
//   SET timestamp=1795554303;
//   select * from t where id = ?;
//
// What a proxy cannot know is written as the server writes "nothing":
// Lock_time 0, Rows_examined 0, QC_hit No. The last two "#" lines are the
// proxy's own attributes: pt-query-digest reports any "Name: value" pair
// (names ending in "wait" or "time" as durations) and can --group-by them,
// e.g. --group-by Digest. The digest carries a 0x prefix so that pt never
// types it as a number. Times are UTC: the formatter does no time-zone lookup.
//
// Like the server, the formatter prints "# Time:" only when the second
// changed (MariaDB style) and "use db;" only when the schema changed, so it
// keeps a little state: one formatter per output file, Reset() when the file
// is reopened.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/statement_record.h"

namespace ql::analyzer {

enum class SlowLogTimeStyle : uint8_t {
  kMariaDb,  // "# Time: 261124 21:05:03" (YYMMDD, hour space-padded), when changed
  kIso8601,  // "# Time: 2026-11-24T21:05:03.123456Z" (MySQL 5.7+), every entry
};

struct SlowLogOptions {
  SlowLogTimeStyle time_style = SlowLogTimeStyle::kMariaDb;
  bool proxy_fields = true;  // the Bytes_received/Errno/... and Backend/Digest/... lines
};

class SlowLogFormatter {
 public:
  explicit SlowLogFormatter(SlowLogOptions options = {}) : options_(options) {}

  // Appends one entry for `r` to *out. `text` is the statement to print: the
  // caller passes the fingerprint, or the literal text with --log-literals.
  // The text is written as given except that a trailing ';' and white space
  // are dropped (one ';' ends every entry); a first line that the parser
  // would take for a header line gets its keyword's case flipped ("use db"
  // -> "USE db", "SET timestamp=..." -> "set timestamp=...", likewise
  // SET insert_id / last_insert_id); a line starting with '#', first or not,
  // is indented by one space (pt-query-digest splits entries at ";\n#").
  // Empty text becomes "/* empty */".
  // User, host and schema are printed with characters that would break the
  // line format (space, control characters, brackets, ';') replaced by '?'.
  void Append(const StatementRecord& r, std::string_view text, std::string* out);

  // Forgets the last printed time and schema (a new or reopened file).
  void Reset();

 private:
  void AppendTime(int64_t time_ns, std::string* out);

  SlowLogOptions options_;
  int64_t last_time_second_ = INT64_MIN;
  bool have_schema_ = false;
  std::string last_schema_;
};

}  // namespace ql::analyzer
