// Filling in the N+1 detector's input from what the proxy already has.
#include "analyzer/n_plus_one_input.h"

#include "analyzer/n_plus_one_options.h"

namespace ql::analyzer {
namespace {

bool IsHex(std::string_view s) {
  for (char c : s) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A silencing value: anything but an explicit "no".
bool Truthy(std::string_view v) {
  return !v.empty() && !EqualsLower(v, "0") && !EqualsLower(v, "false") && !EqualsLower(v, "no") &&
         !EqualsLower(v, "off");
}

}  // namespace

std::string_view TraceIdOf(std::string_view traceparent) {
  // version(2)-trace id(32)-parent id(16)-flags(2), lower-case hex; a later
  // version may append fields, so only the prefix is checked.
  if (traceparent.size() < 55 || traceparent[2] != '-' || traceparent[35] != '-' ||
      traceparent[52] != '-') {
    return {};
  }
  const std::string_view id = traceparent.substr(3, 32);
  if (!IsHex(traceparent.substr(0, 2)) || !IsHex(id)) return {};
  if (id == "00000000000000000000000000000000") return {};  // invalid per spec
  return id;
}

NPlusOneCallSite CallSiteFromTags(const SqlCommenterTags& tags) {
  NPlusOneCallSite site;
  for (const SqlCommenterTag& tag : tags) {
    if (tag.key == "traceparent") {
      site.traceparent = tag.value;
    } else if (tag.key == "route") {
      site.route = tag.value;
    } else if (tag.key == "controller") {
      site.controller = tag.value;
    } else if (tag.key == "framework") {
      site.framework = tag.value;
    } else if (tag.key == "action") {
      site.action = tag.value;
    } else if (tag.key == "app_name" || tag.key == "application") {
      if (site.app_name.empty()) site.app_name = tag.value;
    } else if (tag.key == kNPlusOneSilenceKey) {
      site.silenced = site.silenced || Truthy(tag.value);
    }
  }
  return site;
}

bool IsSingleRowWrite(std::string_view fingerprint, StatementClass statement_class,
                      uint64_t rows_affected, uint64_t rows_sent) {
  if (statement_class != StatementClass::kWrite || rows_affected > 1 || rows_sent > 1) {
    return false;
  }
  if (fingerprint.find("; ") != std::string_view::npos) return false;  // multi-statement
  if (StartsWith(fingerprint, "update ") || StartsWith(fingerprint, "delete ")) return true;
  if (StartsWith(fingerprint, "insert ") || StartsWith(fingerprint, "replace ")) {
    // INSERT ... SELECT copies a set; only VALUES rows are per-object.
    return fingerprint.find(" values ") != std::string_view::npos ||
           fingerprint.find(" set ") != std::string_view::npos;
  }
  return false;
}

NPlusOneInput MakeNPlusOneInput(const StatementRecord& record, const SqlCommenterTags& tags,
                                const LiteralSummary& literals, int64_t monotonic_start_ns) {
  return MakeNPlusOneInput(record, CallSiteFromTags(tags), literals, monotonic_start_ns);
}

NPlusOneInput MakeNPlusOneInput(const StatementRecord& record, const NPlusOneCallSite& call_site,
                                const LiteralSummary& literals, int64_t monotonic_start_ns) {
  NPlusOneInput in;
  in.session_id = record.session_id;
  in.start_ns = monotonic_start_ns;
  in.duration_ns = record.total_ns;
  in.digest = record.digest;
  in.fingerprint = record.fingerprint;
  in.statement_class = record.statement_class;
  in.literals = literals;
  in.rows_sent = record.rows_sent;
  in.rows_affected = record.rows_affected;
  in.single_row_write =
      IsSingleRowWrite(record.fingerprint, record.statement_class, record.rows_affected,
                       record.rows_sent);
  in.failed = record.failed();
  in.call_site = call_site;
  in.schema = record.schema;
  in.user = record.user;
  in.backend_role = record.backend_role;
  return in;
}

NPlusOneRole RoleOf(const NPlusOneInput& in) {
  switch (in.statement_class) {
    case StatementClass::kSessionState:
    case StatementClass::kTransactionControl: return NPlusOneRole::kIgnored;
    case StatementClass::kLockingRead:
      return in.failed ? NPlusOneRole::kOther : NPlusOneRole::kLockingRead;
    case StatementClass::kRead: {
      if (in.failed) return NPlusOneRole::kOther;
      const std::string_view fp = in.fingerprint;
      const bool select =
          StartsWith(fp, "select ") || StartsWith(fp, "with ") || StartsWith(fp, "(select ");
      const bool reads_table = fp.find(" from ") != std::string_view::npos;
      return select && reads_table ? NPlusOneRole::kPlainRead : NPlusOneRole::kOther;
    }
    case StatementClass::kWrite:
      return in.single_row_write && !in.failed ? NPlusOneRole::kSingleRowWrite
                                               : NPlusOneRole::kOther;
    default: return NPlusOneRole::kOther;
  }
}

}  // namespace ql::analyzer
