// WorkerContext: everything one worker thread owns and its client sessions
// share: configuration (read-only), TLS contexts, the RSA key, what the
// proxy knows of the primary's greeting, the caching_sha2 fast-path cache
// and the connection-id counter. Never touched by another thread.
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "protocol/auth_crypto.h"
#include "protocol/constants.h"
#include "proxy/asio.h"
#include "proxy/backend_connection.h"
#include "proxy/config.h"
#include "proxy/slow_log_writer.h"
#include "proxy/statement_recorder.h"

namespace ql::proxy {

// What the proxy tells clients about "the server": learned from the primary.
struct ServerProfile {
  std::string version = "5.5.5-10.11.0-MariaDB-querylens";
  uint32_t capabilities = protocol::cap::kProxySupported;
  uint32_t mariadb_capabilities = 0;  // when `capabilities` lacks kLongPassword
  uint8_t character_set = protocol::kUtf8mb4GeneralCi;
};

// Read-only state built once at start-up and shared by all workers.
struct SharedState {
  Config config;
  std::unique_ptr<ssl::context> frontend_tls;  // null when TLS is not configured
  std::unique_ptr<ssl::context> backend_tls;   // null when backend TLS is off
  std::shared_ptr<const protocol::RsaKeyPair> rsa;
  BackendAddress primary;
  ServerProfile initial_profile;
  std::unique_ptr<SlowLogWriter> slow_log;  // null without --slow-log; thread-safe
};

struct WorkerContext {
  WorkerContext(const SharedState& s, int index, int count)
      : shared(s),
        worker_index(index),
        worker_count(count),
        profile(s.initial_profile),
        recorder(s.config, s.slow_log.get()) {}

  uint32_t NextConnectionId() {
    // Unique across workers without sharing a counter.
    return uint32_t(++connections_started * worker_count + worker_index);
  }

  const SharedState& shared;
  int worker_index;
  int worker_count;
  uint64_t connections_started = 0;
  ServerProfile profile;
  // user + password digests that passed caching_sha2 full authentication.
  absl::flat_hash_set<std::string> sha2_fast_path;
  StatementRecorder recorder;
};

}  // namespace ql::proxy
