// Implementation of the admin JSON API bodies.
#include "proxy/admin_api_json.h"

#include <charconv>
#include <ctime>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "analyzer/digest.h"
#include "proxy/metrics_exposition.h"

namespace ql::proxy {
namespace {

// Keys keep the order they are written in (the order admin_api_json.h documents).
using json = nlohmann::ordered_json;

double Seconds(uint64_t ns) { return double(ns) / 1e9; }

std::string Dump(const json& j) {
  // Invalid UTF-8 (a schema or user name in another encoding) is replaced,
  // never thrown about.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> Decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      const bool room = i + 2 < s.size();
      const int hi = room ? HexValue(s[i + 1]) : -1;
      const int lo = room ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError("malformed percent escape in the query string");
      }
      out.push_back(char(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

absl::StatusOr<size_t> ParseLimit(std::string_view name, std::string_view v, size_t max) {
  size_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1 || n > max) {
    return absl::InvalidArgumentError(std::string(name) + " must be a whole number from 1 to " +
                                      std::to_string(max) + ", not '" + std::string(v) + "'");
  }
  return n;
}

std::string_view OrderName(analyzer::DigestOrder o) {
  switch (o) {
    case analyzer::DigestOrder::kCount: return "count";
    case analyzer::DigestOrder::kP99: return "p99";
    case analyzer::DigestOrder::kTotalTime: break;
  }
  return "total_time";
}

json Nullable(std::string_view s) { return s.empty() ? json(nullptr) : json(std::string(s)); }

}  // namespace

std::string IsoTime(int64_t unix_ns) {
  if (unix_ns <= 0) return "";
  const time_t secs = time_t(unix_ns / 1'000'000'000);
  const long micros = long(unix_ns % 1'000'000'000 / 1000);
  struct tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQueryString(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    auto name = Decode(item.substr(0, eq));
    if (!name.ok()) return name.status();
    auto value = Decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
    if (!value.ok()) return value.status();
    out.emplace_back(*std::move(name), *std::move(value));
  }
  return out;
}

absl::StatusOr<DigestsRequest> ParseDigestsRequest(std::string_view query) {
  auto params = ParseQueryString(query);
  if (!params.ok()) return params.status();
  DigestsRequest r;
  for (const auto& [name, value] : *params) {
    if (name == "order") {
      if (value == "total_time") {
        r.order = analyzer::DigestOrder::kTotalTime;
      } else if (value == "count") {
        r.order = analyzer::DigestOrder::kCount;
      } else if (value == "p99") {
        r.order = analyzer::DigestOrder::kP99;
      } else {
        return absl::InvalidArgumentError("order must be total_time, count or p99, not '" +
                                          value + "'");
      }
    } else if (name == "limit") {
      auto limit = ParseLimit("limit", value, 10000);
      if (!limit.ok()) return limit.status();
      r.limit = *limit;
    } else if (name == "schema") {
      r.schema = value;
    } else {
      return absl::InvalidArgumentError("unknown parameter '" + name +
                                        "'; /api/digests takes order, limit and schema");
    }
  }
  return r;
}

absl::StatusOr<SessionsRequest> ParseSessionsRequest(std::string_view query) {
  auto params = ParseQueryString(query);
  if (!params.ok()) return params.status();
  SessionsRequest r;
  for (const auto& [name, value] : *params) {
    if (name == "limit") {
      auto limit = ParseLimit("limit", value, 100000);
      if (!limit.ok()) return limit.status();
      r.limit = *limit;
    } else {
      return absl::InvalidArgumentError("unknown parameter '" + name +
                                        "'; /api/sessions takes limit");
    }
  }
  return r;
}

std::string DigestsJson(const ProxySnapshot& snapshot, const DigestsRequest& request) {
  const analyzer::DigestSnapshot& digests = snapshot.digests;
  analyzer::DigestQuery query;
  query.order = request.order;
  query.limit = request.limit;
  if (request.schema) query.schema = std::string_view(*request.schema);
  size_t matching = 0;
  for (const auto& e : digests.entries()) {
    if (!request.schema || e.schema == *request.schema) ++matching;
  }
  json list = json::array();
  char hex[16];
  for (const analyzer::DigestSnapshotEntry* e : digests.Top(query)) {
    const analyzer::DigestStats& s = e->stats;
    analyzer::DigestHexTo(e->digest, hex);
    json d = {
        {"digest", std::string(hex, sizeof hex)},
        {"fingerprint", std::string(digests.Fingerprint(e->digest))},
        {"schema", e->schema},
        {"user", e->user},
        {"role", std::string(analyzer::BackendRoleName(e->role))},
        {"class", std::string(analyzer::StatementClassName(s.statement_class))},
        {"count", s.count()},
        {"errors", s.errors},
        {"total_seconds", Seconds(s.total_ns())},
        {"min_seconds", Seconds(s.min_ns())},
        {"max_seconds", Seconds(s.max_ns())},
        {"avg_seconds", s.count() ? Seconds(s.total_ns()) / double(s.count()) : 0.0},
        {"p50_seconds", Seconds(s.QuantileNs(0.50))},
        {"p95_seconds", Seconds(s.QuantileNs(0.95))},
        {"p99_seconds", Seconds(s.QuantileNs(0.99))},
        {"rows_sent", s.rows_sent},
        {"rows_affected", s.rows_affected},
        {"bytes_sent", s.bytes_sent},
        {"bytes_received", s.bytes_received},
        {"warnings", s.warnings},
        {"no_index_used", s.no_index_used},
        {"no_good_index_used", s.no_good_index_used},
        {"server_slow", s.server_slow},
        {"prepared", s.prepared},
        {"pool_wait_seconds", Seconds(s.pool_wait_ns)},
        {"state_sync_seconds", Seconds(s.state_sync_ns)},
        {"backend_first_byte_seconds", Seconds(s.backend_first_byte_ns)},
        {"first_seen", IsoTime(s.first_seen_ns)},
        {"last_seen", IsoTime(s.last_seen_ns)},
    };
    if (!e->example.empty()) {
      // Only with --log-literals: the slowest statement's literal text.
      d["example"] = {{"text", e->example},
                      {"seconds", Seconds(e->example_ns)},
                      {"time", IsoTime(e->example_time_ns)}};
    }
    list.push_back(std::move(d));
  }
  const analyzer::EvictedTotals& ev = digests.evicted();
  json body = {
      {"generated_at", IsoTime(snapshot.taken_ns)},
      {"order", std::string(OrderName(request.order))},
      {"limit", request.limit},
      {"schema", request.schema ? json(*request.schema) : json(nullptr)},
      {"workers", snapshot.workers},
      {"workers_missing", snapshot.workers_missing},
      {"entries", matching},
      {"evicted",
       {{"entries", ev.entries},
        {"statements", ev.statements},
        {"errors", ev.errors},
        {"total_seconds", Seconds(ev.total_ns)}}},
      {"digests", std::move(list)},
  };
  return Dump(body);
}

std::string BackendsJson(const ProxySnapshot& snapshot, const std::vector<BackendStatus>& backends) {
  json list = json::array();
  for (const BackendStatus& b : backends) {
    int64_t conns = 0;
    int64_t idle = 0;
    for (const auto& c : snapshot.backend_connections) {
      if (c.backend == b.name) {
        conns += c.connections;
        idle += c.idle;
      }
    }
    uint64_t failures = 0;
    for (const auto& [name, count] : snapshot.metrics.connect_failures()) {
      if (name == b.name) failures += count;
    }
    list.push_back({
        {"name", b.name},
        {"host", b.address.host},
        {"port", b.address.port},
        {"role", std::string(analyzer::BackendRoleName(b.role))},
        {"up", b.up},
        {"checked_at", b.checked ? json(IsoTime(b.checked_ns)) : json(nullptr)},
        {"probe_seconds", b.probe_seconds},
        {"error", Nullable(b.error)},
        {"error_code", b.error_code ? json(b.error_code) : json(nullptr)},
        {"version", Nullable(b.version)},
        {"connections", conns},
        {"idle_connections", idle},
        {"connect_failures", failures},
        {"read_only", nullptr},
        {"lag_seconds", nullptr},
    });
  }
  json body = {{"generated_at", IsoTime(snapshot.taken_ns)}, {"backends", std::move(list)}};
  return Dump(body);
}

std::string SessionsJson(const ProxySnapshot& snapshot, const SessionsRequest& request) {
  json list = json::array();
  size_t n = 0;
  for (const SessionReport& s : snapshot.sessions) {
    if (n++ >= request.limit) break;
    const char* state = s.running_since_ns == 0 ? "idle"
                        : s.running_statement   ? "statement"
                                                : "command";
    json statement = nullptr;
    if (s.running_statement) {
      char hex[16];
      analyzer::DigestHexTo(s.digest, hex);
      statement = {{"digest", std::string(hex, sizeof hex)},
                   {"fingerprint", SafeText(s.fingerprint, kSessionFingerprintBytes)},
                   {"class", std::string(analyzer::StatementClassName(s.statement_class))}};
    }
    json backend = nullptr;
    if (!s.backend.empty()) {
      backend = {{"name", s.backend},
                 {"role", std::string(analyzer::BackendRoleName(s.backend_role))}};
    }
    list.push_back({
        {"worker", s.worker},
        {"id", s.id},
        {"user", Nullable(s.user)},
        {"client_address", s.client_address},
        {"schema", Nullable(s.schema)},
        {"connected_at", IsoTime(s.connected_ns)},
        {"state", state},
        {"running_seconds", s.running_since_ns == 0
                                ? json(nullptr)
                                : json(std::max(0.0, double(snapshot.taken_ns - s.running_since_ns) /
                                                         1e9))},
        {"statement", std::move(statement)},
        {"backend", std::move(backend)},
        {"pins", s.pins},
    });
  }
  json body = {
      {"generated_at", IsoTime(snapshot.taken_ns)},
      {"workers", snapshot.workers},
      {"workers_missing", snapshot.workers_missing},
      {"count", snapshot.sessions.size()},
      {"truncated", snapshot.sessions.size() > request.limit},
      {"sessions", std::move(list)},
  };
  return Dump(body);
}

std::string ErrorJson(std::string_view message) {
  return Dump(json{{"error", std::string(message)}});
}

}  // namespace ql::proxy
