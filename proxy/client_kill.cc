// KILL [QUERY | CONNECTION] <id> and COM_PROCESS_KILL: the id a client knows
// is the proxy's own connection id (it came in the proxy's handshake), never
// a backend's thread id. Forwarded as written, a backend would kill
// whichever of its threads happens to carry that number. So the proxy finds
// the session of that id on its worker (WorkerContext::WorkerOfConnectionId),
// checks that it belongs to the same user, stops the statement it runs with
// KILL QUERY of the backend thread that runs it, sent on this session's own
// connection to that backend, and for KILL CONNECTION closes that client
// connection. Killing another user's session through the proxy is refused
// (1095), whatever the user's privileges on the servers.
#include "absl/strings/str_cat.h"
#include "protocol/constants.h"
#include "proxy/backend_exchange.h"
#include "proxy/client_session.h"
#include "proxy/logging.h"

namespace ql::proxy {
namespace {

// On the thread of `worker`: the session with connection id `id`, as a KILL
// by `user` finds it.
KillLookup LookUpKill(WorkerContext& worker, const analyzer::KillStatement& kill,
                      const std::string& user) {
  auto it = worker.sessions.entries().find(kill.id);
  if (it == worker.sessions.entries().end() || it->second.refs.session == nullptr) return {};
  return it->second.refs.session->OnKill(user, kill.query_only);
}

}  // namespace

KillLookup ClientSession::OnKill(const std::string& killer_user, bool query_only) {
  KillLookup found;
  found.found = true;
  found.owner = user_ != nullptr && user_->name == killer_user;
  if (!found.owner) return found;
  if (running_slot_ >= 0 && held_[running_slot_].conn) {
    const BackendConnection& conn = *held_[running_slot_].conn;
    found.running = true;
    found.backend = conn.address();
    found.thread_id = conn.server_connection_id();
  }
  if (!query_only) {
    LogInfo(absl::StrCat("client ", Describe(), ": killed by KILL CONNECTION"));
    client_->Close();  // the session ends at its next read or write of the client
  }
  return found;
}

awaitable<bool> ClientSession::AnswerKillError(const MysqlError& error, uint8_t reply_seq) {
  // SHOW WARNINGS after the KILL follows the last statement to its server:
  // raising the same error on the primary puts it in that server's
  // diagnostics area, in place of the previous statement's, as on a direct
  // connection.
  const SlotOutcome ready = co_await ReadySlot(kPrimarySlot, reply_seq);
  if (ready == SlotOutcome::kErrorQueuedEnd) {
    // The primary was lost with the session's transaction or pins: that
    // ends the session, as for any other command.
    co_await FlushQueued();
    co_return false;
  }
  if (ready == SlotOutcome::kReady) {
    const std::string sql = absl::StrCat("SIGNAL SQLSTATE '", error.sql_state,
                                         "' SET MYSQL_ERRNO = ", error.code, ", MESSAGE_TEXT = '",
                                         error.message, "'");
    ExchangeResult r =
        co_await ExchangeQuery(*held_[kPrimarySlot].conn, sql, timeouts_.backend_read);
    if (r.failed()) held_[kPrimarySlot].conn->MarkBroken();
    last_slot_ = kPrimarySlot;
  }
  QueueError(error, reply_seq);
  co_await FlushQueued();
  co_return true;
}

awaitable<bool> ClientSession::Kill(analyzer::KillStatement kill, uint8_t reply_seq) {
  const std::string user = user_ != nullptr ? user_->name : std::string();
  if (kill.id == connection_id_) {
    // As on the server: the KILL interrupts itself.
    if (kill.query_only) {
      const MysqlError error{errc::kQueryInterrupted, "70100", "Query execution was interrupted"};
      co_return co_await AnswerKillError(error, reply_seq);
    }
    QueueError({errc::kBackendLost, "70100", "Connection was killed"}, reply_seq);
    co_await FlushQueued();
    co_return false;
  }
  KillLookup found;
  const int owner = WorkerContext::WorkerOfConnectionId(kill.id, worker_.worker_count);
  if (owner >= 0 && size_t(owner) < worker_.peers.size()) {
    const WorkerHandle peer = worker_.peers[owner];
    if (peer.context == &worker_) {
      found = LookUpKill(worker_, kill, user);
    } else {
      // Hop to the owner's thread (only it may touch its sessions), look,
      // hop back; nothing of this session is touched over there.
      asio::any_io_executor home = co_await asio::this_coro::executor;
      asio::any_io_executor there = peer.io->get_executor();
      auto on_peer = asio::bind_executor(there, asio::use_awaitable);
      co_await asio::post(there, on_peer);
      found = LookUpKill(*peer.context, kill, user);
      auto back_home = asio::bind_executor(home, asio::use_awaitable);
      co_await asio::post(home, back_home);
    }
  }
  if (!found.found || !found.owner) {
    const MysqlError error = found.found ? NotOwnerOfThread(kill.id) : NoSuchThread(kill.id);
    co_return co_await AnswerKillError(error, reply_seq);
  }
  if (found.running) {
    int slot = -1;
    if (found.backend == worker_.shared.primary) {
      slot = kPrimarySlot;
    } else if (!held_[kReplicaSlot].conn ||
               held_[kReplicaSlot].conn->address() == found.backend) {
      slot = kReplicaSlot;
    }
    SlotOutcome ready = SlotOutcome::kRetryOnPrimary;
    if (slot >= 0) ready = co_await ReadySlot(slot, reply_seq);
    if (ready == SlotOutcome::kReady && slot >= 0 && held_[slot].conn &&
        held_[slot].conn->address() == found.backend) {
      const std::string sql = absl::StrCat("KILL QUERY ", found.thread_id);
      ExchangeResult r = co_await ExchangeQuery(*held_[slot].conn, sql, timeouts_.backend_read);
      if (r.failed()) held_[slot].conn->MarkBroken();
      // ERR 1094 here only means the statement finished meanwhile.
      last_slot_ = slot;
    } else if (ready == SlotOutcome::kErrorQueued || ready == SlotOutcome::kErrorQueuedEnd) {
      co_await FlushQueued();
      co_return ready == SlotOutcome::kErrorQueued;
    } else {
      LogWarn(absl::StrCat("client ", Describe(), ": KILL ", kill.id, ": its statement runs on ",
                           found.backend.Name(), ", which this session cannot reach"));
    }
  }
  // The session's own transaction state, as the server's OK would carry it.
  namespace st = protocol::status;
  uint16_t flags = last_status_ & (st::kInTrans | st::kAutocommit | st::kNoBackslashEscapes |
                                   st::kInTransReadonly);
  if (transaction_on_replica_) flags |= st::kInTrans | st::kInTransReadonly;
  error_code ec = co_await SendOk(reply_seq, flags);
  co_return !ec;
}

}  // namespace ql::proxy
