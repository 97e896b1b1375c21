// BackendExchange: the proxy's own command/response round trips on a backend
// connection (state replay, re-preparing statements, resets), read whole
// and never shown to the client unless the caller forwards the frames.
#pragma once

#include <string>

#include "protocol/command.h"
#include "protocol/framing.h"
#include "protocol/response_tracker.h"
#include "proxy/asio.h"
#include "proxy/backend_connection.h"

namespace ql::proxy {

struct ExchangeResult {
  error_code ec;                     // I/O failure (the connection is then unusable)
  bool protocol_error = false;       // the server sent something out of step
  protocol::ResponseSummary summary;  // valid when !failed()
  std::string server_message;        // the ERR message, when the server sent one

  bool failed() const { return ec || protocol_error; }
  bool ok() const { return !failed() && summary.error_code == 0; }
};

// Sends `payload` as a new command (sequence 0) and reads the whole response
// (at most 16 MiB). With `frames_out`, the response's payloads are framed
// again into it, numbered from `first_out_seq`, ready to go to a client.
awaitable<ExchangeResult> ExchangeCommand(BackendConnection& conn, protocol::ByteSpan payload,
                                          protocol::ResponseKind kind, Clock::duration timeout,
                                          protocol::Bytes* frames_out = nullptr,
                                          uint8_t first_out_seq = 1);

// COM_QUERY with `sql`; true when the server answered OK (or a result set).
awaitable<ExchangeResult> ExchangeQuery(BackendConnection& conn, std::string_view sql,
                                        Clock::duration timeout);

}  // namespace ql::proxy
