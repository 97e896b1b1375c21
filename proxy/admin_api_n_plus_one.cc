// /api/n_plus_one: the recent N+1 findings the workers logged.
#include "proxy/admin_api_n_plus_one.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "proxy/admin_api_json.h"

namespace ql::proxy {

absl::StatusOr<NPlusOneRequest> ParseNPlusOneRequest(std::string_view query) {
  auto params = ParseQueryString(query);
  if (!params.ok()) return params.status();
  NPlusOneRequest r;
  for (const auto& [name, value] : *params) {
    if (name != "limit") {
      return absl::InvalidArgumentError("unknown parameter '" + name +
                                        "'; /api/n_plus_one takes limit");
    }
    size_t limit = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
    if (ec != std::errc() || end != value.data() + value.size() || limit < 1 ||
        limit > kRecentFindings) {
      return absl::InvalidArgumentError(
          absl::StrCat("limit must be a whole number from 1 to ", kRecentFindings, ", got '",
                       absl::string_view(value.data(), value.size()), "'"));
    }
    r.limit = limit;
  }
  return r;
}

std::string NPlusOneJson(const ProxySnapshot& snapshot, const NPlusOneRequest& request) {
  const size_t n = std::min(request.limit, snapshot.n_plus_one.size());
  std::string out;
  absl::StrAppend(&out, "{\"generated_at\":\"", IsoTime(snapshot.taken_ns), "\",\"workers\":",
                  snapshot.workers, ",\"workers_missing\":", snapshot.workers_missing,
                  ",\"count\":", n, ",\"findings\":[");
  for (size_t i = 0; i < n; ++i) {
    const RecentFinding& f = snapshot.n_plus_one[i];
    if (i > 0) out += ',';
    // The finding's own object with two members added at its end.
    const std::string_view json = f.json;
    if (json.size() < 2 || json.front() != '{' || json.back() != '}') {
      out += "{}";
      continue;
    }
    out.append(json.data(), json.size() - 1);
    if (json.size() > 2) out += ',';
    absl::StrAppend(&out, "\"reported_at\":\"", IsoTime(f.reported_ns), "\",\"worker\":", f.worker,
                    "}");
  }
  out += "]}";
  return out;
}

}  // namespace ql::proxy
