// Implementation of BackendMonitor.
#include "proxy/backend_monitor.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "protocol/constants.h"
#include "protocol/wire_codec.h"
#include "proxy/admin_api_backends.h"
#include "proxy/logging.h"
#include "proxy/simple_query.h"

namespace ql::proxy {
namespace {

using analyzer::BackendRole;
using protocol::Sv;

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(std::max<int64_t>(1, int64_t(seconds * 1000)));
}

// What is left of a check's time budget; at least 1 ms so that an expired
// budget turns into a clean timeout rather than an unbounded wait.
std::chrono::milliseconds Remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

// "42" for whole seconds (Seconds_Behind_Master), "0.4" otherwise (heartbeat).
std::string FormatSeconds(double s) {
  if (s == std::floor(s)) return absl::StrFormat("%.0f", s);
  return absl::StrFormat("%.1f", s);
}

std::string StatusText(const absl::Status& st) {
  const auto m = st.message();
  return std::string(m.data(), m.size());
}

// `db`.`table`, each part quoted, so a configured name cannot inject SQL.
std::string QuoteTableName(std::string_view name) {
  std::string out;
  for (absl::string_view part : absl::StrSplit(Sv(name), '.')) {
    if (!out.empty()) out += '.';
    out += '`';
    for (char ch : part) {
      if (ch == '`') out += '`';
      out += ch;
    }
    out += '`';
  }
  return out;
}

// Adds a hint to errors an operator fixes with a GRANT.
std::string QueryError(std::string_view what, const absl::Status& st) {
  std::string text = absl::StrCat(Sv(what), ": ", StatusText(st));
  const auto code = ServerErrorCode(st);
  if (code && (*code == 1227 || *code == 1142 || *code == 1044)) {
    absl::StrAppend(&text, " (grant the monitor user the needed privilege, e.g. SLAVE MONITOR "
                           "or REPLICATION CLIENT, and SELECT on the heartbeat table)");
  }
  return text;
}

// The error wording without numbers, so that "lag 42s" and "lag 43s" count
// as the same state and only real changes are logged.
std::string StateKey(const BackendHealth& h) {
  std::string key = absl::StrCat(h.up ? "up" : "down", h.usable_for_reads ? "|usable|" : "|-|",
                                 h.replication_running ? "" : "not replicating|",
                                 h.caught_up_with_down_primary ? "primary down|" : "");
  for (char ch : h.last_error) {
    if (ch < '0' || ch > '9') key += ch;
  }
  return key;
}

}  // namespace

void ApplyFindings(const CheckFindings& f, int healthy_checks_needed, double max_lag_s,
                   int& good_streak, BackendHealth& h) {
  h.up = f.up;
  h.read_only = f.read_only;
  h.replication_running = f.replication_running;
  h.caught_up_with_down_primary = f.caught_up_with_down_primary;
  h.lag_seconds = f.lag_seconds;
  if (h.role == BackendRole::kPrimary) {
    h.usable_for_reads = false;
    good_streak = 0;
    if (!f.up) ++h.checks_failed;
    h.last_error = f.error;
    if (f.up && f.error.empty() && f.read_only) {
      h.last_error = "primary has read_only=ON: writes will fail";
    }
    return;
  }
  std::string problem = f.error;
  if (problem.empty()) {
    if (!f.up) {
      problem = "down";
    } else if (!f.replication_running && !f.lag_bounded_without_replication) {
      problem = "replication is not running";
    } else if (f.lag_seconds < 0) {
      problem = "replication lag unknown";
    } else if (f.lag_seconds > max_lag_s) {
      problem = absl::StrCat("lag ", FormatSeconds(f.lag_seconds), "s > max ",
                             FormatSeconds(max_lag_s), "s");
    }
  }
  if (!problem.empty()) {
    // One bad check is enough to stop sending reads.
    good_streak = 0;
    h.usable_for_reads = false;
    ++h.checks_failed;
    h.last_error = std::move(problem);
    return;
  }
  ++good_streak;
  const int needed = std::max(1, healthy_checks_needed);
  if (!h.usable_for_reads && good_streak >= needed) h.usable_for_reads = true;
  h.last_error = h.usable_for_reads
                     ? std::string()
                     : absl::StrCat("healthy for ", good_streak, " of ", needed,
                                    " checks needed before taking reads");
}

