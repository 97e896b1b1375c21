// PreparedStatements: the proxy owns the statement ids its client sees and
// maps each to the ids the statement has on the backend connections that
// prepared it (primary and replica slots of the session). Statements are
// prepared lazily on a connection that lacks them; a COM_STMT_EXECUTE is
// rewritten for its connection (the statement id, and the parameter types
// when that connection never received them). Pure logic, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "analyzer/statement_classifier.h"
#include "protocol/wire_codec.h"
#include "proxy/n_plus_one_capture.h"
#include "proxy/route_planner.h"

namespace ql::proxy {

inline constexpr int kBackendSlots = 2;  // 0 = the session's primary, 1 = its replica
inline constexpr size_t kMaxStatementsPerSession = 16382;  // MariaDB's max_prepared_stmt_count default

struct PreparedStatement {
  std::string sql;
  std::string schema;  // the default schema at prepare time: names resolve in it
  uint64_t digest = 0;
  std::string fingerprint;
  analyzer::Classification classification;  // `routine` cleared: it pointed into the text
  RouteHint hint = RouteHint::kNone;
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
  protocol::Bytes param_types;       // 2 bytes per parameter, from the last execute that sent them
  bool long_data_pending = false;    // COM_STMT_SEND_LONG_DATA went to the primary
  uint32_t backend_id[kBackendSlots] = {0, 0};  // 0: not prepared on that connection
  bool types_sent[kBackendSlots] = {false, false};
  uint64_t last_used = 0;            // for evicting from a connection's cache
  NPlusOneCapture n_plus_one;        // of the prepared text (--n-plus-one on)
};

// MariaDB: a statement command with this id means "the statement prepared
// last in this session". Connectors that pipeline PREPARE and EXECUTE (the
// Node.js `mariadb` connector by default) send it, since they cannot know
// the id yet.
inline constexpr uint32_t kLastPreparedStatementId = 0xFFFFFFFF;

class PreparedStatementMap {
 public:
  // A new client-visible id for `statement` (ids are never reused in a
  // session, and never kLastPreparedStatementId); it becomes the last one.
  uint32_t Add(PreparedStatement statement);
  PreparedStatement* Find(uint32_t client_id);
  // The id a statement command names: the last prepared statement's for
  // kLastPreparedStatementId (0 after a failed prepare or its close, as on
  // the server), else `wire_id` itself.
  uint32_t Resolve(uint32_t wire_id) const {
    return wire_id == kLastPreparedStatementId ? last_added_ : wire_id;
  }
  // A prepare failed: there is no last statement.
  void ForgetLast() { last_added_ = 0; }
  void Erase(uint32_t client_id) {
    by_id_.erase(client_id);
    if (client_id == last_added_) last_added_ = 0;
  }
  void Clear() {
    by_id_.clear();
    last_added_ = 0;
  }
  size_t size() const { return by_id_.size(); }
  // How many statements are prepared on `slot`'s connection.
  size_t CountOn(int slot) const;
  // The connection in `slot` was replaced: nothing is prepared on it.
  void ForgetSlot(int slot);
  // The least recently used statement prepared on `slot` other than `keep`; 0 if none.
  uint32_t LeastRecentlyUsedOn(int slot, uint32_t keep) const;
  uint64_t Touch() { return ++clock_; }

  template <typename F>
  void ForEach(F&& f) {
    for (auto& [id, s] : by_id_) f(id, s);
  }

 private:
  uint32_t next_id_ = 1;
  uint32_t last_added_ = 0;
  uint64_t clock_ = 0;
  absl::flat_hash_map<uint32_t, PreparedStatement> by_id_;
};

// Offset of the statement id in COM_STMT_EXECUTE / SEND_LONG_DATA / CLOSE /
// RESET / FETCH packets, and in the COM_STMT_PREPARE_OK payload.
inline constexpr size_t kStatementIdOffset = 1;
void PatchStatementId(uint8_t* at, uint32_t id);

// Builds the COM_STMT_EXECUTE to send to the connection in `slot`: its
// statement id and, when the client relied on types sent in an earlier
// execute that this connection never saw, those types. Remembers types the
// client sends. False if the packet is malformed.
bool RewriteExecute(protocol::ByteSpan packet, int slot, PreparedStatement& statement,
                    protocol::Bytes* out);

}  // namespace ql::proxy
