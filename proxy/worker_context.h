// WorkerContext: everything one worker thread owns and its client sessions
// share: configuration (read-only), TLS contexts, the RSA key, what the
// proxy knows of the primary's greeting, the caching_sha2 fast-path cache,
// the connection-id counter, the statement recorder (digest table, metrics
// shard), the N+1 sink and the registry of live sessions. Never touched by another thread:
// the admin thread reads it through handlers posted to the worker's
// io_context (admin_api_collect.h).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "protocol/auth_crypto.h"
#include "protocol/constants.h"
#include "proxy/asio.h"
#include "proxy/backend_connection.h"
#include "proxy/backend_health.h"
#include "proxy/backend_pool.h"
#include "proxy/replica_selector.h"
#include "proxy/route_planner.h"
#include "proxy/config.h"
#include "proxy/slow_log_writer.h"
#include "proxy/n_plus_one_sink.h"
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
  std::vector<BackendAddress> backends;  // [0] the primary, then the replicas in configuration order
  ServerProfile initial_profile;
  std::unique_ptr<SlowLogWriter> slow_log;  // null without --slow-log; thread-safe
  // N+1 deduplication across workers; thread-safe. Never null.
  std::unique_ptr<SharedNPlusOneReporter> n_plus_one_reporter;
};

class ClientSession;
struct WorkerContext;

// One worker as the others (and the admin thread) reach it: handlers posted
// to `io` run on that worker's thread, the only one that may touch `context`.
struct WorkerHandle {
  asio::io_context* io = nullptr;
  WorkerContext* context = nullptr;
};

// Where /api/sessions finds what a live client session is doing. The pointees
// belong to the session, which registers in its constructor and unregisters
// in its destructor, so they outlive the registration; they are read only on
// the worker's thread, when the admin asks for a report.
struct SessionRefs {
  const std::string* client_address = nullptr;
  const UserEntry* const* user = nullptr;  // *user is null until login succeeded
  const std::string* schema = nullptr;
  const StatementIdentity* statement = nullptr;  // the statement in flight (or the last one)
  const PinReasons* pins = nullptr;  // why the session is bound to the primary
  // For KILL from another session (client_kill.cc) and the session's backend.
  ClientSession* session = nullptr;
};

// The live sessions of one worker, by connection id. Registration costs one
// hash insert per connection; the statement path pays one lookup to mark a
// command running and one to mark it finished (SessionRegistry::Activity).
class SessionRegistry {
 public:
  struct Entry {
    SessionRefs refs;
    int64_t connected_ns = 0;      // wall clock, Unix epoch
    int64_t running_since_ns = 0;  // start of the command in flight; 0 = idle
    bool running_statement = false;  // that command is a statement (query / execute)
  };

  void Register(uint32_t id, const SessionRefs& refs) {
    Entry& e = entries_[id];
    e.refs = refs;
    e.connected_ns = WallNs();
    live_.store(entries_.size(), std::memory_order_relaxed);
  }
  void Unregister(uint32_t id) {
    entries_.erase(id);
    live_.store(entries_.size(), std::memory_order_relaxed);
  }
  // Any thread: how many sessions are registered (the shutdown drain waits
  // for 0 from the main thread).
  size_t live() const { return live_.load(std::memory_order_relaxed); }

  // Marks a session busy from construction to destruction: a named local in
  // the coroutine that serves one command.
  class Activity {
   public:
    Activity(SessionRegistry& registry, uint32_t id, bool statement, int64_t started_ns)
        : registry_(registry), id_(id) {
      if (auto it = registry_.entries_.find(id_); it != registry_.entries_.end()) {
        it->second.running_since_ns = started_ns != 0 ? started_ns : WallNs();
        it->second.running_statement = statement;
      }
    }
    ~Activity() {
      if (auto it = registry_.entries_.find(id_); it != registry_.entries_.end()) {
        it->second.running_since_ns = 0;
        it->second.running_statement = false;
      }
    }
    Activity(const Activity&) = delete;
    Activity& operator=(const Activity&) = delete;

   private:
    SessionRegistry& registry_;
    uint32_t id_;
  };

  const absl::flat_hash_map<uint32_t, Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

 private:
  static int64_t WallNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  absl::flat_hash_map<uint32_t, Entry> entries_;
  std::atomic<size_t> live_{0};
};

struct WorkerContext {
  WorkerContext(const SharedState& s, int index, int count)
      : shared(s),
        worker_index(index),
        worker_count(count),
        profile(s.initial_profile),
        recorder(s.config, s.slow_log.get()),
        n_plus_one(s.config, index, &recorder.metrics(), s.n_plus_one_reporter.get()),
        replicas(1 + s.config.replicas.size(), s.config.replica_selection == "weighted"
                                                    ? ReplicaSelection::kWeighted
                                                    : ReplicaSelection::kLeastOutstanding) {}

  // Proxy connection ids start at kConnectionIdBase, far above the thread
  // ids SHOW PROCESSLIST shows on the servers: a KILL of an id copied from
  // there gets ERR 1094 instead of stopping whichever proxy session happens
  // to carry the same small number. Unique across workers without sharing
  // a counter: (id - base) % worker_count is the worker, also after a wrap.
  static constexpr uint32_t kConnectionIdBase = 1'000'000'000;
  uint32_t NextConnectionId() {
    uint32_t id = 0;
    do {  // after a wrap (3.29e9 connections), skip ids still in use
      id = ConnectionId(++connections_started, worker_count, worker_index);
    } while (sessions.entries().contains(id));
    return id;
  }
  // The n-th connection id of worker `index` of `count`.
  static uint32_t ConnectionId(uint64_t n, int count, int index) {
    const uint64_t workers = uint64_t(std::max(count, 1));
    const uint64_t span = (uint64_t(UINT32_MAX) + 1 - kConnectionIdBase) / workers * workers;
    return kConnectionIdBase + uint32_t((n * workers + uint64_t(index)) % span);
  }
  // The worker whose sessions may carry connection id `id`; -1 for none.
  static int WorkerOfConnectionId(uint64_t id, int worker_count) {
    if (id < kConnectionIdBase || id > UINT32_MAX) return -1;
    return int((id - kConnectionIdBase) % uint64_t(std::max(worker_count, 1)));
  }

  const SharedState& shared;
  int worker_index;
  int worker_count;
  uint64_t connections_started = 0;
  ServerProfile profile;
  // user + password digests that passed caching_sha2 full authentication.
  absl::flat_hash_set<std::string> sha2_fast_path;
  StatementRecorder recorder;
  // N+1 findings of this worker's sessions: reporter, log, counters, recent
  // findings (the sessions own their detectors).
  NPlusOneSink n_plus_one;
  SessionRegistry sessions;
  // Shutdown drain: no session starts another command outside a transaction.
  bool draining = false;
  // The backend monitor's latest view (posted to this worker's io_context
  // after every round); null until the first round.
  HealthSnapshotPtr health;
  // Backend connections shared by this worker's sessions (made by the server
  // once the worker's io_context exists).
  std::unique_ptr<BackendPool> pool;
  ReplicaSelector replicas;
  // Every worker, this one included, by worker_index (set before the
  // threads start; read-only after): KILL finds the session of an id.
  std::vector<WorkerHandle> peers;
};

}  // namespace ql::proxy
