// BackendPool: a worker's backend connections, reused across client
// sessions. Connections are keyed by backend, login user, the client
// capability flags they were opened with and the handshake collation, so a
// connection only ever serves clients that expect the same response shapes.
// A released connection is reset (COM_RESET_CONNECTION) before it may serve
// anyone else. Each backend has a maximum (idle + in use); a session that
// finds it full waits a bounded time and then gets ERR 1040. Idle
// connections are closed after --pool-idle-timeout, and any connection older
// than --pool-max-age (when set) is not reused. Worker-thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "proxy/asio.h"
#include "proxy/backend_connection.h"
#include "proxy/mysql_errors.h"

namespace ql::proxy {

struct PoolKey {
  size_t backend = 0;  // 0 = primary, 1.. = replicas in configuration order
  std::string user;
  uint32_t capabilities = 0;
  uint32_t mariadb_capabilities = 0;
  uint8_t collation = 0;
  // False only for connections with no default database: a reset keeps the
  // schema, and no command can unselect one.
  bool with_schema = true;
  friend bool operator==(const PoolKey&, const PoolKey&) = default;
};

struct PoolLimits {
  size_t max_per_backend = 200;
  Clock::duration idle_timeout = std::chrono::seconds(60);
  Clock::duration wait_timeout = std::chrono::seconds(5);
  Clock::duration connect_timeout = std::chrono::seconds(5);
  Clock::duration reset_timeout = std::chrono::seconds(5);
  // Connections older than this are closed instead of reused (zero: no
  // limit). A pooled connection keeps the session defaults of its last reset,
  // so this bounds how long a SET GLOBAL takes to reach new sessions.
  Clock::duration max_age{};
};

struct PoolLease {
  std::unique_ptr<BackendConnection> connection;  // null on failure
  MysqlError error;               // what the client is told on failure
  bool reused = false;            // came from the idle list (already reset)
  bool pool_exhausted = false;    // the failure was the bounded wait
  Clock::duration waited{};       // connect or wait time
};

struct PoolCounts {
  size_t idle = 0;
  size_t in_use = 0;  // held by sessions, connecting or being reset
  uint64_t created = 0;
  uint64_t reused = 0;
  uint64_t wait_timeouts = 0;
};

class BackendPool {
 public:
  BackendPool(asio::any_io_executor executor, std::vector<BackendAddress> backends,
              PoolLimits limits, BackendTls tls);
  ~BackendPool();

  // An idle connection with this key, or a new one (connect + login with
  // `login`), or ERR 1040 after the bounded wait.
  awaitable<PoolLease> Acquire(const PoolKey& key, const BackendLogin& login);

  // Gives a connection back: a broken one is closed, a good one is reset in
  // the background and then waits idle for its next session.
  void Release(const PoolKey& key, std::unique_ptr<BackendConnection> connection);

  const BackendAddress& address(size_t backend) const { return backends_[backend]; }
  size_t backend_count() const { return backends_.size(); }
  PoolCounts counts(size_t backend) const;

  // Closes idle connections; sessions still holding some close them on release.
  void Shutdown();

  bool TooOld(const BackendConnection& c, Clock::time_point now) const {
    return limits_.max_age > Clock::duration::zero() && now - c.opened_at() > limits_.max_age;
  }

 private:
  struct Idle {
    PoolKey key;
    std::unique_ptr<BackendConnection> connection;
    Clock::time_point since;
  };
  struct PerBackend {
    std::list<Idle> idle;  // most recently released first
    size_t in_use = 0;
    std::deque<asio::steady_timer*> waiters;
    PoolCounts stats;
  };

  static awaitable<void> ResetAndPark(BackendPool* pool, PoolKey key,
                                      std::unique_ptr<BackendConnection> connection,
                                      std::shared_ptr<bool> alive);
  static awaitable<void> SweepLoop(BackendPool* pool, std::shared_ptr<bool> alive);
  void Park(PoolKey key, std::unique_ptr<BackendConnection> connection);
  void Closed(size_t backend);  // one connection fewer: wake a waiter
  void WakeOne(PerBackend& b);
  void SweepIdle();
  std::unique_ptr<BackendConnection> TakeIdle(const PoolKey& key);

  asio::any_io_executor executor_;
  std::vector<BackendAddress> backends_;
  PoolLimits limits_;
  BackendTls tls_;
  std::vector<PerBackend> per_backend_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool shut_down_ = false;
};

}  // namespace ql::proxy
