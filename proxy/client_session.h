// ClientSession: one client connection, served by one coroutine on the worker
// that accepted it. It terminates the MySQL protocol: greets the client,
// authenticates it against the configured users, opens a backend connection
// with the client's capabilities, schema and character set, and then relays
// every command and its response. Login and COM_CHANGE_USER live in
// client_login.cc; the command loop in client_session.cc.
#pragma once

#include <memory>
#include <string>

#include "protocol/command.h"
#include "protocol/framing.h"
#include "protocol/response_tracker.h"
#include "proxy/asio.h"
#include "proxy/backend_connection.h"
#include "proxy/mysql_errors.h"
#include "absl/container/flat_hash_map.h"
#include "proxy/response_relay.h"
#include "proxy/statement_recorder.h"
#include "proxy/transport.h"
#include "proxy/worker_context.h"

namespace ql::proxy {

// MariaDB's own ceiling for one packet (max_allowed_packet can go no higher).
inline constexpr size_t kMaxCommandSize = size_t(1) << 30;

class ClientSession {
 public:
  ClientSession(WorkerContext& worker, tcp::socket socket);
  ~ClientSession();

  awaitable<void> Run();

 private:
  // Login (client_login.cc).
  awaitable<bool> Login();
  awaitable<bool> Authenticate(std::string_view user, std::string_view plugin,
                               std::string_view auth_response, uint8_t& seq);
  awaitable<bool> ChangeUser(protocol::ByteSpan packet);
  protocol::HandshakeV10 MakeGreeting() const;
  const UserEntry* FindUser(std::string_view name) const;

  // Commands (client_session.cc).
  awaitable<bool> ServeCommand();
  awaitable<bool> Forward(protocol::ByteSpan packet, const protocol::CommandInfo& info);
  awaitable<bool> ConnectBackend(uint8_t error_seq);
  void AfterResponse(const protocol::CommandInfo& info, protocol::ByteSpan packet);
  // Fingerprint of the statement a command runs; false for other commands.
  bool IdentifyStatement(const protocol::CommandInfo& info, protocol::ByteSpan packet);
  void RecordStatement(const protocol::CommandInfo& info, protocol::ByteSpan packet,
                       const RelayResult& result);
  bool SessionSurvivesReconnect() const;
  bool BackendWentAwayWhileIdle();
  // Runs a statement of the proxy's own on the backend; true on OK.
  awaitable<bool> RunOnBackend(std::string_view sql);
  void DropBackend();

  awaitable<error_code> SendPacket(protocol::ByteSpan payload, uint8_t seq);
  // Errors are queued by a plain call and flushed by a co_await: g++ 12
  // destroys temporaries inside a co_await expression twice.
  void QueueError(const MysqlError& error, uint8_t seq);
  awaitable<error_code> FlushQueued();
  awaitable<error_code> SendOk(uint8_t seq);
  std::string Describe() const;  // for log lines

  WorkerContext& worker_;
  std::shared_ptr<Transport> client_;
  std::unique_ptr<BackendConnection> backend_;
  protocol::PacketReader reader_;
  protocol::ResponseTracker tracker_;
  ResponseRelay relay_;
  RelayTimeouts timeouts_;
  protocol::Bytes queued_;

  uint32_t connection_id_ = 0;
  std::string nonce_;
  std::string peer_;
  uint32_t client_caps_ = 0;
  uint32_t client_mariadb_caps_ = 0;
  uint8_t charset_ = 0;
  const UserEntry* user_ = nullptr;
  std::string schema_;
  uint16_t last_status_ = 0;
  bool autocommit_ = true;  // survives a backend reconnect
  uint32_t open_statements_ = 0;
  Clock::time_point backend_idle_since_;

  // The statement in flight, and the statements prepared on the backend.
  StatementIdentity current_;
  Clock::time_point command_started_;
  Clock::time_point command_sent_;
  int64_t command_wall_start_ns_ = 0;
  uint64_t connect_ns_ = 0;  // backend (re)connect while serving the command
  absl::flat_hash_map<uint32_t, StatementIdentity> prepared_;
};

}  // namespace ql::proxy
