// The per-worker connection pool; see backend_pool.h.
#include "proxy/backend_pool.h"

#include "absl/strings/str_cat.h"
#include "protocol/command.h"
#include "proxy/backend_exchange.h"
#include "proxy/logging.h"

namespace ql::proxy {
namespace {

// A connection idle this long may have been closed by the server
// (wait_timeout, restart): peek before handing it out.
constexpr auto kCheckIdleAfter = std::chrono::seconds(1);

double SecondsOf(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::duration<double>>(d).count();
}

}  // namespace

BackendPool::BackendPool(asio::any_io_executor executor, std::vector<BackendAddress> backends,
                         PoolLimits limits, BackendTls tls)
    : executor_(std::move(executor)),
      backends_(std::move(backends)),
      limits_(limits),
      tls_(tls),
      per_backend_(backends_.size()) {
  asio::co_spawn(executor_, SweepLoop(this, alive_), asio::detached);
}

BackendPool::~BackendPool() {
  *alive_ = false;
  Shutdown();
}

void BackendPool::Shutdown() {
  shut_down_ = true;
  for (PerBackend& b : per_backend_) {
    b.idle.clear();
    for (asio::steady_timer* w : b.waiters) w->cancel();
  }
}

PoolCounts BackendPool::counts(size_t backend) const {
  const PerBackend& b = per_backend_[backend];
  PoolCounts c = b.stats;
  c.idle = b.idle.size();
  c.in_use = b.in_use;
  return c;
}

std::unique_ptr<BackendConnection> BackendPool::TakeIdle(const PoolKey& key) {
  PerBackend& b = per_backend_[key.backend];
  const Clock::time_point now = Clock::now();
  for (auto it = b.idle.begin(); it != b.idle.end();) {
    if (!(it->key == key)) {
      ++it;
      continue;
    }
    std::unique_ptr<BackendConnection> c = std::move(it->connection);
    const bool stale = now - it->since > kCheckIdleAfter;
    it = b.idle.erase(it);
    if (TooOld(*c, now)) continue;  // closed here; the slot is free again
    if (stale && c->transport().PeerClosedOrSentData()) {
      // Closed by the server while it waited here; the slot is free again.
      continue;
    }
    ++b.in_use;
    return c;
  }
  return nullptr;
}

awaitable<PoolLease> BackendPool::Acquire(const PoolKey& key, const BackendLogin& login) {
  PoolLease lease;
  PerBackend& b = per_backend_[key.backend];
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + limits_.wait_timeout;
  while (!shut_down_) {
    if (auto c = TakeIdle(key)) {
      lease.connection = std::move(c);
      lease.reused = true;
      ++b.stats.reused;
      lease.waited = Clock::now() - start;
      co_return lease;
    }
    if (b.in_use + b.idle.size() >= limits_.max_per_backend && !b.idle.empty()) {
      // Full of idle connections for other keys: the oldest makes room.
      b.idle.pop_back();
    }
    if (b.in_use + b.idle.size() < limits_.max_per_backend) {
      ++b.in_use;
      auto outcome = co_await BackendConnection::Connect(
          backends_[key.backend], login, tls_,
          std::chrono::duration_cast<std::chrono::milliseconds>(limits_.connect_timeout));
      lease.waited = Clock::now() - start;
      if (!outcome.connection) {
        Closed(key.backend);
        lease.error = std::move(outcome.error);
        co_return lease;
      }
      ++b.stats.created;
      lease.connection = std::move(outcome.connection);
      co_return lease;
    }
    if (Clock::now() >= deadline) break;
    asio::steady_timer timer(executor_);
    timer.expires_at(deadline);
    b.waiters.push_back(&timer);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    std::erase(b.waiters, &timer);
  }
  ++b.stats.wait_timeouts;
  lease.pool_exhausted = true;
  lease.waited = Clock::now() - start;
  lease.error = PoolExhausted(backends_[key.backend].Name(), limits_.max_per_backend,
                              SecondsOf(limits_.wait_timeout));
  co_return lease;
}

void BackendPool::Release(const PoolKey& key, std::unique_ptr<BackendConnection> connection) {
  if (!connection) return;
  if (connection->broken() || shut_down_ || !connection->transport().is_open() ||
      TooOld(*connection, Clock::now())) {
    connection.reset();
    Closed(key.backend);
    return;
  }
  asio::co_spawn(executor_, ResetAndPark(this, key, std::move(connection), alive_),
                 asio::detached);
}

awaitable<void> BackendPool::ResetAndPark(BackendPool* pool, PoolKey key,
                                          std::unique_ptr<BackendConnection> connection,
                                          std::shared_ptr<bool> alive) {
  const uint8_t reset[] = {uint8_t(protocol::Command::kResetConnection)};
  ExchangeResult r = co_await ExchangeCommand(*connection, reset, protocol::ResponseKind::kOkOrErr,
                                              pool->limits_.reset_timeout);
  if (!*alive) co_return;
  if (!r.ok()) {
    LogDebug(absl::StrCat("pool: reset of a connection to ", connection->address().Name(),
                          " failed; closing it"));
    connection.reset();
    pool->Closed(key.backend);
    co_return;
  }
  pool->Park(std::move(key), std::move(connection));
}

void BackendPool::Park(PoolKey key, std::unique_ptr<BackendConnection> connection) {
  PerBackend& b = per_backend_[key.backend];
  --b.in_use;
  if (shut_down_) return;
  b.idle.push_front({std::move(key), std::move(connection), Clock::now()});
  WakeOne(b);
}

void BackendPool::Closed(size_t backend) {
  PerBackend& b = per_backend_[backend];
  if (b.in_use > 0) --b.in_use;
  WakeOne(b);
}

void BackendPool::WakeOne(PerBackend& b) {
  if (!b.waiters.empty()) b.waiters.front()->cancel();
}

void BackendPool::SweepIdle() {
  const Clock::time_point now = Clock::now();
  for (PerBackend& b : per_backend_) {
    // Oldest at the back.
    while (!b.idle.empty() && now - b.idle.back().since > limits_.idle_timeout) {
      b.idle.pop_back();
    }
  }
}

awaitable<void> BackendPool::SweepLoop(BackendPool* pool, std::shared_ptr<bool> alive) {
  auto period = std::min<Clock::duration>(pool->limits_.idle_timeout / 2, std::chrono::seconds(5));
  if (period < std::chrono::milliseconds(100)) period = std::chrono::milliseconds(100);
  asio::steady_timer timer(pool->executor_);
  while (*alive && !pool->shut_down_) {
    timer.expires_after(period);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!*alive) co_return;
    pool->SweepIdle();
  }
}

}  // namespace ql::proxy
