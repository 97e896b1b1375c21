// Implementation of Server and of the start-up state it shares with workers.
#include "proxy/server.h"

#include <pthread.h>

#include <csignal>
#include <functional>

#include "absl/strings/str_cat.h"
#include "proxy/admin_server.h"
#include "proxy/backend_monitor.h"
#include "proxy/client_session.h"
#include "proxy/heap_allocation_count.h"
#include "proxy/logging.h"

namespace ql::proxy {

namespace {

// Counts a client connection for as long as its coroutine frame exists
// (normal end, or destruction of the worker's io_context at shutdown).
class ClientConnectionScope {
 public:
  explicit ClientConnectionScope(WorkerMetrics& metrics) : metrics_(metrics) {
    metrics_.ClientConnected();
  }
  ~ClientConnectionScope() { metrics_.ClientDisconnected(); }
  ClientConnectionScope(const ClientConnectionScope&) = delete;
  ClientConnectionScope& operator=(const ClientConnectionScope&) = delete;

 private:
  WorkerMetrics& metrics_;
};

// A coroutine's parameters live in its frame, unlike a lambda's captures:
// this keeps the session alive for as long as it runs.
awaitable<void> RunSession(std::shared_ptr<ClientSession> session, WorkerMetrics* metrics) {
  ClientConnectionScope counted(*metrics);
  co_await session->Run();
}

}  // namespace

// A worker's io_context runs on its worker thread only, and every socket and
// timer of its sessions and pool is used on that thread. Other threads only
// post() to it (the admin's collection, the monitor's snapshots, shutdown),
// which the scheduler's lock keeps safe. So the per-socket locks of Asio's
// reactor are dropped (UNSAFE_IO keeps the scheduler's and the reactor's
// registration locks); it also implies one thread per context, as the hint
// 1 did.
constexpr int kWorkerConcurrencyHint = BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO;

// An io_context whose pending handlers can be destroyed before the context
// itself (execution_context::shutdown is protected).
class WorkerIoContext : public asio::io_context {
 public:
  explicit WorkerIoContext(int concurrency_hint) : asio::io_context(concurrency_hint) {}
  void DestroyPendingHandlers() { shutdown(); }
};

struct Server::Worker {
  Worker(const SharedState& shared, int index, int count)
      : context(shared, index, count), io(kWorkerConcurrencyHint) {
    const Config& c = shared.config;
    PoolLimits limits;
    limits.max_per_backend = size_t(c.pool_max_connections);
    limits.idle_timeout = SecondsToDuration(c.pool_idle_timeout_s);
    limits.wait_timeout = SecondsToDuration(c.pool_wait_timeout_s);
    limits.max_age = SecondsToDuration(c.pool_max_age_s);
    limits.connect_timeout = SecondsToDuration(c.connect_timeout_s);
    limits.reset_timeout = SecondsToDuration(c.connect_timeout_s);
    context.pool = std::make_unique<BackendPool>(
        io.get_executor(), shared.backends, limits,
        BackendTls{shared.backend_tls.get(), !c.backend_tls_ca.empty()});
  }
  // Sessions destroyed with the io_context give their connections back:
  // the pool must refuse them by then.
  ~Worker() { context.pool->Shutdown(); }
  WorkerContext context;
  WorkerIoContext io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
};

absl::StatusOr<SharedState> BuildSharedState(Config config) {
  SharedState s;
  s.config = std::move(config);
  s.primary = {s.config.primary->host, s.config.primary->port};
  s.backends.push_back(s.primary);
  for (const HostPort& r : s.config.replicas) s.backends.push_back({r.host, r.port});
  try {
    if (!s.config.tls_cert.empty()) {
      s.frontend_tls = std::make_unique<ssl::context>(ssl::context::tls_server);
      s.frontend_tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                  ssl::context::no_tlsv1_1);
      s.frontend_tls->use_certificate_chain_file(s.config.tls_cert);
      s.frontend_tls->use_private_key_file(s.config.tls_key, ssl::context::pem);
    }
    if (s.config.backend_tls) {
      s.backend_tls = std::make_unique<ssl::context>(ssl::context::tls_client);
      if (!s.config.backend_tls_ca.empty()) {
        s.backend_tls->load_verify_file(s.config.backend_tls_ca);
      }
    }
  } catch (const boost::system::system_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("TLS set-up failed: ", e.what()));
  }
  if (!s.config.slow_log.empty()) {
    s.slow_log = std::make_unique<SlowLogWriter>(s.config.slow_log, 100000);
    if (absl::Status st = s.slow_log->Start(); !st.ok()) return st;
  }
  s.n_plus_one_reporter = std::make_unique<SharedNPlusOneReporter>(ReporterOptionsFrom(s.config));
  auto rsa = protocol::RsaKeyPair::Generate();
  if (!rsa.ok()) return rsa.status();
  s.rsa = *rsa;
  // Learn the primary's version and capabilities to present them to clients.
  asio::io_context io;
  std::optional<protocol::HandshakeV10> greeting;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        greeting = co_await BackendConnection::ProbeGreeting(
            s.primary, std::chrono::milliseconds(int64_t(s.config.connect_timeout_s * 1000)));
      },
      asio::detached);
  io.run();
  if (greeting) {
    s.initial_profile.version = greeting->server_version;
    s.initial_profile.capabilities = greeting->capabilities;
    s.initial_profile.mariadb_capabilities = greeting->mariadb_capabilities;
    s.initial_profile.character_set = greeting->character_set;
    LogInfo(absl::StrCat("primary ", s.primary.Name(), " is ", greeting->server_version));
  } else {
    LogWarn(absl::StrCat("primary ", s.primary.Name(),
                         " did not answer at start-up; serving clients anyway"));
  }
  return s;
}

