// N+1 findings as log output: one readable line, or one JSON object (for
// --log-format json), each without a trailing newline and without a
// timestamp or level (the logger adds those).
//
// Text (fields with nothing to say are left out; free text is quoted with
// \" \\ \n \t \r and \xHH escapes, so a line never breaks):
//   n_plus_one confidence=high count=100 distinct=20 max_identical=5
//   span_ms=40.000 total_ms=30.000 avg_ms=0.300 max_ms=0.300 unit_share=85%
//   unit_statements=101 fingerprint=<16 hex> "select ..." parent=<16 hex>
//   "select ..." parent_rows=100 backend=replica schema="shop" user="app"
//   session=7 route="products/" controller="product_list"
//   framework="django:3.2.25" traceparent="00-..." suppressed=2
//   fix="consider .select_related('category') ..."
// (all on one line). Repeated cycles add length= and statements= and list
// their members as cycle=[<hex>,<hex>]; too_many_statements lists
// top=[<hex>:<count>,...]. An estimated distinct count is written "~N".
//
// JSON: one object with the keys
//   event ("n_plus_one"), kind, confidence, count, statements,
//   distinct_values, distinct_estimated, max_identical, rows_sent, span_ms,
//   total_ms, avg_ms, max_ms, unit_share (0..1), unit_statements,
//   unit_db_ms, fingerprint_id, fingerprint, tables, parent_id,
//   parent_fingerprint, parent_rows, backend, schema, user, session_id,
//   route, controller, framework, action, app_name, traceparent, trace_id,
//   suggestion, related ([{fingerprint_id, count, fingerprint}]), suppressed.
// Absent values (no parent, no route, ...) are null. Strings are escaped per
// RFC 8259; bytes that are not valid UTF-8 become U+FFFD. Milliseconds
// have three decimals; numbers never depend on the locale.
#pragma once

#include <string>
#include <string_view>

#include "analyzer/n_plus_one_finding.h"

namespace ql::analyzer {

void AppendFindingText(const NPlusOneFinding& finding, std::string* out);
void AppendFindingJson(const NPlusOneFinding& finding, std::string* out);

// Building blocks, exposed for tests and for other JSON writers.
void AppendJsonString(std::string_view value, std::string* out);  // with quotes
void AppendQuotedText(std::string_view value, std::string* out);  // with quotes
// ns as milliseconds with three decimals ("1.235"; rounded half up).
void AppendMillis(uint64_t ns, std::string* out);

}  // namespace ql::analyzer
