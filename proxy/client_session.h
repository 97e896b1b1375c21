// ClientSession: one client connection, served by one coroutine on the worker
// that accepted it. It terminates the MySQL protocol: greets the client,
// authenticates it against the configured users, takes a primary connection
// from the worker's pool, and then routes every command: plain reads to a
// replica connection, everything else to the primary, with the session's
// state replayed on whichever connection serves it. Login and
// COM_CHANGE_USER live in client_login.cc; the command loop in
// client_session.cc; routing, connections and state sync in
// client_routing.cc; prepared statements in client_prepared.cc.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "protocol/command.h"
#include "protocol/framing.h"
#include "protocol/response_tracker.h"
#include "analyzer/kill_statement.h"
#include "proxy/asio.h"
#include "proxy/backend_connection.h"
#include "proxy/backend_pool.h"
#include "proxy/prepared_statements.h"
#include "proxy/route_planner.h"
#include "proxy/session_state.h"
#include "proxy/mysql_errors.h"
#include "analyzer/n_plus_one_detector.h"
#include "absl/container/flat_hash_map.h"
#include "proxy/response_relay.h"
#include "proxy/statement_recorder.h"
#include "proxy/transport.h"
#include "proxy/worker_context.h"

namespace ql::proxy {

// MariaDB's own ceiling for one packet (max_allowed_packet can go no higher).
inline constexpr size_t kMaxCommandSize = size_t(1) << 30;

// One backend connection a session holds, and what it has applied of the
// session's state.
struct HeldBackend {
  std::unique_ptr<BackendConnection> conn;
  PoolKey key;
  AppliedState applied;
  Clock::time_point idle_since;
};

// What a KILL finds of the session it names.
struct KillLookup {
  bool found = false;    // a live session has that id
  bool owner = false;    // of the killer's user
  bool running = false;  // a command is in flight on `backend`, as `thread_id`
  BackendAddress backend;
  uint32_t thread_id = 0;
};

enum class SlotOutcome : uint8_t {
  kReady,
  kRetryOnPrimary,  // a replica could not serve; nothing was sent to the client
  kErrorQueued,     // the client's ERR is queued; the session goes on
  kErrorQueuedEnd,  // the client's ERR is queued; then the session ends
};

class ClientSession {
 public:
  ClientSession(WorkerContext& worker, tcp::socket socket);
  ~ClientSession();

  awaitable<void> Run();

  // On this session's own thread, for a KILL of its id by another session
  // of `killer_user` (client_kill.cc): where its statement runs, if one
  // does; unless `query_only`, closes this session's client connection.
  KillLookup OnKill(const std::string& killer_user, bool query_only);
  // On this session's thread, when the shutdown drain starts: a session
  // waiting for its next command outside a transaction, or still logging
  // in, is closed now; the others end after their command, or after COMMIT
  // / ROLLBACK.
  void OnDrain();
  // For /api/sessions: during a command, the connection serving it (null
  // while none is chosen or connected yet); between commands, the one the
  // last statement ran on (null if no longer held).
  const BackendConnection* ShownBackend(bool in_command) const {
    const int slot = in_command ? serving_slot_ : last_slot_;
    return slot >= 0 ? held_[slot].conn.get() : nullptr;
  }

 private:
  static constexpr int kPrimarySlot = 0;
  static constexpr int kReplicaSlot = 1;

  // Login (client_login.cc).
  awaitable<bool> Login();
  awaitable<bool> Authenticate(std::string_view user, std::string_view plugin,
                               std::string_view auth_response, uint8_t& seq);
  awaitable<bool> ChangeUser(protocol::ByteSpan packet);
  protocol::HandshakeV10 MakeGreeting() const;
  const UserEntry* FindUser(std::string_view name) const;