Server::Server(SharedState shared) : shared_(std::move(shared)) {}

Server::~Server() {
  for (auto& w : workers_) {
    w->io.stop();
    if (w->thread.joinable()) w->thread.join();
  }
  // A KILL's coroutine can be queued on another worker's io_context
  // (client_kill.cc); destroying it posts to its own worker. So every
  // worker's pending handlers go while all workers still exist.
  for (auto& w : workers_) {
    w->context.pool->Shutdown();
    w->io.DestroyPendingHandlers();
  }
  workers_.clear();
}

absl::Status Server::Prepare() {
  int count = shared_.config.workers > 0 ? shared_.config.workers
                                         : int(std::max(1u, std::thread::hardware_concurrency()));
  const HostPort& listen = shared_.config.listen;
  for (int i = 0; i < count; ++i) {
    auto w = std::make_unique<Worker>(shared_, i, count);
    error_code ec;
    auto address = asio::ip::make_address(listen.host, ec);
    if (ec) {
      tcp::resolver resolver(w->io);
      auto results = resolver.resolve(listen.host, std::to_string(listen.port), ec);
      if (ec || results.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("cannot resolve listen address ", listen.host));
      }
      address = results.begin()->endpoint().address();
    }
    tcp::endpoint endpoint(address, listen.port);
    w->acceptor = std::make_unique<tcp::acceptor>(w->io);
    w->acceptor->open(endpoint.protocol(), ec);
    if (!ec) w->acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      ::setsockopt(w->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    // Bound now so that a taken port fails start-up at once; listening
    // starts in Run(), once the admin API answers, so that a client (or a
    // readiness check) that got in also finds /metrics and /api up.
    if (!ec) w->acceptor->bind(endpoint, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", listen.ToString(), ": ", ec.message()));
    }
    workers_.push_back(std::move(w));
  }
  return absl::OkStatus();
}

awaitable<void> Server::Accept(Worker& worker, tcp::acceptor& acceptor) {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors and the like: pause instead of spinning.
      LogWarn(absl::StrCat("accept failed: ", ec.message()));
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    auto session = std::make_shared<ClientSession>(worker.context, std::move(socket));
    asio::co_spawn(worker.io, RunSession(std::move(session), &worker.context.recorder.metrics()),
                   asio::detached);
  }
}

size_t Server::LiveSessions() const {
  size_t n = 0;
  for (const auto& w : workers_) n += w->context.sessions.live();
  return n;
}

