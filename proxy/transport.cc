// Implementation of Transport.
//
// The plain-TCP hot path avoids two costs of Asio's default socket I/O (each
// a syscall, and syscalls dominate a proxied statement's cost):
// - A write first tries one non-blocking send. An async write that completes
//   at once still posts its completion, and the scheduler polls epoll
//   (epoll_wait with timeout 0) before running it.
// - A read first tries one non-blocking recv only when data may be there;
//   when the socket is known to be drained it waits for epoll's edge without
//   a recv that would fail with EAGAIN (see ReadHint below).
// TLS goes through Asio's ssl::stream as before.
#include "proxy/transport.h"

#include <algorithm>
#include <sys/socket.h>

#include <boost/version.hpp>
#include <cerrno>
#include <cstring>

namespace ql::proxy {

// ReadHint: Asio's epoll reactor keeps per socket a flag "an edge may have
// come since a read last found the socket empty" (try_speculative_), and an
// async read starts with a recv only while it is set. Asio sets it on every
// epoll event but clears it only at end of file, so every async read began
// with a recv, which fails with EAGAIN whenever nothing can be there yet:
// the backend right after a command was sent, the client right after its
// answer. The transport clears the flag itself when a recv returned less
// than it asked for (the kernel had nothing more at that instant). Data that
// arrives later raises an epoll event, which sets the flag again before any
// read waits (the reactor runs on this thread only), so nothing is missed.
// An end of file is the exception: a FIN queued behind the data is taken by
// the short recv itself, its event came before that recv, and the next recv
// would return 0 at once. So after a short read the flag is trusted only once
// something was sent on the socket (a peer that closed its socket answers
// with a reset, which raises an event): the first read after a command or an
// answer. Reads in the middle of a response, and after a command that gets
// no answer (COM_STMT_CLOSE), start with a recv, as in plain Asio. A client
// that only half-closes (shutdown of its writes) after its last command is
// still seen only at --client-idle-timeout.
//
// The flag and the socket's reactor data are Asio internals (private and
// protected members); they are reached through explicit template
// instantiation, the one place C++ allows naming them. This is checked
// against Boost 1.81's epoll_reactor (start_op, perform_io); with any other
// Boost or reactor the hint is off and reads behave as plain Asio reads.
#if BOOST_VERSION / 100 == 1081 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define QUERYLENS_READ_HINT 1
namespace {

template <typename Tag, typename Tag::type Member>
struct MemberAccess {
  friend typename Tag::type Get(Tag) { return Member; }
};

using Reactor = asio::detail::epoll_reactor;
using SocketBase = asio::basic_socket<tcp, asio::any_io_executor>;

struct SocketImplTag {
  using type = asio::detail::io_object_impl<asio::detail::reactive_socket_service<tcp>,
                                            asio::any_io_executor> SocketBase::*;
  friend type Get(SocketImplTag);
};
template struct MemberAccess<SocketImplTag, &SocketBase::impl_>;

struct TrySpeculativeTag {
  using type = bool (Reactor::descriptor_state::*)[Reactor::max_ops];
  friend type Get(TrySpeculativeTag);
};
template struct MemberAccess<TrySpeculativeTag, &Reactor::descriptor_state::try_speculative_>;

}  // namespace

// The socket's "try a recv first" flag for reads; null when not registered
// with the reactor (not open yet).
static bool* ReadHint(tcp::socket& socket) {
  SocketBase& base = socket;
  Reactor::descriptor_state* state = (base.*Get(SocketImplTag{})).get_implementation().reactor_data_;
  if (state == nullptr) return nullptr;
  return &(state->*Get(TrySpeculativeTag{}))[Reactor::read_op];
}
#else
#define QUERYLENS_READ_HINT 0
#endif

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

bool Transport::TryFill(size_t min_free, error_code* ec) {
  if (tls_) return false;
#if QUERYLENS_READ_HINT
  bool* may_have_data = ReadHint(socket_);
  if (may_have_data == nullptr || (!*may_have_data && !drained_unconfirmed_)) return false;
  Compact(min_free);
  const size_t space = buf_.size() - end_;
  ssize_t got;
  do {
    got = ::recv(socket_.native_handle(), buf_.data() + end_, space, MSG_DONTWAIT);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    end_ += size_t(got);
    // Less than asked: the kernel had no more (but see drained_unconfirmed_).
    if (size_t(got) < space) {
      *may_have_data = false;
      drained_unconfirmed_ = true;
    }
    return true;
  }
  if (got == 0) {
    *ec = asio::error::make_error_code(asio::error::eof);
    return true;
  }
  if (errno != EAGAIN && errno != EWOULDBLOCK) {
    *ec = error_code(errno, asio::error::get_system_category());
    return true;
  }
  *may_have_data = false;
  drained_unconfirmed_ = false;  // EAGAIN: no end of file is waiting
  return false;
#else
  (void)min_free;
  (void)ec;
  return false;
#endif
}

awaitable<error_code> Transport::Fill(size_t min_free) {
  error_code ec;
  if (TryFill(min_free, &ec)) co_return ec;
  co_return co_await WaitAndFill(min_free);
}

awaitable<error_code> Transport::WaitAndFill(size_t min_free) {
  Compact(min_free);
  const size_t space = buf_.size() - end_;
  auto buffer = asio::buffer(buf_.data() + end_, space);
  error_code ec;
  size_t n = 0;
  if (tls_) {
    std::tie(ec, n) = co_await tls_->async_read_some(buffer, use_tuple);
  } else {
    // After TryFill, the hint flag is down: Asio queues the read without a
    // recv and performs it when epoll reports the socket readable.
    std::tie(ec, n) = co_await socket_.async_read_some(buffer, use_tuple);
#if QUERYLENS_READ_HINT
    // That recv was made inside the reactor's event processing, and this
    // coroutine resumed from there directly (the read is the only
    // operation on this socket), with no epoll_wait in between: a short
    // read still means the socket is drained.
    if (!ec && n < space) {
      if (bool* flag = ReadHint(socket_)) *flag = false;
      drained_unconfirmed_ = true;
    }
#endif
  }
  end_ += n;
  if (ec && timed_out_) ec = TimedOutError();
  co_return ec;
}

size_t Transport::TrySend(protocol::ByteSpan data, error_code* ec) {
  if (tls_) return 0;
  drained_unconfirmed_ = false;
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(socket_.native_handle(), data.data() + sent, data.size() - sent,
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += size_t(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        *ec = error_code(errno, asio::error::get_system_category());
      }
      break;
    }
  }
  return sent;
}

awaitable<error_code> Transport::Write(protocol::ByteSpan data) {
  error_code ec;
  const size_t sent = TrySend(data, &ec);
  if (ec || sent == data.size()) co_return ec;
  auto rest = asio::buffer(data.data() + sent, data.size() - sent);
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, rest, use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(socket_, rest, use_tuple);
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
    error_code ec;
    if (!TryFill(16 * 1024, &ec)) ec = co_await WaitAndFill(16 * 1024);
    if (ec) co_return ec;
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
  // Most commands go out whole at once: no coroutine of Write() then.
  error_code ec;
  const size_t sent = TrySend(write_scratch_, &ec);
  if (ec || sent == write_scratch_.size()) co_return ec;
  co_return co_await Write(protocol::ByteSpan(write_scratch_).subspan(sent));
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
