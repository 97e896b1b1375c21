// SessionState: the state a client session has set up (schema, character
// set, autocommit, multi-statement option and its SET statements), kept so
// that whichever backend connection serves the next statement can be brought
// in line before that statement runs. Pure logic: PlanSync() says which
// commands to send, the session sends them.
//
// SET statements are replayed as the client wrote them, in order (a repeated
// statement moves to the end, so the last value wins), user variables set to
// constants (SET @app_user = 'alice') included. Values the server computes
// per connection (SET @v = NOW(), SET @v = (SELECT ...), SET @n = @n + 1)
// are never replayed: they pin the session to the primary instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ql::proxy {

// What one backend connection has applied of a session's state.
struct AppliedState {
  std::string schema;
  bool schema_known = true;
  bool charset_known = true;       // false after COM_RESET_CONNECTION of a pooled connection
  uint64_t history_epoch = 0;
  size_t history_applied = 0;
  int8_t autocommit = 1;           // -1 unknown
  int8_t multi_statements = -1;    // -1: as negotiated at the handshake
  bool gtid_tracked = false;       // session tracking of last_gtid is on (--causal-reads)
};

// One command that brings a connection in line.
struct SyncStep {
  enum class Kind : uint8_t { kInitDb, kQuery, kSetOption } kind = Kind::kQuery;
  std::string text;         // schema for kInitDb, SQL for kQuery
  uint16_t option = 0;      // kSetOption: 0 = multi-statements on, 1 = off
};

// "SET NAMES <charset> COLLATE <collation>" for a handshake collation id,
// or nullopt when the id is not one the proxy knows.
std::optional<std::string> SetNamesForCollation(uint8_t collation_id);

class SessionState {
 public:
  explicit SessionState(size_t max_history = 64) : max_history_(max_history) {}

  // A fresh session (login, COM_CHANGE_USER, COM_RESET_CONNECTION).
  void Reset(std::string_view schema, uint8_t collation_id);

  const std::string& schema() const { return schema_; }
  void SetSchema(std::string_view schema) { schema_.assign(schema); }
  bool autocommit() const { return autocommit_; }
  void SetAutocommit(bool on) { autocommit_ = on; }
  uint8_t collation_id() const { return collation_id_; }
  void SetMultiStatements(bool on) { multi_statements_ = on ? 1 : 0; }

  // A SET statement that succeeded on the primary. False when the history
  // is full (the statement is not kept: the caller pins the session).
  bool RecordSet(std::string_view sql);
  size_t history_size() const { return history_.size(); }
  bool history_full() const { return history_.size() >= max_history_; }

  // The commands that bring a connection with `applied` in line; the
  // connection must end with autocommit `want_autocommit`.
  void PlanSync(const AppliedState& applied, bool want_autocommit,
                std::vector<SyncStep>* out) const;
  // After every planned step succeeded (or the connection ran the client's
  // own statement that changed the state).
  void MarkSynced(AppliedState* applied, bool autocommit) const;

 private:
  size_t max_history_;
  std::string schema_;
  uint8_t collation_id_ = 0;
  bool autocommit_ = true;
  int8_t multi_statements_ = -1;
  std::vector<std::string> history_;
  uint64_t history_epoch_ = 1;  // bumps when the history is reordered or cleared
};

}  // namespace ql::proxy