void Server::Drain(asio::io_context& signal_io, asio::signal_set& signals,
                   std::function<void(const error_code&, int)>& on_signal, int& received) {
  const double timeout_s = shared_.config.shutdown_timeout_s;
  LogInfo(absl::StrCat("signal ", received, ": draining: no new clients; ", LiveSessions(),
                       " sessions may finish their statement or transaction for up to ",
                       timeout_s, "s (send the signal again to stop at once)"));
  for (auto& w : workers_) {
    asio::post(w->io, [worker = w.get()] {
      error_code ignored;
      worker->acceptor->close(ignored);
      worker->context.draining = true;
      // Collected first: closing a session's socket must not change the
      // registry under the loop (it does not today: the session ends later).
      std::vector<ClientSession*> sessions;
      for (const auto& [id, entry] : worker->context.sessions.entries()) {
        sessions.push_back(entry.refs.session);
      }
      for (ClientSession* s : sessions) s->OnDrain();
    });
  }
  const int first = received;
  received = 0;
  signals.async_wait(on_signal);  // a second SIGTERM/SIGINT sets `received` again
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(int64_t(timeout_s * 1000));
  size_t live = LiveSessions();
  while (live > 0 && received == 0 && std::chrono::steady_clock::now() < deadline) {
    signal_io.restart();
    signal_io.run_for(std::chrono::milliseconds(50));
    live = LiveSessions();
  }
  signals.cancel();
  if (live == 0) {
    LogInfo("drained: every client session ended");
  } else {
    LogWarn(absl::StrCat(received != 0 ? "signal again" : "shutdown timeout", ": closing ", live,
                         " client sessions still open"));
  }
  received = first;
}

absl::Status Server::Run() {
  if (absl::Status s = Prepare(); !s.ok()) return s;
  // Before any thread starts: SIGTERM during start-up is a clean shutdown.
  asio::io_context signal_io(1);
  asio::signal_set signals(signal_io, SIGINT, SIGTERM, SIGHUP);
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<WorkerHandle> handles;
  for (auto& w : workers_) handles.push_back({&w->io, &w->context});
  for (auto& w : workers_) w->context.peers = handles;
  // The backend monitor feeds every worker's WorkerContext::health.
  auto monitor = StartBackendMonitor(shared_, handles);
  if (!monitor.ok()) return monitor.status();
  BackendMonitor* health_source = monitor->get();
  AdminServer admin(shared_, std::move(handles), [health_source] { return health_source->Latest(); });
  if (absl::Status s = admin.Start(); !s.ok()) return s;
  for (auto& w : workers_) {
    error_code ec;
    w->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", shared_.config.listen.ToString(), ": ", ec.message()));
    }
  }
  for (auto& w : workers_) {
    Worker* worker = w.get();
    asio::co_spawn(worker->io, Accept(*worker, *worker->acceptor), asio::detached);
    if (worker->context.n_plus_one.enabled()) {
      asio::co_spawn(worker->io,
                     RunNPlusOnePoller(&worker->context.n_plus_one, &worker->context.sessions),
                     asio::detached);
    }
    worker->thread = std::thread([worker] {
      // "ql-worker-N" in top -H, perf and bench/per_query.sh.
      const std::string name = absl::StrCat("ql-worker-", worker->context.worker_index);
      pthread_setname_np(pthread_self(), name.c_str());
      CountHeapAllocationsAsWorker();  // allocation-counting build only
      worker->io.run();
    });
  }
  LogInfo(absl::StrCat("querylens listening on ", shared_.config.listen.ToString(), " with ",
                       workers_.size(), " workers; primary ", shared_.primary.Name()));
  int received = 0;
  std::function<void(const error_code&, int)> on_signal = [&](const error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      // Log rotation: reopen files, keep serving.
      LogInfo("SIGHUP: reopening the slow log");
      if (shared_.slow_log) shared_.slow_log->Reopen();
      signals.async_wait(on_signal);
      return;
    }
    received = sig;
  };
  signals.async_wait(on_signal);
  signal_io.run();
  if (shared_.config.shutdown_timeout_s > 0) {
    admin.StartDraining();
    Drain(signal_io, signals, on_signal, received);
  }
  LogInfo(absl::StrCat("signal ", received, ": shutting down"));
  // The admin thread reads the workers: it stops first.
  admin.Stop();
  (*monitor)->Stop();
  for (auto& w : workers_) {
    asio::post(w->io, [worker = w.get()] {
      error_code ignored;
      worker->acceptor->close(ignored);
      worker->context.pool->Shutdown();
      worker->io.stop();
    });
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  return absl::OkStatus();
}

}  // namespace ql::proxy
