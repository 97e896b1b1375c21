// Unit-of-work boundaries and the unit's identity and totals.
#include "analyzer/n_plus_one_unit.h"

#include <algorithm>

namespace ql::analyzer {

std::string_view UnitBoundaryName(UnitBoundary boundary) {
  switch (boundary) {
    case UnitBoundary::kNone: return "none";
    case UnitBoundary::kFirst: return "first";
    case UnitBoundary::kTraceChange: return "trace_change";
    case UnitBoundary::kRouteChange: return "route_change";
    case UnitBoundary::kReset: return "reset";
    case UnitBoundary::kIdleGap: return "idle_gap";
    case UnitBoundary::kMaxAge: return "max_age";
    case UnitBoundary::kSessionEnd: return "session_end";
  }
  return "none";
}

std::string_view UnitTracker::Capped(std::string_view value) const {
  size_t n = options_.max_tag_bytes;
  if (value.size() <= n) return value;
  while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
  return value.substr(0, n);
}

UnitBoundary UnitTracker::BoundaryBefore(const NPlusOneInput& in) const {
  if (!open_) return UnitBoundary::kFirst;
  // Both sides must name one: statements without tags continue the unit.
  auto differs = [this](const std::string& unit, std::string_view value) {
    return !unit.empty() && !value.empty() && Capped(value) != unit;
  };
  if (differs(trace_id_, TraceIdOf(in.call_site.traceparent))) return UnitBoundary::kTraceChange;
  if (differs(route_, in.call_site.route) || differs(controller_, in.call_site.controller)) {
    return UnitBoundary::kRouteChange;
  }
  // A clock that went backwards (or overlapping timings) is no gap.
  if (in.start_ns - last_end_ns_ >= options_.unit_idle_gap_ns) return UnitBoundary::kIdleGap;
  if (in.start_ns - start_ns_ >= options_.unit_max_age_ns) return UnitBoundary::kMaxAge;
  return UnitBoundary::kNone;
}

UnitBoundary UnitTracker::BoundaryAt(int64_t now_ns) const {
  if (!open_) return UnitBoundary::kNone;
  if (now_ns - last_end_ns_ >= options_.unit_idle_gap_ns) return UnitBoundary::kIdleGap;
  if (now_ns - start_ns_ >= options_.unit_max_age_ns) return UnitBoundary::kMaxAge;
  return UnitBoundary::kNone;
}

void UnitTracker::Adopt(std::string* field, std::string_view value) {
  if (field->empty() && !value.empty()) field->assign(Capped(value));
}

void UnitTracker::Start(const NPlusOneInput& in, UnitBoundary why) {
  open_ = true;
  ++units_started_;
  started_by_ = why;
  session_id_ = in.session_id;
  start_ns_ = in.start_ns;
  last_end_ns_ = in.start_ns;
  statements_ = 0;
  db_ns_ = 0;
  silenced_ = false;
  for (std::string* s : {&trace_id_, &traceparent_, &route_, &controller_, &framework_, &action_,
                         &app_name_, &schema_, &user_}) {
    s->clear();
  }
}

uint64_t UnitTracker::Add(const NPlusOneInput& in) {
  const uint64_t seq = statements_++;
  db_ns_ += in.duration_ns;
  last_end_ns_ = std::max(last_end_ns_, in.end_ns());
  silenced_ = silenced_ || in.call_site.silenced;
  const NPlusOneCallSite& site = in.call_site;
  Adopt(&trace_id_, TraceIdOf(site.traceparent));
  Adopt(&traceparent_, site.traceparent);
  Adopt(&route_, site.route);
  Adopt(&controller_, site.controller);
  Adopt(&framework_, site.framework);
  Adopt(&action_, site.action);
  Adopt(&app_name_, site.app_name);
  if (!in.schema.empty() && Capped(in.schema) != schema_) schema_.assign(Capped(in.schema));
  if (!in.user.empty() && Capped(in.user) != user_) user_.assign(Capped(in.user));
  return seq;
}

size_t UnitTracker::MemoryBytes() const {
  size_t bytes = sizeof(*this);
  for (const std::string* s : {&trace_id_, &traceparent_, &route_, &controller_, &framework_,
                               &action_, &app_name_, &schema_, &user_}) {
    bytes += s->capacity();
  }
  return bytes;
}

}  // namespace ql::analyzer
