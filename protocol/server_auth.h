// The server side of client authentication, as a state machine without I/O:
// the proxy feeds it the client's HandshakeResponse41 and later packets, and
// sends whatever packet it asks for, until it reports success or failure.
//
// mysql_native_password and caching_sha2_password are verified against the
// clear-text password from the configuration. caching_sha2_password follows
// MySQL: the fast path when the user is "cached" (authenticated fully before),
// otherwise full authentication, with the password in clear over TLS or RSA
// encrypted with the proxy's key when the connection is plain.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "protocol/auth_crypto.h"
#include "protocol/wire_codec.h"

namespace ql::protocol {

class ServerAuthenticator {
 public:
  struct Options {
    std::string nonce;               // the 20 bytes sent in HandshakeV10
    std::string default_plugin;      // what an unknown client plugin is switched to
    bool tls_active = false;
    bool fast_path_allowed = false;  // caching_sha2: the user's hash is "cached"
    std::shared_ptr<const RsaKeyPair> rsa;  // may be null: then no RSA exchange
  };

  enum class Step { kSendAndWait, kSucceeded, kFailed };

  explicit ServerAuthenticator(Options options) : options_(std::move(options)) {}

  // `password` is nullopt for an unknown user; such a login always fails, but
  // only after the exchange, as a real server does.
  Step Start(std::string_view client_plugin, std::string_view auth_response,
             std::optional<std::string> password);
  Step OnClientPacket(ByteSpan payload);

  // The payload to send when a step is kSendAndWait (or an AuthMoreData
  // fast-auth-success to send before the final OK when kSucceeded).
  const Bytes& to_send() const { return to_send_; }
  // True when the full caching_sha2 exchange proved the password, so the
  // caller may cache the user for the fast path.
  bool completed_full_auth() const { return completed_full_auth_; }
  const std::string& plugin() const { return plugin_; }

 private:
  enum class State { kIdle, kAwaitSwitchResponse, kAwaitFullAuth, kAwaitRsaPassword, kDone };

  Step Verify(std::string_view plugin, std::string_view response);
  Step CheckClearPassword(std::string_view candidate);
  Step Fail();

  Options options_;
  std::optional<std::string> password_;
  std::string plugin_;
  State state_ = State::kIdle;
  Bytes to_send_;
  bool completed_full_auth_ = false;
};

}  // namespace ql::protocol
