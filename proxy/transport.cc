// Implementation of Transport.
#include "proxy/transport.h"

#include <algorithm>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ql::proxy {

Transport::Transport(tcp::socket socket)
    : socket_(std::move(socket)), watchdog_(socket_.get_executor()) {
  buf_.resize(16 * 1024);
}

Transport::~Transport() = default;

void Transport::SetTimeout(Clock::duration d) {
  timed_out_ = false;
  deadline_ = Clock::now() + d;
  if (!watchdog_pending_) {
    ArmWatchdog();
  } else if (deadline_ < watchdog_.expiry()) {
    watchdog_.expires_at(deadline_);  // aborts the pending wait
    ArmWatchdog();
  }
}

void Transport::ArmWatchdog() {
  watchdog_pending_ = true;
  watchdog_.expires_at(deadline_);
  watchdog_.async_wait([weak = weak_from_this()](const error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    if (auto self = weak.lock()) self->OnWatchdog(ec);
  });
}

void Transport::OnWatchdog(const error_code&) {
  watchdog_pending_ = false;
  if (!socket_.is_open()) return;
  if (Clock::now() >= deadline_) {
    timed_out_ = true;
    error_code ignored;
    socket_.cancel(ignored);
    return;
  }
  ArmWatchdog();
}

awaitable<error_code> Transport::StartTlsServer(ssl::context& ctx) {
  tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, ctx);
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::server, use_tuple);
  if (timed_out_) ec = TimedOutError();
  co_return ec;
}

awaitable<error_code> Transport::StartTlsClient(ssl::context& ctx, const std::string& host,
                                               bool verify) {
  tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, ctx);
  if (verify) {
    tls_->set_verify_mode(ssl::verify_peer);
    tls_->set_verify_callback(ssl::host_name_verification(host));
  } else {
    tls_->set_verify_mode(ssl::verify_none);
  }
  SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::client, use_tuple);
  if (timed_out_) ec = TimedOutError();
  co_return ec;
}

void Transport::Consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

void Transport::Compact(size_t min_free) {
  if (buf_.size() - end_ >= min_free) return;
  size_t have = end_ - begin_;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, have);
    begin_ = 0;
    end_ = have;
  }
  if (buf_.size() - end_ < min_free) buf_.resize(end_ + min_free);
}

awaitable<error_code> Transport::Fill(size_t min_free) {
  Compact(min_free);
  auto buffer = asio::buffer(buf_.data() + end_, buf_.size() - end_);
  error_code ec;
  size_t n = 0;
  if (tls_) {
    std::tie(ec, n) = co_await tls_->async_read_some(buffer, use_tuple);
  } else {
    std::tie(ec, n) = co_await socket_.async_read_some(buffer, use_tuple);
  }
  end_ += n;
  if (ec && timed_out_) ec = TimedOutError();
  co_return ec;
}

awaitable<error_code> Transport::Write(protocol::ByteSpan data) {
  error_code ec;
  auto buffer = asio::buffer(data.data(), data.size());
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, buffer, use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(socket_, buffer, use_tuple);
  }
  if (ec && timed_out_) ec = TimedOutError();
  co_return ec;
}

awaitable<error_code> Transport::ReadPacket(protocol::PacketReader& reader) {
  while (true) {
    protocol::ByteSpan input = buffered();
    size_t before = input.size();
    auto result = reader.Feed(input);
    Consume(before - input.size());
    if (result == protocol::PacketReader::Result::kPacketReady) co_return error_code();
    if (result == protocol::PacketReader::Result::kError) {
      co_return asio::error::make_error_code(asio::error::invalid_argument);
    }
    if (error_code ec = co_await Fill(); ec) co_return ec;
  }
}

awaitable<error_code> Transport::ReadPacketExact(protocol::PacketReader& reader) {
  uint8_t header[protocol::kFrameHeaderSize];
  protocol::Bytes payload;
  while (true) {
    auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(header), use_tuple);
    if (ec) co_return timed_out_ ? TimedOutError() : ec;
    protocol::ByteSpan input(header, sizeof header);
    auto result = reader.Feed(input);
    if (result == protocol::PacketReader::Result::kError) {
      co_return asio::error::make_error_code(asio::error::invalid_argument);
    }
    if (result == protocol::PacketReader::Result::kPacketReady) co_return error_code();
    // The reader accepted the header, so the length is within its limit.
    payload.resize(protocol::DecodeFrameHeader(header).payload_length);
    std::tie(ec, n) = co_await asio::async_read(socket_, asio::buffer(payload), use_tuple);
    if (ec) co_return timed_out_ ? TimedOutError() : ec;
    input = payload;
    result = reader.Feed(input);
    if (result == protocol::PacketReader::Result::kPacketReady) co_return error_code();
    if (result == protocol::PacketReader::Result::kError) {
      co_return asio::error::make_error_code(asio::error::invalid_argument);
    }
  }
}

awaitable<error_code> Transport::WritePacket(protocol::ByteSpan payload, uint8_t& seq) {
  write_scratch_.clear();
  seq = protocol::AppendFrames(write_scratch_, payload, seq);
  co_return co_await Write(write_scratch_);
}

bool Transport::PeerClosedOrSentData() {
  if (!socket_.is_open() || end_ > begin_) return true;
  char byte;
  ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  return true;  // 0: closed; >0: data nobody asked for
}

void Transport::SendNowIfPossible(protocol::ByteSpan data) {
  if (!socket_.is_open()) return;
  ssize_t ignored = ::send(socket_.native_handle(), data.data(), data.size(),
                           MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)ignored;
}

void Transport::Close() {
  error_code ignored;
  watchdog_.cancel();
  if (socket_.is_open()) {
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }
}

std::string Transport::remote_address() const {
  error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string();
}

}  // namespace ql::proxy
