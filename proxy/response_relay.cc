// Implementation of ResponseRelay.
#include "proxy/response_relay.h"

#include <algorithm>

namespace ql::proxy {
namespace {
using protocol::ByteSpan;
using protocol::kFrameHeaderSize;
using protocol::kTrackerWholeFrameLimit;
}  // namespace

awaitable<RelayResult> ResponseRelay::Relay(Transport& backend, Transport& client,
                                            protocol::ResponseTracker& tracker,
                                            const RelayTimeouts& timeouts,
                                            uint8_t first_sequence_id) {
  RelayResult result;
  bool first_frame = true;
  bool sent_any = false;
  bool got_any = false;
  // Bytes of a long frame still to pass through without inspection.
  uint64_t passthrough = 0;
  while (true) {
    ByteSpan data = backend.buffered();
    size_t pos = 0;       // parsed and ready to forward
    bool done = false;
    bool infile = false;
    while (pos < data.size() && !done && !infile) {
      if (passthrough > 0) {
        size_t n = size_t(std::min<uint64_t>(passthrough, data.size() - pos));
        pos += n;
        passthrough -= n;
        continue;
      }
      if (data.size() - pos < kFrameHeaderSize) break;
      auto header = protocol::DecodeFrameHeader(data.data() + pos);
      if (first_frame) {
        first_frame = false;
        if (header.sequence_id != first_sequence_id) {
          result.status = RelayStatus::kBackendFailed;
          result.ec = asio::error::make_error_code(asio::error::invalid_argument);
          result.detail = "backend answered out of sequence";
          co_return result;
        }
      }
      size_t avail = data.size() - pos - kFrameHeaderSize;
      ByteSpan payload;
      if (header.payload_length < kTrackerWholeFrameLimit) {
        if (avail < header.payload_length) break;  // wait for the whole frame
        payload = data.subspan(pos + kFrameHeaderSize, header.payload_length);
      } else {
        if (avail == 0) break;
        payload = data.subspan(pos + kFrameHeaderSize, std::min<size_t>(avail, header.payload_length));
      }
      auto event = tracker.OnFrame(header.payload_length, payload);
      if (!event.ok()) {
        backend.Consume(pos);
        result.status = RelayStatus::kProtocolError;
        result.detail = std::string(event.status().message());
        co_return result;
      }
      pos += kFrameHeaderSize + payload.size();
      passthrough = header.payload_length - payload.size();
      if (*event == protocol::ResponseTracker::Event::kDone) done = true;
      if (*event == protocol::ResponseTracker::Event::kLocalInfileRequest) infile = true;
    }
    if (done && pos < data.size()) {
      // Bytes after a complete response: the backend is out of step with us.
      result.status = RelayStatus::kProtocolError;
      result.detail = "backend sent data after the end of a response";
      co_return result;
    }
    if (pos > 0) {
      // Usually the kernel takes it all at once: no coroutine for the write.
      error_code ec;
      const size_t sent = client.TrySend(data.first(pos), &ec);
      if (!ec && sent < pos) {
        client.SetTimeout(timeouts.client_write);
        ec = co_await client.Write(data.subspan(sent, pos - sent));
      }
      backend.Consume(pos);
      result.bytes_to_client += pos;
      if (ec) {
        result.status = RelayStatus::kClientFailed;
        result.ec = ec;
        co_return result;
      }
      sent_any = true;
    }
    if (done) co_return result;
    if (infile) {
      RelayResult r = co_await RelayLocalInfile(backend, client, timeouts);
      if (r.status != RelayStatus::kComplete) co_return r;
      tracker.ResumeAfterLocalInfile();
      continue;
    }
    // Grow the buffer only as far as the frame being waited for needs.
    size_t min_free = 64 * 1024;
    ByteSpan rest = backend.buffered();
    if (passthrough == 0 && rest.size() >= kFrameHeaderSize) {
      auto h = protocol::DecodeFrameHeader(rest.data());
      if (h.payload_length < kTrackerWholeFrameLimit) {
        min_free = std::max<size_t>(min_free, kFrameHeaderSize + h.payload_length - rest.size());
      }
    }
    error_code ec;
    if (!backend.TryFill(min_free, &ec)) {
      backend.SetTimeout(timeouts.backend_read);
      ec = co_await backend.WaitAndFill(min_free);
    }
    if (ec) {
      result.status = sent_any ? RelayStatus::kBackendFailedMidway : RelayStatus::kBackendFailed;
      result.ec = ec;
      co_return result;
    }
    if (!got_any) {
      got_any = true;
      result.first_byte = Clock::now();
    }
  }
}

awaitable<RelayResult> ResponseRelay::RelayLocalInfile(Transport& backend, Transport& client,
                                                       const RelayTimeouts& timeouts) {
  RelayResult result;
  while (true) {
    client.SetTimeout(timeouts.client_read);
    if (error_code ec = co_await client.ReadPacket(client_packets_); ec) {
      result.status = RelayStatus::kClientFailed;
      result.ec = ec;
      co_return result;
    }
    ByteSpan packet = client_packets_.packet();
    uint8_t seq = client_packets_.first_sequence_id();
    backend.SetTimeout(timeouts.backend_read);
    if (error_code ec = co_await backend.WritePacket(packet, seq); ec) {
      result.status = RelayStatus::kBackendFailedMidway;
      result.ec = ec;
      co_return result;
    }
    if (packet.empty()) co_return result;  // the empty packet ends the file
  }
}

}  // namespace ql::proxy
