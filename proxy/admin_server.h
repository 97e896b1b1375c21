// AdminServer: the HTTP side door (Boost.Beast, loopback by default) that
// operators and orchestrators poll: /healthz (the process serves) and /readyz
// (the primary answers). It runs on a thread of its own so that a slow scrape
// never delays a worker. Metrics and JSON APIs are added here as they come.
#pragma once

#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "proxy/asio.h"
#include "proxy/worker_context.h"

namespace ql::proxy {

class AdminServer {
 public:
  explicit AdminServer(const SharedState& shared);
  ~AdminServer();

  // Binds the admin address and starts serving on its own thread.
  absl::Status Start();
  void Stop();

 private:
  awaitable<void> Accept();
  awaitable<void> Serve(tcp::socket socket);

  const SharedState& shared_;
  asio::io_context io_{1};
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::thread thread_;
};

}  // namespace ql::proxy