BackendMonitor::BackendMonitor(const SharedState& shared, Publish publish)
    : shared_(shared),
      publish_(std::move(publish)),
      check_timeout_(Millis(shared.config.connect_timeout_s)) {
  const Config& config = shared.config;
  if (!config.monitor_user.empty()) {
    login_.username = config.monitor_user;
    login_.password = config.monitor_password;
  } else if (!config.users.empty()) {
    const UserEntry& u = config.users.front();
    const bool own = !u.backend_name.empty();
    login_.username = own ? u.backend_name : u.name;
    login_.password = own ? u.backend_password : u.password;
  }
  login_.client_capabilities = protocol::cap::kDeprecateEof;
  login_.character_set = shared.initial_profile.character_set;

  auto add = [&](BackendAddress address, BackendRole role, uint32_t weight) {
    Target& t = targets_.emplace_back();
    t.health.address = std::move(address);
    t.health.role = role;
    t.health.weight = weight;
    t.health.last_error = "not checked yet";
  };
  add(shared.primary, BackendRole::kPrimary, 1);
  for (size_t i = 0; i < config.replicas.size(); ++i) {
    const uint32_t weight = i < config.replica_weights.size() ? config.replica_weights[i] : 1;
    add(BackendAddress{config.replicas[i].host, config.replicas[i].port}, BackendRole::kReplica,
        weight);
  }
}

BackendMonitor::~BackendMonitor() {
  Stop();
  CloseConnections();
}

absl::Status BackendMonitor::Start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("backend monitor already started");
  asio::co_spawn(io_, Loop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  LogInfo(absl::StrCat("backend monitor: ", targets_.size(), " backends every ",
                       FormatSeconds(shared_.config.monitor_interval_s), "s as user '",
                       login_.username, "'"));
  return absl::OkStatus();
}

void BackendMonitor::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    stopping_ = true;
    CloseConnections();
    round_timer_.cancel();
    interval_timer_.cancel();
    io_.stop();
  });
  thread_.join();
  // The thread is gone: the sockets can be released here. Suspended checks
  // are destroyed with the io_context, never resumed.
  CloseConnections();
}

HealthSnapshotPtr BackendMonitor::Latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

void BackendMonitor::CloseConnections() {
  for (Target& t : targets_) {
    if (t.connection) t.connection->transport().Close();
    t.connection.reset();
  }
}

awaitable<void> BackendMonitor::Loop() {
  const auto interval = Millis(shared_.config.monitor_interval_s);
  // A round waits for its checks at most one interval, so that one hanging
  // backend (its check may take up to --connect-timeout) neither delays the
  // news about the others nor keeps taking reads meanwhile.
  const auto round_wait = std::max<std::chrono::milliseconds>(interval,
                                                             std::chrono::milliseconds(100));
  while (!stopping_) {
    const auto started = Clock::now();
    ++generation_;
    pending_ = 0;
    round_timer_.expires_after(round_wait);
    for (size_t i = 0; i < targets_.size(); ++i) {
      Target& t = targets_[i];
      if (t.busy) continue;  // still on an earlier round's check; reported below
      t.busy = true;
      ++pending_;
      asio::co_spawn(io_, Check(i, generation_), asio::detached);
    }
    if (pending_ > 0) {
      auto [ec] = co_await round_timer_.async_wait(use_tuple);
      (void)ec;  // cancelled when the last check finished, or the interval passed
    }
    if (stopping_) co_return;
    for (Target& t : targets_) {
      if (!t.busy) continue;
      // No answer yet counts as a bad check: no reads go there meanwhile.
      CheckFindings overdue;
      overdue.error = absl::StrCat("no answer within ", FormatSeconds(std::chrono::duration<double>(round_wait).count()), "s (check still running)");
      ApplyFindings(overdue, shared_.config.monitor_healthy_checks,
                    shared_.config.max_replication_lag_s, t.good_streak, t.health);
      NotePrimaryHealth(t);
      LogTransition(t);
    }
    if (stopping_) co_return;
    auto snapshot = std::make_shared<HealthSnapshot>();
    snapshot->round = ++round_;
    snapshot->backends.reserve(targets_.size());
    for (const Target& t : targets_) snapshot->backends.push_back(t.health);
    HealthSnapshotPtr published = std::move(snapshot);
    {
      std::lock_guard lock(mu_);
      latest_ = published;
    }
    if (publish_) publish_(published);
    interval_timer_.expires_at(started + interval);
    auto [ec] = co_await interval_timer_.async_wait(use_tuple);
    (void)ec;
  }
}

