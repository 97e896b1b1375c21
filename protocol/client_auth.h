// The client side of authentication toward a backend server, as a state
// machine without I/O. The proxy builds the HandshakeResponse41 with it and
// then feeds every server packet until OK (success) or ERR (failure).
// Speaks mysql_native_password and caching_sha2_password (fast path, clear
// text over TLS, or RSA with the server's public key).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "protocol/handshake.h"
#include "protocol/wire_codec.h"

namespace ql::protocol {

class ClientAuthenticator {
 public:
  struct Credentials {
    std::string username;
    std::string password;
    std::string database;
  };

  enum class Step { kSendAndWait, kWait, kSucceeded, kFailed };

  ClientAuthenticator(Credentials credentials, bool tls_active)
      : credentials_(std::move(credentials)), tls_active_(tls_active) {}

  // Appends the HandshakeResponse41 payload for this server greeting.
  // `mariadb_capabilities` are sent only when `capabilities` has
  // kLongPassword clear (MariaDB's way of saying "extended flags follow").
  void BuildResponse(const HandshakeV10& greeting, uint32_t capabilities,
                     uint32_t mariadb_capabilities, uint8_t character_set, Bytes& out);

  // Feeds one server packet. kSendAndWait: send to_send() and wait for the
  // next packet; kWait: wait without sending; kFailed: see error() and,
  // when the server sent ERR, server_error().
  Step OnServerPacket(ByteSpan payload);

  const Bytes& to_send() const { return to_send_; }
  const absl::Status& error() const { return error_; }
  // The ERR payload the server sent, empty if the failure was local.
  const Bytes& server_error() const { return server_error_; }
  // The OK payload that ended authentication.
  const Bytes& final_ok() const { return final_ok_; }

 private:
  std::string Scramble(std::string_view plugin) const;
  Step Fail(absl::Status status);

  Credentials credentials_;
  bool tls_active_;
  std::string nonce_;
  std::string plugin_;
  bool awaiting_public_key_ = false;
  Bytes to_send_;
  Bytes server_error_;
  Bytes final_ok_;
  absl::Status error_;
};

}  // namespace ql::protocol
