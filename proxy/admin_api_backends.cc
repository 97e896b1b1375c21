// Implementation of BackendProber.
#include "proxy/admin_api_backends.h"

#include <nlohmann/json.hpp>

#include "protocol/constants.h"
#include "proxy/admin_api_collect.h"
#include "proxy/admin_api_json.h"

namespace ql::proxy {
namespace {

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool IsLoginRefusal(uint16_t code) {
  switch (code) {
    case 1044:  // access denied to database
    case 1045:  // access denied
    case 1049:  // unknown database
    case 1698:  // access denied, no password
    case 1820:  // password expired
    case 1862:  // password expired, sandbox mode
      return true;
    default:
      return false;
  }
}

BackendProber::BackendProber(const SharedState& shared, std::chrono::milliseconds timeout,
                             std::chrono::milliseconds max_age)
    : shared_(shared), timeout_(timeout), max_age_(max_age) {
  auto add = [&](const BackendAddress& a, analyzer::BackendRole role) {
    BackendStatus s;
    s.name = a.Name();
    s.address = a;
    s.role = role;
    backends_.push_back(std::move(s));
  };
  add(shared.primary, analyzer::BackendRole::kPrimary);
  for (const HostPort& r : shared.config.replicas) {
    add(BackendAddress{r.host, r.port}, analyzer::BackendRole::kReplica);
  }
  last_probe_.resize(backends_.size());
  probing_.resize(backends_.size(), false);
}

awaitable<std::vector<BackendStatus>> BackendProber::All() {
  for (size_t i = 0; i < backends_.size(); ++i) co_await Refresh(i);
  co_return backends_;
}

awaitable<BackendStatus> BackendProber::Primary() {
  co_await Refresh(0);
  co_return backends_[0];
}

awaitable<void> BackendProber::Refresh(size_t index) {
  const auto now = std::chrono::steady_clock::now();
  if (probing_[index]) {
    // Another request is probing. Its result is as good as ours; if there
    // is none yet (the first requests after start-up), wait for it.
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (int i = 0; probing_[index] && !backends_[index].checked && i < 1000; ++i) {
      pause.expires_after(std::chrono::milliseconds(5));
      co_await pause.async_wait(use_tuple);
    }
    co_return;
  }
  // A fresh result: use it.
  if (backends_[index].checked && now - last_probe_[index] < max_age_) co_return;
  probing_[index] = true;
  BackendStatus& s = backends_[index];
  const UserEntry& user = shared_.config.users.front();  // Validate requires one
  BackendLogin login;
  login.username = user.backend_name.empty() ? user.name : user.backend_name;
  login.password = user.backend_name.empty() ? user.password : user.backend_password;
  login.character_set = shared_.initial_profile.character_set;
  const BackendTls tls{shared_.backend_tls.get(), !shared_.config.backend_tls_ca.empty()};
  const BackendAddress address = s.address;
  const std::chrono::milliseconds timeout = timeout_;
  auto outcome = co_await BackendConnection::Connect(address, login, tls, timeout);
  BackendStatus& r = backends_[index];
  r.checked = true;
  r.checked_ns = WallNs();
  r.probe_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - now).count();
  if (outcome.connection) {
    r.up = true;
    r.error.clear();
    r.error_code = 0;
    r.version = outcome.connection->greeting().server_version;
    // Leave politely, so the server logs no aborted connection.
    protocol::Bytes quit{static_cast<uint8_t>(protocol::Command::kQuit)};
    uint8_t seq = 0;
    co_await outcome.connection->transport().WritePacket(quit, seq);
  } else {
    const bool server_said = !outcome.server_err_payload.empty();
    r.error_code = server_said ? outcome.error.code : 0;  // else the proxy's own wording
    r.up = server_said && IsLoginRefusal(outcome.error.code);
    r.error = r.up ? "login refused: " + outcome.error.message : outcome.error.message;
    if (!r.up) r.version.clear();
  }
  last_probe_[index] = std::chrono::steady_clock::now();
  probing_[index] = false;
}

std::string BackendsHealthJson(const ProxySnapshot& snapshot,
                               const std::vector<BackendStatus>& backends,
                               const HealthSnapshotPtr& health) {
  using json = nlohmann::ordered_json;  // keeps BackendsJson's key order
  // The probe's fields stay exactly as BackendsJson writes them; the
  // monitor's are merged in by backend name.
  const std::string probed = BackendsJson(snapshot, backends);
  json body = json::parse(probed, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return probed;  // never expected: it is our own output
  for (json& b : body["backends"]) {
    const std::string name = b.value("name", "");
    const BackendHealth* h = nullptr;
    if (health) {
      for (const BackendHealth& candidate : health->backends) {
        if (candidate.address.Name() == name) h = &candidate;
      }
    }
    b["address"] = name;
    if (!h) {
      b["weight"] = nullptr;
      b["usable_for_reads"] = nullptr;
      b["replication_running"] = nullptr;
      b["caught_up_with_down_primary"] = nullptr;
      b["last_error"] = nullptr;
      b["checks_failed"] = nullptr;
      continue;
    }
    const bool replica = h->role == analyzer::BackendRole::kReplica;
    b["weight"] = h->weight;
    b["up"] = h->up;
    b["usable_for_reads"] = h->usable_for_reads;
    b["read_only"] = h->checked_at_ns != 0 && h->up ? json(h->read_only) : json(nullptr);
    b["replication_running"] = replica && h->checked_at_ns != 0 ? json(h->replication_running)
                                                                : json(nullptr);
    b["caught_up_with_down_primary"] =
        replica && h->checked_at_ns != 0 ? json(h->caught_up_with_down_primary) : json(nullptr);
    b["lag_seconds"] = h->lag_seconds >= 0 ? json(h->lag_seconds) : json(nullptr);
    b["last_error"] = h->last_error.empty() ? json(nullptr) : json(h->last_error);
    b["checked_at"] = h->checked_at_ns != 0 ? json(IsoTime(h->checked_at_ns)) : json(nullptr);
    b["checks_failed"] = h->checks_failed;
  }
  body["monitor"] = health ? json{{"round", health->round}} : json(nullptr);
  return body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace ql::proxy
