// Whole-response round trips of the proxy's own; see backend_exchange.h.
#include "proxy/backend_exchange.h"

#include "protocol/generic_packets.h"

namespace ql::proxy {

namespace {
constexpr size_t kMaxExchangePacket = size_t(16) << 20;
}

awaitable<ExchangeResult> ExchangeCommand(BackendConnection& conn, protocol::ByteSpan payload,
                                          protocol::ResponseKind kind, Clock::duration timeout,
                                          protocol::Bytes* frames_out, uint8_t first_out_seq) {
  ExchangeResult result;
  Transport& t = conn.transport();
  t.SetTimeout(timeout);
  uint8_t seq = 0;
  result.ec = co_await t.WritePacket(payload, seq);
  if (result.ec) {
    conn.MarkBroken();
    co_return result;
  }
  protocol::ResponseTracker tracker;
  tracker.Start(kind, conn.capabilities());
  protocol::PacketReader reader(kMaxExchangePacket);
  uint8_t out_seq = first_out_seq;
  bool first = true;
  while (!tracker.done()) {
    result.ec = co_await t.ReadPacket(reader);
    if (result.ec) {
      conn.MarkBroken();
      co_return result;
    }
    protocol::ByteSpan packet = reader.packet();
    if (first && reader.first_sequence_id() != 1) {
      result.protocol_error = true;
      conn.MarkBroken();
      co_return result;
    }
    first = false;
    if (!packet.empty() && packet[0] == 0xff) {
      if (auto err = protocol::DecodeErr(packet); err.ok()) {
        result.server_message = err->message;
      }
    }
    auto event = tracker.OnFrame(uint32_t(packet.size()), packet);
    if (!event.ok() || *event == protocol::ResponseTracker::Event::kLocalInfileRequest) {
      // The proxy's own statements never ask for a file.
      result.protocol_error = true;
      conn.MarkBroken();
      co_return result;
    }
    if (frames_out != nullptr) out_seq = protocol::AppendFrames(*frames_out, packet, out_seq);
  }
  result.summary = tracker.summary();
  co_return result;
}

awaitable<ExchangeResult> ExchangeQuery(BackendConnection& conn, std::string_view sql,
                                        Clock::duration timeout) {
  protocol::Bytes command;
  protocol::EncodeStringCommand(command, protocol::Command::kQuery, sql);
  ExchangeResult r = co_await ExchangeCommand(conn, command, protocol::ResponseKind::kResultSet,
                                              timeout);
  co_return r;
}

}  // namespace ql::proxy
