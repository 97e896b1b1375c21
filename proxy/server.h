// Server: the worker threads (one io_context each, one per core by default),
// a listening socket per worker on the same port (SO_REUSEPORT lets the
// kernel spread connections, so no worker hands sockets to another), and
// orderly shutdown on SIGINT/SIGTERM.
#pragma once

#include <memory>
#include <functional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "proxy/asio.h"
#include "proxy/worker_context.h"

namespace ql::proxy {

class Server {
 public:
  explicit Server(SharedState shared);
  ~Server();

  // Binds, starts the workers and blocks until a stop signal arrives.
  absl::Status Run();

 private:
  struct Worker;

  absl::Status Prepare();
  awaitable<void> Accept(Worker& worker, tcp::acceptor& acceptor);
  // Shutdown drain after the first SIGTERM/SIGINT: stops accepting, ends
  // idle sessions and lets the others finish their statement or
  // transaction, until none is left, --shutdown-timeout passed or another
  // signal came (handled by `on_signal`, which sets `received`).
  void Drain(asio::io_context& signal_io, asio::signal_set& signals,
             std::function<void(const error_code&, int)>& on_signal, int& received);
  size_t LiveSessions() const;  // any thread

  SharedState shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Builds the read-only state: TLS contexts, RSA key, primary's greeting.
absl::StatusOr<SharedState> BuildSharedState(Config config);

}  // namespace ql::proxy