  // Commands (client_session.cc).
  awaitable<bool> ServeCommand();
  // Start of a command: its clocks and per-command counters.
  void StartCommandClock();
  awaitable<bool> Forward(protocol::ByteSpan packet, const protocol::CommandInfo& info);
  // Sends `packet` on `slot` and relays the answer; a replica read that fails
  // before any byte reached the client is retried on the primary.
  awaitable<bool> SendAndRelay(protocol::ByteSpan packet, const protocol::CommandInfo& info,
                               int slot, uint8_t seq, uint8_t reply_seq, bool is_statement);
  void AfterResponse(const protocol::CommandInfo& info, protocol::ByteSpan packet, int slot);
  // `text`: the SQL of a COM_QUERY (SET statements are kept for replay);
  // empty for a prepared statement.
  void AfterStatement(int slot, bool ok, std::string_view text);
  awaitable<void> LearnSchema();
  awaitable<void> LearnSqlMode();
  // Column `column` of the first row of the answer of `slot`'s connection
  // (NULL or no row: ""); nullopt when it failed, and then the connection
  // is not reused.
  awaitable<std::optional<std::string>> AskBackend(int slot, std::string_view sql,
                                                   size_t column = 0);
  // Fingerprint and classification of the statement a command runs; false for other commands.
  bool IdentifyStatement(const protocol::CommandInfo& info, protocol::ByteSpan packet);
  void RecordStatement(const protocol::CommandInfo& info, protocol::ByteSpan packet,
                       const RelayResult& result, int slot);
  // A statement the backend never answered: the proxy's queued ERR (1040,
  // 1429, 1927, 1792 ...) or a connection lost midway (2013). It is counted
  // like any other, so that outages show in errors, digests and the slow log.
  void RecordUnanswered(const protocol::CommandInfo& info, protocol::ByteSpan packet,
                        analyzer::BackendRole role, uint16_t error_code, uint64_t bytes_sent);
  analyzer::StatementRecord BaseRecord(const protocol::CommandInfo& info, protocol::ByteSpan packet,
                                       analyzer::BackendRole role) const;
  // N+1 detector: one finished statement (after RecordStatement), and the
  // end of a unit by COM_RESET_CONNECTION / COM_CHANGE_USER.
  void ObserveNPlusOne(const protocol::CommandInfo& info, protocol::ByteSpan packet,
                       const analyzer::StatementRecord& record);
  void ResetNPlusOne();
  bool SessionSurvivesReconnect() const;
  // A transaction is open, on the primary or (READ ONLY) on a replica.
  bool InTransaction() const {
    return (last_status_ & protocol::status::kInTrans) != 0 || transaction_on_replica_;
  }
  // An OK of the proxy's own; the flags default to a fresh session's.
  awaitable<error_code> SendOk(uint8_t seq, uint16_t status_flags = protocol::status::kAutocommit);

  // KILL of a connection id (client_kill.cc).
  awaitable<bool> Kill(analyzer::KillStatement kill, uint8_t reply_seq);
  // The KILL's error to the client (false: the session ends), raised on the
  // primary as well.
  awaitable<bool> AnswerKillError(const MysqlError& error, uint8_t reply_seq);

  // Backends and routing (client_routing.cc).
  // Routes the statement in current_/classification_ (or, when not a
  // statement, a command only the primary serves).
  int ChooseSlot(bool statement, bool ping = false);
  // Makes sure `slot` holds a connection in line with the session state.
  awaitable<SlotOutcome> ReadySlot(int slot, uint8_t error_seq);
  // ReadySlot(kPrimarySlot) for a login; while the primary cannot be
  // reached, a usable replica checks the login and database instead, so
  // that reads go on through a primary outage.
  awaitable<SlotOutcome> ReadyLoginSlot(uint8_t error_seq);
  // The monitor's last check of the primary failed.
  bool PrimaryDown() const;
  // False on failure; for the primary the client's ERR is then queued.
  awaitable<bool> AcquireSlot(int slot, uint8_t error_seq);
  awaitable<SlotOutcome> SyncSlot(int slot, uint8_t error_seq);
  awaitable<bool> WaitForCausalRead();
  awaitable<void> EndReplicaTransaction();
  void ReleaseSlot(int slot);
  void ReleaseAll();
  void Pin(PinReasons reasons);
  bool BackendWentAwayWhileIdle(HeldBackend& held);
  std::string SlotName(int slot) const;
  analyzer::BackendRole SlotRole(int slot) const {
    return slot == kPrimarySlot ? analyzer::BackendRole::kPrimary : analyzer::BackendRole::kReplica;
  }

