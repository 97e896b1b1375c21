// What the N+1 detector needs to know about one finished statement, and the
// helpers that fill it in from what the proxy already has (the statement
// record, the analyzer's sqlcommenter tags, the literal summary).
//
// Like StatementRecord, the input owns nothing: its views are valid for the
// duration of the call that receives it; the detector copies what it keeps.
//
// Times are monotonic (steady clock) nanoseconds: units of work are cut by
// idle gaps, which a wall-clock step must not fake.
#pragma once

#include <cstdint>
#include <string_view>

#include "analyzer/n_plus_one_literals.h"
#include "analyzer/sqlcommenter.h"
#include "analyzer/statement_classifier.h"
#include "analyzer/statement_record.h"

namespace ql::analyzer {

// The application call site, from the statement's sqlcommenter comment.
struct NPlusOneCallSite {
  std::string_view traceparent;  // W3C: 00-<32 hex trace id>-<16 hex span id>-<flags>
  std::string_view route;        // Django: resolver_match.route
  std::string_view controller;   // Django: resolver_match.view_name
  std::string_view framework;    // "django:3.2.25"
  std::string_view action;       // Rails-style tools
  std::string_view app_name;
  bool silenced = false;  // carried querylens_ignore (n_plus_one_options.h)

  bool empty() const {
    return traceparent.empty() && route.empty() && controller.empty() && framework.empty() &&
           action.empty() && app_name.empty();
  }
};

struct NPlusOneInput {
  uint64_t session_id = 0;
  int64_t start_ns = 0;      // monotonic
  uint64_t duration_ns = 0;  // start -> last response byte
  uint64_t digest = 0;
  std::string_view fingerprint;  // masked, normalized text (DigestId(fingerprint) == digest)
  StatementClass statement_class = StatementClass::kUnknown;
  LiteralSummary literals;
  uint64_t rows_sent = 0;
  uint64_t rows_affected = 0;
  // An INSERT, UPDATE, DELETE or REPLACE that touched at most one row (the
  // write-loop candidates); see IsSingleRowWrite.
  bool single_row_write = false;
  bool failed = false;  // ERR packet: counted in the unit, never a candidate
  NPlusOneCallSite call_site;
  std::string_view schema;
  std::string_view user;
  BackendRole backend_role = BackendRole::kNone;

  int64_t end_ns() const { return start_ns + static_cast<int64_t>(duration_ns); }
};

// The trace id of a W3C traceparent ("00-4bf9...4736-00f0...02b7-01" ->
// "4bf9...4736"); "" when it is not of that form.
std::string_view TraceIdOf(std::string_view traceparent);

// Reads the call-site keys from sqlcommenter tags.
NPlusOneCallSite CallSiteFromTags(const SqlCommenterTags& tags);

// A write statement (by class and fingerprint: insert / update / delete /
// replace, not INSERT ... SELECT) that affected at most one row. A write
// with RETURNING answers with a result set, whose rows are the rows it
// wrote: its affected count stays 0, so `rows_sent` counts too.
bool IsSingleRowWrite(std::string_view fingerprint, StatementClass statement_class,
                      uint64_t rows_affected, uint64_t rows_sent);

// Fills an input from the proxy's record of the statement. `tags` are the
// statement's sqlcommenter tags (StatementAnalysis::tags), `literals` its
// literal summary, `monotonic_start_ns` the steady-clock start time.
NPlusOneInput MakeNPlusOneInput(const StatementRecord& record, const SqlCommenterTags& tags,
                                const LiteralSummary& literals, int64_t monotonic_start_ns);
// The same with the call site already read from the tags.
NPlusOneInput MakeNPlusOneInput(const StatementRecord& record, const NPlusOneCallSite& call_site,
                                const LiteralSummary& literals, int64_t monotonic_start_ns);

// How the detector treats a statement.
enum class NPlusOneRole : uint8_t {
  kPlainRead,       // SELECT ... FROM ...: an N+1 / duplicate candidate and a parent
  kLockingRead,     // SELECT ... FOR UPDATE: a parent, never a candidate
  kSingleRowWrite,  // write-loop candidate (when enabled)
  kOther,           // counted and tracked (too-many list), never a candidate
  kIgnored,         // SET, BEGIN, COMMIT, SAVEPOINT...: counted in the unit only
};

// Plain reads are SELECT / WITH statements that read a table (" from " in
// the fingerprint): session set-up like SELECT @@sql_mode or SELECT
// VERSION() is never a loop candidate. Failed statements are kOther.
NPlusOneRole RoleOf(const NPlusOneInput& in);

}  // namespace ql::analyzer
