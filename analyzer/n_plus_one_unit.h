// Units of work: the stretch of one session's statements that findings are
// computed over (for a web app, one request). With Django's default
// CONN_MAX_AGE=0 a session is one request already; with persistent
// connections one session serves many, and once-per-request lookups of
// consecutive requests must not look like a loop. A new unit starts
//  - at the session's first statement;
//  - when the sqlcommenter trace id (from traceparent), route or controller
//    differs from the unit's (a statement without tags continues the unit,
//    and a unit without tags adopts the first ones it sees);
//  - after COM_RESET_CONNECTION or COM_CHANGE_USER (Reset);
//  - after an idle gap of unit_idle_gap_ns between the end of the previous
//    statement and the start of the next;
//  - when the unit is older than unit_max_age_ns.
//
// The tracker holds the unit's identity (call site, schema, user) and its
// totals; it copies the strings it keeps, each cut to max_tag_bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/n_plus_one_input.h"
#include "analyzer/n_plus_one_options.h"

namespace ql::analyzer {

enum class UnitBoundary : uint8_t {
  kNone,   // the statement continues the open unit
  kFirst,  // no unit was open
  kTraceChange,
  kRouteChange,  // route or controller
  kReset,        // COM_RESET_CONNECTION / COM_CHANGE_USER
  kIdleGap,
  kMaxAge,
  kSessionEnd,
};

std::string_view UnitBoundaryName(UnitBoundary boundary);

class UnitTracker {
 public:
  explicit UnitTracker(const NPlusOneOptions& options) : options_(options) {}

  bool open() const { return open_; }
  // Why `in` cannot join the open unit (kFirst when none is open), or kNone.
  UnitBoundary BoundaryBefore(const NPlusOneInput& in) const;
  // Whether the open unit is over by `now_ns` (idle gap passed or too old).
  UnitBoundary BoundaryAt(int64_t now_ns) const;

  void Start(const NPlusOneInput& in, UnitBoundary why);
  // Accounts a statement of the open unit; returns its position in the unit.
  uint64_t Add(const NPlusOneInput& in);
  void Close() { open_ = false; }

  uint64_t units_started() const { return units_started_; }
  UnitBoundary started_by() const { return started_by_; }
  uint64_t session_id() const { return session_id_; }
  int64_t start_ns() const { return start_ns_; }
  int64_t last_end_ns() const { return last_end_ns_; }
  uint64_t statements() const { return statements_; }
  uint64_t db_ns() const { return db_ns_; }
  bool silenced() const { return silenced_; }  // some statement carried querylens_ignore
  const std::string& trace_id() const { return trace_id_; }
  const std::string& traceparent() const { return traceparent_; }  // the unit's first
  const std::string& route() const { return route_; }
  const std::string& controller() const { return controller_; }
  const std::string& framework() const { return framework_; }
  const std::string& action() const { return action_; }
  const std::string& app_name() const { return app_name_; }
  const std::string& schema() const { return schema_; }  // the latest non-empty
  const std::string& user() const { return user_; }

  size_t MemoryBytes() const;

 private:
  // `value` cut to max_tag_bytes at a UTF-8 boundary: what is stored and
  // what is compared.
  std::string_view Capped(std::string_view value) const;
  void Adopt(std::string* field, std::string_view value);

  NPlusOneOptions options_;
  bool open_ = false;
  uint64_t units_started_ = 0;
  UnitBoundary started_by_ = UnitBoundary::kNone;
  uint64_t session_id_ = 0;
  int64_t start_ns_ = 0;
  int64_t last_end_ns_ = 0;
  uint64_t statements_ = 0;
  uint64_t db_ns_ = 0;
  bool silenced_ = false;
  std::string trace_id_;
  std::string traceparent_;
  std::string route_;
  std::string controller_;
  std::string framework_;
  std::string action_;
  std::string app_name_;
  std::string schema_;
  std::string user_;
};

}  // namespace ql::analyzer