  // Prepared statements (client_prepared.cc).
  awaitable<bool> Prepare(protocol::ByteSpan packet, uint8_t reply_seq);
  awaitable<bool> ForwardStatementCommand(protocol::ByteSpan packet,
                                          const protocol::CommandInfo& info);
  // Prepares the statement of statement_command_id_ on `slot` if that
  // connection lacks it.
  awaitable<SlotOutcome> PrepareStatementOn(int slot, uint8_t error_seq);
  awaitable<void> CloseOnBackend(int slot, uint32_t backend_id);
  // COM_INIT_DB on one of the session's connections; false unless it said OK.
  awaitable<bool> InitDbOn(BackendConnection& conn, const std::string& schema);

  awaitable<error_code> SendPacket(protocol::ByteSpan payload, uint8_t seq);
  // Errors are queued by a plain call and flushed by a co_await: g++ 12
  // destroys temporaries inside a co_await expression twice.
  void QueueError(const MysqlError& error, uint8_t seq);
  awaitable<error_code> FlushQueued();
  std::string Describe() const;  // for log lines

  WorkerContext& worker_;
  std::shared_ptr<Transport> client_;
  HeldBackend held_[kBackendSlots];
  size_t replica_backend_ = 0;  // the replica held_[kReplicaSlot] belongs to; 0 = none
  // A replica's refusal of the client's database (ReadyLoginSlot reports it).
  std::optional<MysqlError> replica_refusal_;
  protocol::PacketReader reader_;
  protocol::ResponseTracker tracker_;
  ResponseRelay relay_;
  RelayTimeouts timeouts_;
  protocol::Bytes queued_;
  uint16_t queued_error_code_ = 0;  // of the ERR in queued_
  protocol::Bytes rewritten_;  // a command rewritten for its backend (statement ids)

  uint32_t connection_id_ = 0;
  std::string nonce_;
  std::string peer_;
  uint32_t client_caps_ = 0;
  uint32_t client_mariadb_caps_ = 0;
  uint8_t charset_ = 0;
  const UserEntry* user_ = nullptr;
  std::string schema_;  // mirrors state_.schema() for /api/sessions
  SessionState state_;
  uint16_t last_status_ = protocol::status::kAutocommit;  // from the primary
  bool transaction_on_replica_ = false;
  bool waiting_for_command_ = false;  // in ServeCommand's read of the next command
  PinReasons pins_;
  Clock::time_point last_write_;
  bool wrote_ = false;
  int last_slot_ = kPrimarySlot;  // where the last statement ran
  bool pending_write_ = false;  // written inside the open transaction
  bool schema_unknown_ = false;  // a USE succeeded and the server did not say which schema
  // How the session's sql_mode makes the server read quotes and backslashes:
  // the fingerprint must agree, or a value could be printed as a name.
  // NO_BACKSLASH_ESCAPES comes with every OK/EOF; ANSI_QUOTES is asked for
  // after a statement that set sql_mode (sql_mode_unknown_).
  analyzer::SqlDialect dialect_;
  bool sql_mode_unknown_ = false;
  std::string last_gtid_;  // of the session's last write, for --causal-reads
  bool gtid_stale_ = false;  // written since, and the OK could not carry the GTID

  // The statement in flight, and the session's prepared statements.
  StatementIdentity current_;
  analyzer::Classification classification_;
  RouteHint hint_ = RouteHint::kNone;
  RouteChoice route_;
  Clock::time_point command_started_;
  Clock::time_point command_sent_;
  int64_t command_wall_start_ns_ = 0;
  uint64_t connect_ns_ = 0;  // backend acquire while serving the command
  uint64_t sync_ns_ = 0;     // session state replayed while serving the command
  PreparedStatementMap prepared_;
  // Client id of the COM_STMT_* command in flight (0: none): its statement
  // id is rewritten for the connection that serves it.
  uint32_t statement_command_id_ = 0;
  int running_slot_ = -1;  // the slot whose connection runs the command in flight
  int serving_slot_ = -1;  // the slot chosen for the command in flight (-1: none yet)
  std::vector<SyncStep> sync_steps_;
  // Null with --n-plus-one off; registered with the worker's sink for polling.
  std::unique_ptr<analyzer::NPlusOneDetector> n_plus_one_;
  std::vector<std::string_view> bound_values_;  // scratch: an execute's parameters
};

}  // namespace ql::proxy
