// BackendConnection: the proxy's connection to one MariaDB/MySQL server, as a
// client: TCP connect, greeting, optional TLS, authentication with the
// configured credentials, carrying the capability flags of the client it
// serves so that responses can be relayed to that client unchanged.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "protocol/handshake.h"
#include "proxy/asio.h"
#include "proxy/mysql_errors.h"
#include "proxy/transport.h"

namespace ql::proxy {

struct BackendAddress {
  std::string host;
  uint16_t port = 0;
  std::string Name() const { return host + ":" + std::to_string(port); }
  bool operator==(const BackendAddress&) const = default;
};

struct BackendLogin {
  std::string username;
  std::string password;
  std::string database;
  uint32_t client_capabilities = 0;  // of the client this connection will serve
  uint32_t client_mariadb_capabilities = 0;  // MariaDB extended flags the client negotiated
  uint8_t character_set = 0;
};

struct BackendTls {
  ssl::context* context = nullptr;  // null: plain TCP
  bool verify = false;
};

class BackendConnection {
 public:
  struct Outcome {
    std::unique_ptr<BackendConnection> connection;  // null on failure
    MysqlError error;  // what to tell the client on failure (the server's own ERR if it sent one)
    protocol::Bytes server_err_payload;  // the server's ERR packet, when there was one
  };

  static awaitable<Outcome> Connect(const BackendAddress& address, const BackendLogin& login,
                                    const BackendTls& tls, std::chrono::milliseconds timeout);

  // Reads only the greeting (for the version and capabilities to advertise).
  static awaitable<std::optional<protocol::HandshakeV10>> ProbeGreeting(
      const BackendAddress& address, std::chrono::milliseconds timeout);

  ~BackendConnection();

  Transport& transport() { return *transport_; }
  uint32_t capabilities() const { return capabilities_; }
  uint32_t mariadb_capabilities() const { return mariadb_capabilities_; }
  const protocol::HandshakeV10& greeting() const { return greeting_; }
  const BackendAddress& address() const { return address_; }
  uint32_t server_connection_id() const { return greeting_.connection_id; }

  // A connection whose response was not read to the end must never be reused.
  bool broken() const { return broken_; }
  Clock::time_point opened_at() const { return opened_at_; }
  void MarkBroken() { broken_ = true; }

 private:
  BackendConnection(std::shared_ptr<Transport> transport, BackendAddress address)
      : transport_(std::move(transport)), address_(std::move(address)), opened_at_(Clock::now()) {}

  std::shared_ptr<Transport> transport_;
  BackendAddress address_;
  protocol::HandshakeV10 greeting_;
  uint32_t capabilities_ = 0;
  uint32_t mariadb_capabilities_ = 0;
  bool broken_ = false;
  Clock::time_point opened_at_;
};

}  // namespace ql::proxy
