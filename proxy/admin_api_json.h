// The admin JSON API: request parameters and response bodies of
// /api/digests, /api/backends and /api/sessions (nlohmann::json). Pure
// functions of a ProxySnapshot and the backend probe results; the HTTP side
// is in admin_server.cc.
//
// GET /api/digests?order=total_time|count|p99&limit=N&schema=S
//   order   default total_time (descending); limit 1-10000, default 20; schema:
//   only statements whose default database was S ("schema=" selects those run
//   without one). Unknown parameters are an error (400), so typos show.
//   {"generated_at": ISO-8601, "order": "total_time", "limit": 20,
//    "schema": null | "S", "workers": 2, "workers_missing": 0,
//    "entries": <entries before limit, after the schema filter>,
//    "evicted": {"entries", "statements", "errors", "total_seconds"},
//    "digests": [{"digest": "0f70cec4015f2a34", "fingerprint": "select ...",
//      "schema", "user", "role": "primary|replica|none", "class": "read|...",
//      "count", "errors", "total_seconds", "min_seconds", "max_seconds",
//      "avg_seconds", "p50_seconds", "p95_seconds", "p99_seconds",
//      "rows_sent", "rows_affected", "bytes_sent", "bytes_received",
//      "warnings", "no_index_used", "no_good_index_used", "server_slow",
//      "prepared", "pool_wait_seconds", "state_sync_seconds",
//      "backend_first_byte_seconds", "first_seen", "last_seen",
//      "example": {"text", "seconds", "time"} (only with --log-literals)}]}
//
// GET /api/backends
//   {"generated_at", "backends": [{"name": "host:port", "host", "port",
//    "role": "primary|replica", "up": bool, "checked_at": ISO | null,
//    "probe_seconds", "error": string | null, "error_code": int | null,
//    "version": string | null, "connections": <open in the pools>,
//    "idle_connections": <of those, idle>, "connect_failures",
//    "read_only", "lag_seconds", plus the monitor's fields (address, weight,
//    usable_for_reads, replication_running, last_error, checks_failed)}],
//    "monitor": {"round"}}
//   (the monitor's view overrides up/checked_at/read_only/lag when it has one:
//   admin_api_backends.h.)
//
// GET /api/sessions?limit=N   (limit 1-100000, default 1000)
//   {"generated_at", "workers", "workers_missing", "count": <live sessions>,
//    "truncated": bool, "sessions": [{"worker", "id", "user": string | null,
//    "client_address", "schema": string | null, "connected_at",
//    "state": "idle|statement|command", "running_seconds": number | null,
//    "statement": {"digest", "fingerprint", "class"} | null,
//    "backend": {"name", "role"} | null, "pins": ["temporary_table", ...]}]}
//   (pins: why the session is bound to the primary, PinReasonName order.)
//
// Errors: {"error": "..."} with status 400 (bad parameter) or 404.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "analyzer/digest_stats.h"
#include "proxy/admin_api_backends.h"
#include "proxy/admin_api_collect.h"

namespace ql::proxy {

// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}} ('+' is a space). Malformed
// percent escapes are an error.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQueryString(
    std::string_view query);

struct DigestsRequest {
  analyzer::DigestOrder order = analyzer::DigestOrder::kTotalTime;
  size_t limit = 20;
  std::optional<std::string> schema;
};
absl::StatusOr<DigestsRequest> ParseDigestsRequest(std::string_view query);

struct SessionsRequest {
  size_t limit = 1000;
};
absl::StatusOr<SessionsRequest> ParseSessionsRequest(std::string_view query);

std::string DigestsJson(const ProxySnapshot& snapshot, const DigestsRequest& request);
std::string BackendsJson(const ProxySnapshot& snapshot, const std::vector<BackendStatus>& backends);
std::string SessionsJson(const ProxySnapshot& snapshot, const SessionsRequest& request);
std::string ErrorJson(std::string_view message);

// "2026-11-24T21:05:03.123456Z" for a Unix-epoch time in nanoseconds.
std::string IsoTime(int64_t unix_ns);

}  // namespace ql::proxy