awaitable<void> BackendMonitor::Check(size_t index, uint64_t generation) {
  Target& t = targets_[index];
  CheckFindings findings = co_await Probe(t);
  if (stopping_) co_return;
  ApplyFindings(findings, shared_.config.monitor_healthy_checks,
                shared_.config.max_replication_lag_s, t.good_streak, t.health);
  t.health.checked_at_ns = WallNs();
  t.busy = false;
  NotePrimaryHealth(t);
  LogTransition(t);
  if (generation == generation_ && pending_ > 0 && --pending_ == 0) {
    // Wakes the round (a wait that starts later completes at once).
    round_timer_.expires_at(Clock::time_point::min());
  }
}

awaitable<CheckFindings> BackendMonitor::Probe(Target& t) {
  CheckFindings f;
  const Clock::time_point deadline = Clock::now() + check_timeout_;
  if (t.connection && (t.connection->broken() || !t.connection->transport().is_open())) {
    t.connection.reset();
  }
  if (!t.connection) {
    const BackendAddress address = t.health.address;
    const BackendLogin login = login_;
    const BackendTls tls{shared_.backend_tls.get(), !shared_.config.backend_tls_ca.empty()};
    const std::chrono::milliseconds timeout = check_timeout_;
    auto outcome = co_await BackendConnection::Connect(address, login, tls, timeout);
    if (!outcome.connection) {
      // A refused login proves the server works (as for the admin's probe):
      // up, but of no use until the monitor's credentials are fixed.
      const bool refused = !outcome.server_err_payload.empty() &&
                           IsLoginRefusal(outcome.error.code);
      f.up = refused;
      f.error = (refused ? "login refused: " : "connect: ") + outcome.error.message;
      co_return f;
    }
    t.connection = std::move(outcome.connection);
    t.no_gtid_variables = false;
  }
  BackendConnection& c = *t.connection;

  absl::Status ping = co_await RunPing(c, Remaining(deadline));
  if (!ping.ok()) {
    f.error = "ping: " + StatusText(ping);
    t.connection.reset();  // re-connect next round
    co_return f;
  }
  f.up = true;

  const std::string read_only_sql = "SELECT @@global.read_only";
  auto read_only = co_await RunSimpleQuery(c, read_only_sql, Remaining(deadline));
  if (!read_only.ok()) {
    f.error = QueryError("SELECT @@read_only", read_only.status());
    if (c.broken()) {
      f.up = false;
      t.connection.reset();
    }
    co_return f;
  }
  const auto ro_value = read_only->rows.empty() || read_only->rows[0].empty()
                            ? std::optional<std::string>()
                            : read_only->rows[0][0];
  f.read_only = ro_value && (*ro_value == "1" || *ro_value == "ON");
  if (t.health.role == BackendRole::kPrimary) {
    if (targets_.size() > 1 && shared_.config.heartbeat_table.empty()) {
      // MariaDB's GTID position, for the replicas' lag.
      if (auto position = co_await ReadGtidPosition(t, "@@global.gtid_binlog_pos", deadline)) {
        primary_observed_at_ = Clock::now();
        primary_gtids_.Observe(*position, primary_observed_at_);
      }
    }
    co_return f;
  }

  const std::string status_sql = "SHOW SLAVE STATUS";
  auto status = co_await RunSimpleQuery(c, status_sql, Remaining(deadline));
  if (!status.ok()) {
    f.error = QueryError("SHOW SLAVE STATUS", status.status());
    if (c.broken()) {
      f.up = false;
      t.connection.reset();
    }
    co_return f;
  }
  if (status->rows.empty()) {
    f.error = "not a replica: SHOW SLAVE STATUS is empty";
    co_return f;
  }
  const std::string io_running(status->Value(0, "Slave_IO_Running").value_or("NULL"));
  const std::string sql_running(status->Value(0, "Slave_SQL_Running").value_or("NULL"));
  f.replication_running = io_running == "Yes" && sql_running == "Yes";
  if (sql_running != "Yes") {
    const std::string why(status->Value(0, "Last_SQL_Error").value_or(""));
    f.error = why.empty() ? "replica SQL thread stopped"
                          : absl::StrCat("replica SQL thread stopped: ", why);
    co_return f;
  }
  if (io_running != "Yes") {
    const std::string why(status->Value(0, "Last_IO_Error").value_or(""));
    f.error = absl::StrCat("replica IO thread ", io_running == "No" ? "stopped" : io_running,
                           why.empty() ? "" : ": ", why);
    // Stopped on purpose ("No"): as before, no reads. Reconnecting: bounded.
    if (io_running != "No") co_await BoundLagWithoutReplication(t, deadline, f);
    co_return f;
  }

  if (shared_.config.heartbeat_table.empty()) {
    const auto behind = status->Value(0, "Seconds_Behind_Master");
    double lag = 0;
    if (!behind || !absl::SimpleAtod(Sv(*behind), &lag)) {
      f.error = "replication lag unknown (Seconds_Behind_Master is NULL)";
      co_await BoundLagWithoutReplication(t, deadline, f);
      co_return f;
    }
    f.lag_seconds = lag;
    // Seconds_Behind_Master is 0 while a restarted replica's IO thread is
    // still fetching what it missed; the GTID it applied tells the truth.
    const auto applied = co_await ReadGtidPosition(t, "@@global.gtid_slave_pos", deadline);
    if (applied && !applied->empty()) {
      if (auto behind = primary_gtids_.LagAtLeast(*applied, Clock::now())) {
        f.lag_seconds = std::max(f.lag_seconds, *behind);
      }
    }
    co_return f;
  }

  // pt-heartbeat writes `ts` in local time unless run with --utc; the clock
  // that agrees with it is the one with the smaller difference.
  const std::string table = QuoteTableName(shared_.config.heartbeat_table);
  const std::string heartbeat_sql =
      absl::StrCat("SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), NOW(6)), "
                   "TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) FROM ",
                   table);
  auto heartbeat = co_await RunSimpleQuery(c, heartbeat_sql, Remaining(deadline));
  if (!heartbeat.ok()) {
    f.error = QueryError(absl::StrCat("heartbeat ", shared_.config.heartbeat_table),
                         heartbeat.status());
    if (c.broken()) {
      f.up = false;
      t.connection.reset();
    }
    co_return f;
  }
  double local_us = 0, utc_us = 0;
  std::vector<std::optional<std::string>> row;
  if (!heartbeat->rows.empty()) row = heartbeat->rows[0];
  if (row.size() < 2 || !row[0] || !row[1] || !absl::SimpleAtod(*row[0], &local_us) ||
      !absl::SimpleAtod(*row[1], &utc_us)) {
    f.error = absl::StrCat("replication lag unknown (heartbeat table ",
                           shared_.config.heartbeat_table, " is empty)");
    co_return f;
  }
  const double us = std::abs(local_us) < std::abs(utc_us) ? local_us : utc_us;
  f.lag_seconds = std::max(0.0, us / 1e6);
  co_return f;
}

