// Error codes, SQLSTATEs and wording of the errors the proxy itself sends to
// clients, matching what MySQL/MariaDB and their client libraries use, so that
// applications and ORMs react to them exactly as to a server's own errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/wire_codec.h"

namespace ql::proxy {

struct MysqlError {
  uint16_t code;
  std::string sql_state;
  std::string message;
};

namespace errc {
inline constexpr uint16_t kAccessDenied = 1045;         // 28000
inline constexpr uint16_t kUnknownCommand = 1047;       // 08S01
inline constexpr uint16_t kHandshakeError = 1043;       // 08S01 "Bad handshake"
inline constexpr uint16_t kNetPacketTooLarge = 1153;    // 08S01
inline constexpr uint16_t kNetReadError = 1158;         // 08S01
inline constexpr uint16_t kNetPacketsOutOfOrder = 1156;  // 08S01
inline constexpr uint16_t kSecureTransportRequired = 3159;  // HY000
// 2003 and 2013 are client-library codes: libmariadb rejects a server ERR in
// 2000-2999 as a malformed packet. So backend failures use server codes with
// the client codes' wording.
inline constexpr uint16_t kBackendUnreachable = 1429;   // HY000 ER_CONNECT_TO_FOREIGN_DATA_SOURCE
inline constexpr uint16_t kBackendLost = 1927;          // 70100 ER_CONNECTION_KILLED
inline constexpr uint16_t kTooManyConnections = 1040;  // 08004
inline constexpr uint16_t kUnknownError = 1105;         // HY000
inline constexpr uint16_t kNoSuchThread = 1094;         // HY000 ER_NO_SUCH_THREAD
inline constexpr uint16_t kNotOwnerOfThread = 1095;     // HY000 ER_KILL_DENIED_ERROR
inline constexpr uint16_t kQueryInterrupted = 1317;     // 70100 ER_QUERY_INTERRUPTED
inline constexpr uint16_t kNotSupportedYet = 1235;      // 42000 ER_NOT_SUPPORTED_YET
inline constexpr uint16_t kMalformedPacket = 2027;      // HY000
// CR_SERVER_LOST: what the client library reports when the connection drops
// in the middle of a response. Recorded in statistics only, never sent.
inline constexpr uint16_t kClientServerLost = 2013;
}  // namespace errc

MysqlError AccessDenied(std::string_view user, std::string_view host, bool using_password);
MysqlError SecureTransportRequired();
MysqlError UnknownCommand();
MysqlError BackendUnreachable(std::string_view backend, std::string_view reason);
MysqlError BackendLost(std::string_view backend, std::string_view reason);
// The pool of connections to `backend` stayed full for the whole wait.
MysqlError PoolExhausted(std::string_view backend, size_t max, double waited_s);
MysqlError MalformedPacket(std::string_view what);
MysqlError PacketTooLarge();
MysqlError PacketsOutOfOrder();
// KILL of a connection id that no session of this proxy has, or that
// belongs to another user.
MysqlError NoSuchThread(uint64_t id);
MysqlError NotOwnerOfThread(uint64_t id);
// A KILL whose connection id is not a plain number (or that comes with
// other statements, or is prepared): the proxy cannot translate it.
MysqlError KillNotTranslated();

// The ERR payload (no frame header) for an error.
protocol::Bytes EncodeError(const MysqlError& e);

}  // namespace ql::proxy
