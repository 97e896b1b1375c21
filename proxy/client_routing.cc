// ClientSession's backends: which connection serves a command (primary or
// replica, see route_planner.h), taking connections from the worker's pool,
// bringing them in line with the session state before use, causal reads,
// pins, and giving connections back.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "protocol/constants.h"
#include "proxy/backend_exchange.h"
#include "proxy/client_session.h"
#include "proxy/logging.h"

namespace ql::proxy {
namespace {

using protocol::Command;

// A GTID list as MariaDB prints it ("0-1-42,1-2-7"): nothing that could end
// the string literal it is placed in.
bool PlausibleGtid(std::string_view g) {
  if (g.empty() || g.size() > 4096) return false;
  for (char c : g) {
    if (!(c >= '0' && c <= '9') && c != '-' && c != ',' && c != ':' && c != ' ' &&
        !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string ClientSession::SlotName(int slot) const {
  const HeldBackend& h = held_[slot];
  if (h.conn) return h.conn->address().Name();
  size_t backend = slot == kPrimarySlot ? 0 : replica_backend_;
  return worker_.pool->address(backend).Name();
}

int ClientSession::ChooseSlot(bool statement, bool ping) {
  const Config& config = worker_.shared.config;
  RouteFacts f;
  f.classification = statement ? &classification_ : nullptr;
  f.hint = hint_;
  if (statement && !config.route_rules.empty()) {
    f.rule = analyzer::MatchRouteRules(config.route_rules,
                                       user_ ? std::string_view(user_->name) : std::string_view(),
                                       state_.schema(), current_.digest, current_.fingerprint);
  }
  f.split_enabled = config.read_write_split && !config.replicas.empty();
  f.in_transaction = (last_status_ & protocol::status::kInTrans) != 0;
  f.transaction_on_replica = transaction_on_replica_ && held_[kReplicaSlot].conn != nullptr;
  f.autocommit = state_.autocommit();
  f.pinned = !pins_.empty();
  f.recent_write = wrote_ && config.read_after_write_window_s > 0 &&
                   Clock::now() - last_write_ <
                       SecondsToDuration(config.read_after_write_window_s);
  const HealthSnapshot* health = worker_.health.get();
  f.replica_usable = (held_[kReplicaSlot].conn &&
                      worker_.replicas.Usable(health, replica_backend_)) ||
                     worker_.replicas.AnyUsable(health);
  if (statement) f.fingerprint = current_.fingerprint;
  f.last_statement_on_replica = statement && last_slot_ == kReplicaSlot &&
                                held_[kReplicaSlot].conn &&
                                worker_.replicas.Usable(health, replica_backend_);
  f.primary_down = PrimaryDown();
  f.ping = ping;
  f.text_statement = statement && statement_command_id_ == 0;
  f.set_history_full = state_.history_full();
  route_ = PlanRoute(f);
  if (statement) worker_.recorder.metrics().Routed(route_);
  return route_.replica ? kReplicaSlot : kPrimarySlot;
}

bool ClientSession::BackendWentAwayWhileIdle(HeldBackend& held) {
  // Only connections idle for a while are checked: a busy one would have
  // shown a failure on its last response, and the check costs a syscall.
  if (Clock::now() - held.idle_since < std::chrono::seconds(1)) return false;
  return held.conn->transport().PeerClosedOrSentData();
}

awaitable<SlotOutcome> ClientSession::ReadySlot(int slot, uint8_t error_seq) {
  HeldBackend& h = held_[slot];
  if (slot == kReplicaSlot && h.conn && !transaction_on_replica_ &&
      !worker_.replicas.Usable(worker_.health.get(), replica_backend_)) {
    // The monitor took this replica out of rotation: running reads finished,
    // new ones go elsewhere.
    ReleaseSlot(kReplicaSlot);
  }
  if (h.conn && (h.conn->broken() || BackendWentAwayWhileIdle(h))) {
    const std::string name = h.conn->address().Name();
    LogInfo(absl::StrCat("client ", Describe(), ": backend ", name, " closed while idle"));
    h.conn->MarkBroken();
    if (slot == kReplicaSlot) {
      const bool in_read_only_transaction = transaction_on_replica_;
      worker_.replicas.MarkFailed(worker_.health.get(), replica_backend_);
      ReleaseSlot(kReplicaSlot);
      if (in_read_only_transaction) {
        QueueError(BackendLost(name, "closed while idle"), error_seq);
        co_return SlotOutcome::kErrorQueuedEnd;
      }
      co_return SlotOutcome::kRetryOnPrimary;
    }
    const bool survives = SessionSurvivesReconnect();
    ReleaseSlot(kPrimarySlot);
    if (!survives) {
      // The transaction or the pinned state died with it: say so and end.
      QueueError(BackendLost(name, "closed while idle"), error_seq);
      co_return SlotOutcome::kErrorQueuedEnd;
    }
  }
  if (!h.conn) {
    const bool acquired = co_await AcquireSlot(slot, error_seq);
    if (!acquired) {
      co_return slot == kReplicaSlot ? SlotOutcome::kRetryOnPrimary : SlotOutcome::kErrorQueued;
    }
  }
  const SlotOutcome synced = co_await SyncSlot(slot, error_seq);
  co_return synced;
}

awaitable<SlotOutcome> ClientSession::ReadyLoginSlot(uint8_t error_seq) {
  const Config& config = worker_.shared.config;
  const bool replica_may_check = config.read_write_split && !config.replicas.empty() &&
                                 worker_.replicas.AnyUsable(worker_.health.get());
  // With the monitor's word that the primary is down, the replica is asked
  // first: a hung primary would hold every login for --connect-timeout.
  const bool replica_first = replica_may_check && PrimaryDown();
  if (!replica_first) {
    const SlotOutcome ready = co_await ReadySlot(kPrimarySlot, error_seq);
    if (ready != SlotOutcome::kErrorQueued || queued_error_code_ != errc::kBackendUnreachable ||
        !replica_may_check) {
      co_return ready;
    }
  }
  replica_refusal_.reset();
  const SlotOutcome on_replica = co_await ReadySlot(kReplicaSlot, error_seq);
  if (on_replica != SlotOutcome::kReady) {
    if (replica_refusal_) {
      // The client's database, refused as the server worded it.
      QueueError(*replica_refusal_, error_seq);
      co_return SlotOutcome::kErrorQueued;
    }
    // The primary's own answer: queued above, or asked for now.
    if (!replica_first) co_return SlotOutcome::kErrorQueued;
    co_return co_await ReadySlot(kPrimarySlot, error_seq);
  }
  queued_.clear();
  // Debug: during an outage this is every login; the monitor's WARN said it once.
  LogDebug(absl::StrCat("client ", Describe(), ": primary unreachable; login checked on replica ",
                       SlotName(kReplicaSlot), " (reads work, writes fail until it is back)"));
  co_return SlotOutcome::kReady;
}

bool ClientSession::PrimaryDown() const {
  const HealthSnapshot* health = worker_.health.get();
  if (health == nullptr || health->backends.empty()) return false;
  const BackendHealth& primary = health->backends.front();
  return primary.checked_at_ns != 0 && !primary.up;
}

awaitable<bool> ClientSession::AcquireSlot(int slot, uint8_t error_seq) {
  const HealthSnapshot* health = worker_.health.get();
  const size_t backend = slot == kPrimarySlot ? 0 : worker_.replicas.Choose(health);
  if (slot == kReplicaSlot && backend == 0) co_return false;
  BackendLogin login;
  login.username = user_->backend_name.empty() ? user_->name : user_->backend_name;
  login.password = user_->backend_name.empty() ? user_->password : user_->backend_password;
  login.database = state_.schema();
  login.client_capabilities = client_caps_;
  login.client_mariadb_capabilities = client_mariadb_caps_;
  login.character_set = charset_;
  PoolKey key{backend, login.username, client_caps_, client_mariadb_caps_, charset_,
              !state_.schema().empty()};
  PoolLease lease = co_await worker_.pool->Acquire(key, login);
  connect_ns_ += uint64_t(lease.waited.count());
  const std::string name = worker_.pool->address(backend).Name();
  if (!lease.connection) {
    if (!lease.pool_exhausted) worker_.recorder.metrics().BackendConnectFailed(name);
    // The client's unknown or forbidden database: its ERR says it all, and
    // the server is fine.
    const bool clients_database = lease.error.code == 1049 || lease.error.code == 1044;
    (clients_database ? LogInfo : LogWarn)(
        absl::StrCat("client ", Describe(), ": backend ", name, ": ", lease.error.message));
    if (slot == kReplicaSlot) {
      if (clients_database) {
        replica_refusal_ = lease.error;
      } else {
        worker_.replicas.MarkFailed(health, backend);
      }
      co_return false;
    }
    QueueError(lease.error, error_seq);
    co_return false;
  }
  HeldBackend& h = held_[slot];
  h.conn = std::move(lease.connection);
  h.key = std::move(key);
  h.applied = AppliedState{};
  h.applied.schema = login.database;
  if (lease.reused) {
    // COM_RESET_CONNECTION kept the last user's schema and may have reset the charset.
    h.applied.schema_known = false;
    h.applied.charset_known = false;
  }
  h.idle_since = Clock::now();
  if (slot == kReplicaSlot) {
    replica_backend_ = backend;
    worker_.replicas.Hold(backend);
  } else if (!lease.reused) {
    // Keep what clients are told about "the server" current.
    worker_.profile.version = h.conn->greeting().server_version;
    worker_.profile.capabilities = h.conn->greeting().capabilities;
    worker_.profile.mariadb_capabilities = h.conn->greeting().mariadb_capabilities;
    worker_.profile.character_set = h.conn->greeting().character_set;
  }
  co_return true;
}

awaitable<SlotOutcome> ClientSession::SyncSlot(int slot, uint8_t error_seq) {
  HeldBackend& h = held_[slot];
  const bool want_autocommit = slot == kPrimarySlot ? state_.autocommit() : true;
  state_.PlanSync(h.applied, want_autocommit, &sync_steps_);
  const bool track_gtid = slot == kPrimarySlot && worker_.shared.config.causal_reads &&
                          !h.applied.gtid_tracked &&
                          (h.conn->capabilities() & protocol::cap::kSessionTrack) != 0;
  if (track_gtid) {
    // The OK of every write then carries the GTID it got.
    sync_steps_.push_back({SyncStep::Kind::kQuery,
                           "SET SESSION session_track_system_variables = "
                           "CONCAT(@@session.session_track_system_variables, ',last_gtid')"});
  }
  if (sync_steps_.empty()) co_return SlotOutcome::kReady;
  const Clock::time_point start = Clock::now();
  protocol::Bytes command;
  for (const SyncStep& step : sync_steps_) {
    command.clear();
    switch (step.kind) {
      case SyncStep::Kind::kInitDb:
        protocol::EncodeStringCommand(command, Command::kInitDb, step.text);
        break;
      case SyncStep::Kind::kQuery:
        protocol::EncodeStringCommand(command, Command::kQuery, step.text);
        break;
      case SyncStep::Kind::kSetOption:
        command = {uint8_t(Command::kSetOption), uint8_t(step.option), uint8_t(step.option >> 8)};
        break;
    }
    ExchangeResult r = co_await ExchangeCommand(*h.conn, command,
                                                step.kind == SyncStep::Kind::kQuery
                                                    ? protocol::ResponseKind::kResultSet
                                                    : protocol::ResponseKind::kOkOrErr,
                                                timeouts_.backend_read);
    if (r.ok()) continue;
    const std::string name = h.conn->address().Name();
    const bool io_failure = r.failed();
    // The client's database refused (it may have been dropped) is the
    // client's to fix and reaches it as an ERR: info. A lost connection, or
    // a setting that no longer applies, is the operator's.
    const bool clients_database = !io_failure && step.kind == SyncStep::Kind::kInitDb;
    (clients_database ? LogInfo : LogWarn)(
        absl::StrCat("client ", Describe(), ": could not bring ", name,
                     " in line with the session (", step.text, "): ",
                     io_failure ? std::string(r.ec ? r.ec.message() : "protocol error")
                                : r.server_message));
    h.conn->MarkBroken();
    if (slot == kReplicaSlot) {
      if (io_failure) worker_.replicas.MarkFailed(worker_.health.get(), replica_backend_);
      ReleaseSlot(kReplicaSlot);
      co_return SlotOutcome::kRetryOnPrimary;
    }
    const bool survives = SessionSurvivesReconnect();
    ReleaseSlot(kPrimarySlot);
    if (io_failure) {
      QueueError(BackendLost(name, "while restoring the session state"), error_seq);
    } else {
      // The server's own error (an unknown database, say), as it worded it.
      QueueError({r.summary.error_code, r.summary.sql_state, r.server_message}, error_seq);
    }
    // A SET the primary refuses on replay (it ran on a replica during an
    // outage, or the server changed) would fail every later command: the
    // session ends once instead, and the client starts a fresh one.
    if (!io_failure && step.kind == SyncStep::Kind::kQuery) co_return SlotOutcome::kErrorQueuedEnd;
    co_return survives ? SlotOutcome::kErrorQueued : SlotOutcome::kErrorQueuedEnd;
  }
  state_.MarkSynced(&h.applied, want_autocommit);
  if (track_gtid) h.applied.gtid_tracked = true;
  sync_ns_ += uint64_t((Clock::now() - start).count());
  co_return SlotOutcome::kReady;
}

awaitable<bool> ClientSession::WaitForCausalRead() {
  HeldBackend& primary = held_[kPrimarySlot];
  if (gtid_stale_ && primary.conn && !primary.conn->broken()) {
    // The client did not negotiate session tracking, so the write's OK did
    // not carry its GTID: ask, once, before the first read that needs it.
    // SHOW rather than SELECT: Com_select on the primary keeps counting
    // only the application's reads.
    const std::string_view sql = "SHOW SESSION VARIABLES LIKE 'last_gtid'";
    std::optional<std::string> gtid = co_await AskBackend(kPrimarySlot, sql, 1);
    if (gtid && !gtid->empty()) last_gtid_ = std::move(*gtid);
  }
  gtid_stale_ = false;
  // Without a GTID the proxy cannot know the replica has the write.
  if (!PlausibleGtid(last_gtid_)) {
    worker_.recorder.metrics().CausalRead(CausalReadOutcome::kNoGtid);
    co_return false;
  }
  HeldBackend& h = held_[kReplicaSlot];
  const double timeout_s = worker_.shared.config.causal_reads_timeout_s;
  const bool mariadb = absl::StrContains(h.conn->greeting().server_version, "MariaDB");
  // A row comes back only once the replica has applied the GTID.
  std::string sql = mariadb ? absl::StrCat("SELECT 1 FROM DUAL WHERE MASTER_GTID_WAIT('",
                                           last_gtid_, "', ", timeout_s, ") = 0")
                            : absl::StrCat("SELECT 1 FROM DUAL WHERE WAIT_FOR_EXECUTED_GTID_SET('",
                                           last_gtid_, "', ", timeout_s, ") = 0");
  const Clock::time_point start = Clock::now();
  ExchangeResult r = co_await ExchangeQuery(*h.conn, sql,
                                            SecondsToDuration(timeout_s + 5));
  sync_ns_ += uint64_t((Clock::now() - start).count());
  if (r.ok() && r.summary.rows == 1) {
    worker_.recorder.metrics().CausalRead(CausalReadOutcome::kReplica);
    co_return true;
  }
  if (r.failed()) {
    h.conn->MarkBroken();
    ReleaseSlot(kReplicaSlot);
    worker_.recorder.metrics().CausalRead(CausalReadOutcome::kError);
  } else {
    worker_.recorder.metrics().CausalRead(CausalReadOutcome::kTimeout);
  }
  co_return false;
}

awaitable<void> ClientSession::EndReplicaTransaction() {
  // BEGIN and DDL commit an open transaction implicitly; the statement goes
  // to the primary, so the replica's READ ONLY transaction ends here, or
  // its next read would still see the old snapshot.
  HeldBackend& h = held_[kReplicaSlot];
  transaction_on_replica_ = false;
  if (!h.conn) co_return;
  const std::string_view sql = "COMMIT";
  ExchangeResult r = co_await ExchangeQuery(*h.conn, sql, timeouts_.backend_read);
  if (!r.ok()) {
    h.conn->MarkBroken();
    ReleaseSlot(kReplicaSlot);
  }
}

void ClientSession::ReleaseSlot(int slot) {
  HeldBackend& h = held_[slot];
  if (slot == kReplicaSlot) {
    if (replica_backend_ != 0) worker_.replicas.Unhold(replica_backend_);
    replica_backend_ = 0;
    transaction_on_replica_ = false;
  } else {
    last_status_ = protocol::status::kAutocommit;
  }
  prepared_.ForgetSlot(slot);
  h.key.with_schema = !(h.applied.schema_known && h.applied.schema.empty());
  // COM_RESET_CONNECTION keeps a COM_SET_OPTION change (it is a capability of
  // the connection, not session state): such a connection must not serve
  // the next client, who expects what it negotiated.
  if (h.conn && h.applied.multi_statements >= 0) h.conn->MarkBroken();
  if (h.conn) worker_.pool->Release(h.key, std::move(h.conn));
  h.applied = AppliedState{};
}

void ClientSession::ReleaseAll() {
  ReleaseSlot(kReplicaSlot);
  ReleaseSlot(kPrimarySlot);
}

void ClientSession::Pin(PinReasons reasons) {
  for (int i = 0; i < kPinReasonCount; ++i) {
    const auto r = PinReason(i);
    if (!reasons.Has(r) || pins_.Has(r)) continue;
    pins_.Add(r);
    worker_.recorder.metrics().SessionPinned(r);
    LogDebug(absl::StrCat("client ", Describe(), ": pinned to the primary (",
                          protocol::Sv(PinReasonName(r)), ")"));
  }
}

}  // namespace ql::proxy
