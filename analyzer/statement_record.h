// Everything the proxy knows about one finished statement: who ran it, where,
// what it was (digest, class), how long each phase took and what came back.
// The session fills one in when the last byte of a response has reached the
// client and hands it, by const reference, to the consumers on the same
// worker (digest table, metrics shard, slow log, N+1 detector).
//
// The record is a plain value that owns nothing: its string_views point into
// buffers owned by the session and the StatementAnalyzer, valid only for the
// duration of the call that receives the record. Consumers copy what they keep.
#pragma once

#include <cstdint>
#include <string_view>

#include "analyzer/statement_classifier.h"

namespace ql::analyzer {

// Which backend answered. kNone: the proxy answered itself (or the statement
// failed before a backend was chosen); the metric catalog counts those too.
enum class BackendRole : uint8_t { kNone, kPrimary, kReplica };
inline constexpr int kBackendRoleCount = 3;

// How the statement arrived: COM_QUERY text, or COM_STMT_EXECUTE of a
// prepared statement (whose text is the one given at COM_STMT_PREPARE).
enum class CommandKind : uint8_t { kText, kPrepared };

constexpr std::string_view BackendRoleName(BackendRole role) {
  switch (role) {
    case BackendRole::kPrimary: return "primary";
    case BackendRole::kReplica: return "replica";
    case BackendRole::kNone: break;
  }
  return "none";
}
constexpr std::string_view CommandKindName(CommandKind kind) {
  return kind == CommandKind::kPrepared ? "prepared" : "text";
}

// MySQL/MariaDB server status bits of OK/EOF packets that describe index use
// and slowness (include/mysql_com.h: SERVER_QUERY_NO_GOOD_INDEX_USED,
// SERVER_QUERY_NO_INDEX_USED, SERVER_QUERY_WAS_SLOW). Repeated here so the
// analyzer needs nothing from protocol/.
inline constexpr uint16_t kServerQueryNoGoodIndexUsed = 0x0010;
inline constexpr uint16_t kServerQueryNoIndexUsed = 0x0020;
inline constexpr uint16_t kServerQueryWasSlow = 0x0800;

struct StatementRecord {
  // Identity. `fingerprint` is the masked, normalized text (no literals);
  // `digest` is DigestId(fingerprint).
  uint64_t digest = 0;
  std::string_view fingerprint;
  std::string_view schema;          // default database when the statement ran ("" = none)
  std::string_view user;            // the client's authenticated user
  std::string_view client_address;  // client IP as text, no port ("" = unix socket / unknown)
  uint64_t session_id = 0;          // proxy session id (the slow log's Thread_id)
  BackendRole backend_role = BackendRole::kNone;
  StatementClass statement_class = StatementClass::kUnknown;
  CommandKind command = CommandKind::kText;

  // Wall-clock start (Unix epoch, nanoseconds): when the proxy had read the
  // whole command from the client.
  int64_t start_time_ns = 0;

  // Phases, in nanoseconds. Each is 0 when the phase did not happen.
  uint64_t pool_wait_ns = 0;           // waiting for a backend connection
  uint64_t state_sync_ns = 0;          // replaying schema / session variables on it
  uint64_t backend_first_byte_ns = 0;  // command sent -> first response byte from the backend
  uint64_t total_ns = 0;               // start -> last response byte written to the client

  // Outcome.
  uint64_t rows_sent = 0;       // row packets relayed (all result sets)
  uint64_t rows_affected = 0;   // OK packet affected_rows (matched rows with CLIENT_FOUND_ROWS)
  uint64_t bytes_sent = 0;      // bytes written to the client for this statement
  uint64_t bytes_received = 0;  // bytes of the command read from the client
  uint16_t error_code = 0;      // ERR packet code, 0 = success
  uint16_t warnings = 0;        // warning count of the final OK/EOF
  bool no_index_used = false;
  bool no_good_index_used = false;
  bool query_was_slow = false;  // the server's own long_query_time verdict

  // The statement as the client sent it, literals included. Set only when
  // --log-literals is on; otherwise empty and the fingerprint is the (masked)
  // example everywhere.
  std::string_view literal_text;

  uint64_t end_time_ns() const {
    return static_cast<uint64_t>(start_time_ns) + total_ns;
  }
  bool failed() const { return error_code != 0; }

  // ORs in the index/slow bits of an OK or EOF status word (several result
  // sets of one statement each carry their own).
  void ApplyServerStatus(uint16_t status) {
    no_good_index_used |= (status & kServerQueryNoGoodIndexUsed) != 0;
    no_index_used |= (status & kServerQueryNoIndexUsed) != 0;
    query_was_slow |= (status & kServerQueryWasSlow) != 0;
  }
};

}  // namespace ql::analyzer
