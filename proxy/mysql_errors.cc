// Implementation of the proxy's own MySQL errors.
#include "proxy/mysql_errors.h"

#include "absl/strings/str_cat.h"
#include "protocol/generic_packets.h"

namespace ql::proxy {

using protocol::Sv;

MysqlError AccessDenied(std::string_view user, std::string_view host, bool using_password) {
  return {errc::kAccessDenied, "28000",
          absl::StrCat("Access denied for user '", Sv(user), "'@'", Sv(host),
                       "' (using password: ", using_password ? "YES" : "NO", ")")};
}

MysqlError SecureTransportRequired() {
  return {errc::kSecureTransportRequired, "HY000",
          "Connections using insecure transport are prohibited while "
          "--require_secure_transport=ON."};
}

MysqlError UnknownCommand() { return {errc::kUnknownCommand, "08S01", "Unknown command"}; }

MysqlError BackendUnreachable(std::string_view backend, std::string_view reason) {
  return {errc::kBackendUnreachable, "HY000",
          absl::StrCat("Can't connect to MySQL server on '", Sv(backend), "' (", Sv(reason),
                       ") [querylens]")};
}

MysqlError BackendLost(std::string_view backend, std::string_view reason) {
  return {errc::kBackendLost, "70100",
          absl::StrCat("Lost connection to MySQL server '", Sv(backend), "' during query (",
                       Sv(reason), ") [querylens]")};
}

MysqlError PoolExhausted(std::string_view backend, size_t max, double waited_s) {
  return {errc::kTooManyConnections, "08004",
          absl::StrCat("Too many connections: all ", max, " querylens pool connections to '",
                       Sv(backend), "' stayed busy for ", waited_s,
                       " s (raise --pool-max-connections or --pool-wait-timeout) [querylens]")};
}

MysqlError MalformedPacket(std::string_view what) {
  return {errc::kMalformedPacket, "HY000", absl::StrCat("Malformed packet: ", Sv(what))};
}

MysqlError PacketTooLarge() {
  return {errc::kNetPacketTooLarge, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes"};
}

MysqlError PacketsOutOfOrder() {
  return {errc::kNetPacketsOutOfOrder, "08S01", "Got packets out of order"};
}

MysqlError NoSuchThread(uint64_t id) {
  return {errc::kNoSuchThread, "HY000", absl::StrCat("Unknown thread id: ", id)};
}

MysqlError NotOwnerOfThread(uint64_t id) {
  return {errc::kNotOwnerOfThread, "HY000", absl::StrCat("You are not owner of thread ", id)};
}

MysqlError KillNotTranslated() {
  return {errc::kNotSupportedYet, "42000",
          "This version of querylens doesn't yet support 'KILL of a connection id that is not a "
          "plain number, or with other statements, or prepared'"};
}

protocol::Bytes EncodeError(const MysqlError& e) {
  protocol::Bytes out;
  protocol::EncodeErr(out, e.code, e.sql_state, e.message);
  return out;
}

}  // namespace ql::proxy