awaitable<std::optional<GtidPosition>> BackendMonitor::ReadGtidPosition(
    Target& t, std::string_view variable, Clock::time_point deadline) {
  if (t.no_gtid_variables || !t.connection) co_return std::nullopt;
  BackendConnection& c = *t.connection;
  const std::string sql = "SELECT " + std::string(variable);
  auto result = co_await RunSimpleQuery(c, sql, Remaining(deadline));
  if (!result.ok()) {
    // Only a bound on top of the check: its failure is not the server's.
    if (c.broken()) {
      t.connection.reset();  // a new one next round
    } else {
      t.no_gtid_variables = true;  // MySQL (1193): not asked again on this connection
    }
    co_return std::nullopt;
  }
  if (result->rows.empty() || result->rows[0].empty() || !result->rows[0][0]) co_return std::nullopt;
  co_return ParseGtidPosition(*result->rows[0][0]);
}

awaitable<void> BackendMonitor::BoundLagWithoutReplication(Target& t,
                                                            Clock::time_point deadline,
                                                            CheckFindings& f) {
  if (!shared_.config.heartbeat_table.empty() || primary_observed_at_ == Clock::time_point{}) {
    co_return;
  }
  const auto applied = co_await ReadGtidPosition(t, "@@global.gtid_slave_pos", deadline);
  if (!applied || applied->empty()) co_return;
  const Clock::time_point now = Clock::now();
  // Exactly caught up, not "behind by little": a replica with a backlog it
  // cannot fetch is behind by an amount nobody can bound.
  const auto behind = primary_gtids_.LagAtLeast(*applied, now);
  if (!behind || *behind > 0) co_return;
  const bool primary_down = primary_down_since_ > primary_observed_at_;
  const Clock::time_point until = primary_down ? primary_down_since_ : now;
  f.lag_bounded_without_replication = true;
  f.caught_up_with_down_primary = primary_down;
  f.lag_seconds = std::chrono::duration<double>(until - primary_observed_at_).count();
  f.error.clear();
}

