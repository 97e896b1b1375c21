// RunSimpleQuery: the proxy's own statements on a backend connection (the
// backend monitor's checks, a session's `SELECT MASTER_GTID_WAIT(...)`).
// Sends one COM_QUERY, reads the whole response, and returns the first
// result set's column names and rows as owned strings. Bounded in time (one
// deadline for the whole exchange) and in size (kMaxSimpleQueryBytes), so a
// misbehaving server cannot hold the caller or fill its memory.
//
// Errors:
//   server ERR          kAborted, message "ERR 1193 (HY000): ...", code in ServerErrorCode()
//   deadline            kDeadlineExceeded
//   socket failure      kUnavailable
//   result too large    kResourceExhausted
//   malformed response  kDataLoss
// Every error except a server ERR leaves the connection marked broken (the
// response was not read to its end), so it must not be reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/asio.h"
#include "proxy/backend_connection.h"

namespace ql::proxy {

// Column names plus row values of a result; more than this is refused.
inline constexpr size_t kMaxSimpleQueryBytes = 4u << 20;

struct QueryResult {
  std::vector<std::string> columns;  // names (aliases), empty for an OK response
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt = NULL
  uint64_t affected_rows = 0;
  uint16_t warnings = 0;
  uint32_t result_sets = 0;  // result sets in the response; only the first is kept

  // Index of the column called `name` (exact match), or -1.
  int Column(std::string_view name) const;
  // rows[row][Column(name)]; nullopt when NULL, the row or the column is missing.
  std::optional<std::string_view> Value(size_t row, std::string_view name) const;
};

awaitable<absl::StatusOr<QueryResult>> RunSimpleQuery(BackendConnection& connection,
                                                      std::string_view sql,
                                                      std::chrono::milliseconds timeout);

// COM_PING: OK or an error as above.
awaitable<absl::Status> RunPing(BackendConnection& connection, std::chrono::milliseconds timeout);

// The server's error code when `status` came from its ERR packet.
std::optional<uint16_t> ServerErrorCode(const absl::Status& status);

}  // namespace ql::proxy
