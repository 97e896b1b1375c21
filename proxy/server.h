// Server: the worker threads (one io_context each, one per core by default),
// a listening socket per worker on the same port (SO_REUSEPORT lets the
// kernel spread connections, so no worker hands sockets to another), and
// orderly shutdown on SIGINT/SIGTERM.
#pragma once

#include <memory>
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

  SharedState shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Builds the read-only state: TLS contexts, RSA key, primary's greeting.
absl::StatusOr<SharedState> BuildSharedState(Config config);

}  // namespace ql::proxy
