// GET /api/n_plus_one?limit=N   (limit 1-200, default 200)
//   {"generated_at": ISO-8601, "workers": 2, "workers_missing": 0,
//    "count": <findings returned>,
//    "findings": [<newest first: each the finding's JSON object exactly as
//      the --log-format json log line carries it (analyzer/n_plus_one_format.h:
//      event, kind, confidence, count, ..., suppressed), plus
//      "reported_at": ISO-8601 and "worker": N>]}
// Findings are the ones that were logged (after the allow-list, silencing
// and deduplication), the last 200 per worker, merged newest first and cut
// to 200. Unknown parameters are an error (400).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/admin_api_collect.h"

namespace ql::proxy {

struct NPlusOneRequest {
  size_t limit = kRecentFindings;
};
absl::StatusOr<NPlusOneRequest> ParseNPlusOneRequest(std::string_view query);

std::string NPlusOneJson(const ProxySnapshot& snapshot, const NPlusOneRequest& request);

}  // namespace ql::proxy
