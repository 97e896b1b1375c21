// ResponseRelay streams one server response from a backend connection to the
// client as it arrives: it reads large chunks, finds frame boundaries, lets
// the ResponseTracker inspect only what it needs, and writes the same bytes
// on to the client in one write per chunk. It also carries the client's
// LOCAL INFILE data to the server when the server asks for a file (the file
// always comes from the client; the proxy never opens one).
#pragma once

#include <chrono>

#include "protocol/framing.h"
#include "protocol/response_tracker.h"
#include "proxy/asio.h"
#include "proxy/transport.h"

namespace ql::proxy {

struct RelayTimeouts {
  Clock::duration backend_read;
  Clock::duration client_write;
  Clock::duration client_read;  // LOCAL INFILE data from the client
};

enum class RelayStatus {
  kComplete,          // the response reached the client whole
  kBackendFailed,     // backend failed before any byte reached the client
  kBackendFailedMidway,  // backend failed after part of the response was sent
  kClientFailed,      // the client is gone or stalled
  kProtocolError,     // the backend sent something the tracker rejects
};

struct RelayResult {
  RelayStatus status = RelayStatus::kComplete;
  error_code ec;
  std::string detail;
  Clock::time_point first_byte;  // when the first response byte arrived
  uint64_t bytes_to_client = 0;
};

class ResponseRelay {
 public:
  ResponseRelay() : client_packets_(1u << 30) {}

  // `first_sequence_id` is what the response's first frame must carry; a
  // backend that sends anything else is out of step (a stale connection).
  awaitable<RelayResult> Relay(Transport& backend, Transport& client,
                               protocol::ResponseTracker& tracker, const RelayTimeouts& timeouts,
                               uint8_t first_sequence_id);

 private:
  awaitable<RelayResult> RelayLocalInfile(Transport& backend, Transport& client,
                                          const RelayTimeouts& timeouts);

  protocol::PacketReader client_packets_;
};

}  // namespace ql::proxy