void BackendMonitor::NotePrimaryHealth(const Target& t) {
  if (t.health.role != BackendRole::kPrimary) return;
  if (t.health.up) return;
  if (primary_down_since_ <= primary_observed_at_) primary_down_since_ = Clock::now();
}

void BackendMonitor::LogTransition(Target& t) {
  const BackendHealth& h = t.health;
  std::string key = StateKey(h);
  if (key == t.logged_state) return;
  t.logged_state = std::move(key);
  const std::string who = absl::StrCat("backend ", Sv(analyzer::BackendRoleName(h.role)), " ",
                                       h.address.Name());
  if (h.role == BackendRole::kPrimary) {
    if (!h.up) {
      LogWarn(absl::StrCat(who, ": down: ", h.last_error));
    } else if (!h.last_error.empty()) {
      LogWarn(absl::StrCat(who, ": up, but ", h.last_error));
    } else {
      LogInfo(absl::StrCat(who, ": up"));
    }
    return;
  }
  if (h.usable_for_reads && h.caught_up_with_down_primary) {
    LogWarn(absl::StrCat(who, ": usable for reads while the primary is down: it applied every "
                              "transaction the primary was last seen to have"));
  } else if (h.usable_for_reads && !h.replication_running) {
    LogWarn(absl::StrCat(who, ": usable for reads, but its replication is not connected: it "
                              "applied all the primary was last seen to have; reads stop when "
                              "that is more than --max-replication-lag old"));
  } else if (h.usable_for_reads) {
    LogInfo(absl::StrCat(who, ": usable for reads (lag ", FormatSeconds(h.lag_seconds), "s)"));
  } else if (h.replication_running && h.up && h.last_error.starts_with("healthy for")) {
    LogInfo(absl::StrCat(who, ": not usable for reads yet: ", h.last_error));
  } else {
    LogWarn(absl::StrCat(who, ": not usable for reads: ", h.last_error));
  }
}

absl::StatusOr<std::unique_ptr<BackendMonitor>> StartBackendMonitor(
    const SharedState& shared, const std::vector<WorkerHandle>& workers) {
  std::vector<WorkerHandle> targets = workers;
  auto publish = [targets](HealthSnapshotPtr snapshot) {
    for (const WorkerHandle& w : targets) {
      WorkerContext* ctx = w.context;
      asio::post(*w.io, [ctx, snapshot] { ctx->health = snapshot; });
    }
  };
  auto monitor = std::make_unique<BackendMonitor>(shared, std::move(publish));
  if (absl::Status st = monitor->Start(); !st.ok()) return st;
  return monitor;
}

}  // namespace ql::proxy
