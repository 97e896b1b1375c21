// Transport: one TCP connection, optionally upgraded to TLS in place (MySQL's
// SSLRequest happens mid-handshake), with a reusable read buffer and a
// deadline watchdog. Every read and write runs under a deadline: the watchdog
// costs one timer per connection, re-armed only when it fires, so setting a
// deadline on the hot path is just a store.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "protocol/framing.h"
#include "protocol/wire_codec.h"
#include "proxy/asio.h"

namespace ql::proxy {

using Clock = std::chrono::steady_clock;

// Configuration seconds (a double) as a clock duration.
inline Clock::duration SecondsToDuration(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

class Transport : public std::enable_shared_from_this<Transport> {
 public:
  explicit Transport(tcp::socket socket);
  ~Transport();

  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  awaitable<error_code> StartTlsServer(ssl::context& ctx);
  awaitable<error_code> StartTlsClient(ssl::context& ctx, const std::string& host, bool verify);
  bool tls_active() const { return tls_ != nullptr; }

  // Operations after this deadline fail with timed_out.
  void SetTimeout(Clock::duration d);
  bool timed_out() const { return timed_out_; }

  // The read buffer: bytes received and not yet consumed.
  protocol::ByteSpan buffered() const { return {buf_.data() + begin_, end_ - begin_}; }
  void Consume(size_t n);
  // Reads at least one more byte into the buffer, growing it to hold at least
  // `min_free` free bytes first.
  awaitable<error_code> Fill(size_t min_free = 16 * 1024);
  // Fill without waiting: true when it read something or failed (then
  // `*ec` is set), false when nothing could be there yet and Fill() must
  // wait. Lets a hot loop skip the coroutine of Fill() when data is there.
  bool TryFill(size_t min_free, error_code* ec);
  // Fill() after TryFill() returned false: waits for the socket.
  awaitable<error_code> WaitAndFill(size_t min_free);

  awaitable<error_code> Write(protocol::ByteSpan data);
  // Write without waiting: sends what the kernel takes at once (plain TCP;
  // nothing with TLS) and returns how many bytes that was; on a failure
  // `*ec` is set. The rest goes through Write().
  size_t TrySend(protocol::ByteSpan data, error_code* ec);

  // Reads one whole packet (frames joined) into `reader`.
  awaitable<error_code> ReadPacket(protocol::PacketReader& reader);
  // Reads one packet without reading a byte past it. Used for the client's
  // first packet: a TLS ClientHello may follow an SSLRequest in the same
  // segment, and it must be left on the socket for the TLS layer.
  awaitable<error_code> ReadPacketExact(protocol::PacketReader& reader);
  // Frames `payload` and writes it; `seq` is advanced past the frames.
  awaitable<error_code> WritePacket(protocol::ByteSpan payload, uint8_t& seq);

  // For an idle connection: true if the peer closed it or sent something
  // unasked (a server's shutdown notice). One non-blocking peek, no wait.
  bool PeerClosedOrSentData();

  // Best effort, never waits: a few bytes the kernel can take at once.
  void SendNowIfPossible(protocol::ByteSpan data);

  void Close();
  bool is_open() const { return socket_.is_open(); }
  std::string remote_address() const;  // IP only
  tcp::socket& socket() { return socket_; }

 private:
  void ArmWatchdog();
  void OnWatchdog(const error_code& ec);
  void Compact(size_t min_free);

  tcp::socket socket_;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer watchdog_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool watchdog_pending_ = false;
  bool timed_out_ = false;
  // The last read came back short, so the socket was drained then, but an
  // end of file (FIN) queued behind that data may have been taken by the
  // same recv: its epoll event came before it, and no other will come.
  // Until something is sent (a dead peer answers that with a reset, which
  // raises an event), a read must start with a recv.
  bool drained_unconfirmed_ = false;
  protocol::Bytes buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
  protocol::Bytes write_scratch_;
};

// error_code for a deadline that expired.
inline error_code TimedOutError() { return asio::error::timed_out; }

}  // namespace ql::proxy
