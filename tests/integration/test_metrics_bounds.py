"""The number of /metrics series is bounded by the configuration, whatever
the workload: a varied one (many more distinct digests than
--metrics-top-digests, reads and writes, syntax / unknown-table /
duplicate-key / access-denied errors, server-side prepared statements
through libmariadb, two users, two schemas, read/write splitting to the
replica, N+1-looking loops) leaves every family within the label domain the
proxy's enums and its configured backends allow, per-digest families at
exactly K + 1 series (the top K and "other"), and a total at most the sum of
those domains. Running the same kind of workload again with new literal
values and new digests does not add series.

The label domains below are the enums of proxy/metrics_shard.h,
proxy/route_planner.h, analyzer/classification_names.cc and
analyzer/n_plus_one_finding.h / n_plus_one_reporter.h, and the 18 finite
buckets of analyzer::kPrometheusLatencyBuckets. A family that is not listed
fails the test: a new family needs its bound written down here.
"""
from __future__ import annotations

import random
import re
import secrets
from collections import Counter, defaultdict

import pytest

from conftest import needs_proxy
from qladmin import admin_json, run, scrape, select, value, wait_for
from qlhelpers import APP2_PASSWORD, APP2_USER, build_qlbind, pymysql_connect, run_qlbind
from qlservers import routed_proxy, wait_replica_caught_up

TOP_K = 8
SCHEMA_B = "qlm_series_b"
N1_ROWS = 10

ROLES = ("primary", "replica", "none")
STATEMENT_CLASSES = ("read", "locking_read", "write", "ddl", "transaction", "session",
                     "primary_only", "unknown")
ERROR_CLASSES = ("syntax", "duplicate_key", "deadlock", "lock_wait_timeout", "access_denied",
                 "unknown_object", "data", "connection", "other")
PIN_REASONS = ("temporary_table", "user_lock", "lock_tables", "prepared_statement",
               "user_variable", "handler", "session_history", "sequence", "stored_routine",
               "sql_log_bin")
ROUTE_REASONS = ("read", "not_a_read", "transaction", "autocommit_off", "read_only_transaction",
                 "pinned", "recent_write", "hint_primary", "hint_replica", "rule_primary",
                 "rule_replica", "no_usable_replica", "split_off", "command",
                 "follows_last_statement", "primary_down")
CAUSAL_OUTCOMES = ("replica", "timeout", "no_gtid", "error")
LOGIN_FAILURES = ("access_denied", "handshake", "backend")
N1_KINDS = ("n_plus_one", "duplicate", "repeated_cycle", "write_loop", "too_many_statements")
N1_CONFIDENCES = ("high", "medium", "low")
N1_DECISIONS = ("report", "suppressed", "allow_listed", "silenced")
FINITE_BUCKETS = 18
SCRAPE_FINITE_BUCKETS = 11
BUCKETS: dict[str, int] = {}  # filled by series_domain()
ADMIN_PATHS = ("/metrics", "/healthz", "/readyz", "/api/digests", "/api/backends",
               "/api/sessions", "/api/n_plus_one", "/", "other")
ADMIN_CODES = ("200", "400", "404", "405", "503")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _size(labels: dict) -> int:
    n = 1
    for allowed in labels.values():
        n *= len(allowed)
    return n


def series_domain(backends: dict[str, str], top_k: int) -> dict[str, tuple[dict, int]]:
    """For every sample name /metrics may carry: the allowed values of each
    label (None: any value, bounded by the count) and the most series it may
    have, computed from the configuration (backends: address -> role)."""
    names = tuple(backends)
    replicas = tuple(b for b, r in backends.items() if r == "replica")
    d: dict[str, tuple[dict, int]] = {}
    bucket_counts = BUCKETS  # histogram bucket family -> buckets per label set, +Inf included

    def fam(name, labels, most=None):
        d[name] = (labels, _size(labels) if most is None else most)

    def histogram(name, labels, finite=FINITE_BUCKETS):
        sets = _size(labels)
        bucket_counts[name + "_bucket"] = finite + 1
        fam(name + "_bucket", {**labels, "le": None}, sets * (finite + 1))
        fam(name + "_sum", labels)
        fam(name + "_count", labels)

    role_class = {"role": ROLES, "class": STATEMENT_CLASSES}
    fam("querylens_build_info", {"version": None}, 1)
    fam("querylens_statements_total", role_class)
    histogram("querylens_statement_duration_seconds", role_class)
    fam("querylens_statement_errors_total", {"class": ERROR_CLASSES})
    fam("querylens_rows_sent_total", {"role": ROLES})
    fam("querylens_rows_affected_total", {"role": ROLES})
    for name in ("client_sent_bytes_total", "client_received_bytes_total", "client_connections",
                 "client_connections_total", "read_retries_total", "slow_log_entries_total",
                 "slow_log_dropped_total", "digests_tracked", "digest_evictions_total",
                 "scrape_worker_timeouts_total"):
        fam("querylens_" + name, {})
    # Per configured backend (its role is checked against the backend below).
    backend_role = {"backend": names, "role": ("primary", "replica")}
    for name in ("backend_connections", "pool_idle_connections", "pool_wait_timeouts_total",
                 "backend_up",
                 "backend_checks_failed_total", "backend_read_only"):
        fam("querylens_" + name, backend_role, len(names))
    fam("querylens_backend_connect_failures_total", {"backend": names})
    fam("querylens_backend_usable_for_reads", {"backend": replicas})
    fam("querylens_replication_lag_seconds", {"backend": replicas})
    histogram("querylens_pool_wait_seconds", {"role": ROLES})
    fam("querylens_session_pins_total", {"reason": PIN_REASONS})
    fam("querylens_routing_decisions_total",
        {"target": ("primary", "replica"), "reason": ROUTE_REASONS})
    fam("querylens_causal_reads_total", {"outcome": CAUSAL_OUTCOMES})
    fam("querylens_client_login_failures_total", {"reason": LOGIN_FAILURES})
    # The admin thread's registry: requests by known path and HTTP status.
    fam("querylens_admin_requests_total", {"path": ADMIN_PATHS, "code": ADMIN_CODES})
    histogram("querylens_scrape_duration_seconds", {}, finite=SCRAPE_FINITE_BUCKETS)
    fam("querylens_n_plus_one_findings_total", {"kind": N1_KINDS, "confidence": N1_CONFIDENCES})
    looped = tuple(k for k in N1_KINDS if k != "too_many_statements")
    fam("querylens_n_plus_one_statements_total", {"kind": looped})
    fam("querylens_n_plus_one_seconds_total", {"kind": looped})
    fam("querylens_n_plus_one_decisions_total", {"decision": N1_DECISIONS})
    # Per digest: the top K (digest, schema) pairs and one "other".
    digest_id = lambda v: v == "other" or bool(HEX16.match(v))  # noqa: E731
    fam("querylens_digest_statements_total", {"digest": digest_id, "schema": None}, top_k + 1)
    fam("querylens_digest_seconds_total", {"digest": digest_id, "schema": None}, top_k + 1)
    fam("querylens_digest_info", {"digest": lambda v: bool(HEX16.match(v)), "fingerprint": None},
        top_k)
    return d


def check_bounded(samples, backends: dict[str, str], top_k: int) -> int:
    """Asserts that every series is within its family's label domain and
    count; returns the configuration's bound on the total."""
    domain = series_domain(backends, top_k)
    problems = []
    keys = [(s.name, s.labels) for s in samples]
    dupes = [k for k, n in Counter(keys).items() if n > 1]
    if dupes:
        problems.append(f"series exported twice: {dupes[:5]}")
    counts = Counter()
    buckets = defaultdict(set)
    for s in samples:
        if s.name not in domain:
            problems.append(f"family {s.name} has no bound in this test: add its label domain")
            continue
        allowed, _ = domain[s.name]
        got = dict(s.labels)
        if set(got) != set(allowed):
            problems.append(f"{s.name}: labels {sorted(got)}, expected {sorted(allowed)}")
            continue
        for k, ok in allowed.items():
            if ok is None:
                continue
            if not (ok(got[k]) if callable(ok) else got[k] in ok):
                problems.append(f"{s.name}: {k}={got[k]!r} is outside the label's domain")
        if "backend" in got and "role" in got and backends.get(got["backend"]) != got["role"]:
            problems.append(f"{s.name}: backend {got['backend']} with role {got['role']}")
        if s.name.endswith("_bucket"):
            buckets[(s.name, tuple(kv for kv in s.labels if kv[0] != "le"))].add(got["le"])
        counts[s.name] += 1
    for name, n in counts.items():
        if n > domain[name][1]:
            problems.append(f"{name}: {n} series, the configuration allows {domain[name][1]}")
    for key, les in buckets.items():
        if len(les) != BUCKETS[key[0]] or "+Inf" not in les:
            problems.append(f"{key}: buckets {sorted(les)}")
    bound = sum(most for _, most in domain.values())
    if len(samples) > bound:
        problems.append(f"{len(samples)} series in all, the configuration allows {bound}")
    assert not problems, "\n".join(problems)
    return bound


@pytest.fixture(scope="module")
def qlbind(tmp_path_factory) -> str:
    return build_qlbind(tmp_path_factory.mktemp("qlbind"))


SETUP = [
    f"CREATE DATABASE IF NOT EXISTS {SCHEMA_B}",
    "CREATE TABLE IF NOT EXISTS qlm_series (id BIGINT PRIMARY KEY, v INT, s VARCHAR(64))",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA_B}.t (id BIGINT PRIMARY KEY, v INT)",
    "CREATE TABLE IF NOT EXISTS qlm_series_n1 (id INT PRIMARY KEY, v INT)",
    "REPLACE INTO qlm_series_n1 VALUES " + ", ".join(f"({i}, {i})" for i in range(1, N1_ROWS + 1)),
]


def _n_plus_one_loop(ep, tag: str, base: int):
    """A parent query, then one lookup per row (different values)."""
    conn = pymysql_connect(ep, autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute("SELECT id FROM qlm_series_n1 ORDER BY id")
        for (i,) in cur.fetchall():
            cur.execute(f"SELECT v AS {tag}_n FROM qlm_series_n1 WHERE id = {i} AND v < {base}")
            cur.fetchall()
    finally:
        conn.close()  # the end of the session ends the unit: the loop is reported


def varied_round(ep, qlbind: str, tag: str, base: int):
    """One round of the varied workload. `tag` names this round's new
    digests (column aliases, table names), `base` gives its literal values."""
    ids = [base + i for i in range(10)]
    # User app, schema app: writes, then reads of many shapes, then errors.
    run(ep, [*[f"INSERT INTO qlm_series (id, v, s) VALUES ({i}, {i % 7}, 'w{i}')" for i in ids],
             *[f"UPDATE qlm_series SET v = v + {k} WHERE id = {ids[k]}" for k in range(4)],
             *[f"DELETE FROM qlm_series WHERE id = {ids[k]}" for k in (8, 9)],
             *[f"SELECT v AS {tag}_a{k} FROM qlm_series WHERE id = {ids[k % 8]}"
               for k in range(12)],
             f"SELEC {base}",
             f"SELECT * FROM qlm_series_missing_{tag} WHERE id = {base}",
             f"INSERT INTO qlm_series (id, v, s) VALUES ({ids[0]}, 0, 'dup{base}')"])
    # Fresh sessions with plain reads: these go to the replica.
    run(ep, [f"SELECT COUNT(*) AS {tag}_r{k} FROM qlm_series WHERE v > {base % 97 + k}"
             for k in range(6)])
    # The other schema.
    run(ep, [*[f"REPLACE INTO t (id, v) VALUES ({i}, {i % 5})" for i in ids[:4]],
             *[f"SELECT v AS {tag}_b{k} FROM t WHERE id = {ids[k]}" for k in range(4)]],
        db=SCHEMA_B)
    # The other user, who may not read the other schema.
    run(ep, [*[f"SELECT s AS {tag}_u{k} FROM qlm_series WHERE id = {ids[k]}" for k in range(4)],
             f"UPDATE qlm_series SET s = 'u{base}' WHERE id = {ids[1]}",
             f"SELECT * FROM {SCHEMA_B}.t WHERE id = {base}"],
        user=APP2_USER, password=APP2_PASSWORD)
    _n_plus_one_loop(ep, tag, base)
    # Server-side prepared statements (binary protocol), as both users; the
    # first is a loop over a parent query's rows.
    pid = base + 50
    script = [["Q", "SELECT id FROM qlm_series_n1 ORDER BY id"],
              ["P", f"SELECT v AS {tag}_p FROM qlm_series_n1 WHERE id = ? AND v < ?"],
              *[["E", f"i:{i}", f"i:{base}"] for i in range(1, N1_ROWS + 1)],
              ["P", "INSERT INTO qlm_series (id, v, s) VALUES (?, ?, ?)"],
              ["E", f"i:{pid}", "i:1", f"s:p{base}"],
              ["E", f"i:{pid}", "i:2", f"s:p{base}"],  # duplicate key
              ["P", "UPDATE qlm_series SET v = ? WHERE id = ?"], ["E", "i:5", f"i:{pid}"],
              ["P", "DELETE FROM qlm_series WHERE id = ?"], ["E", f"i:{pid}"],
              ["P", f"SELEC ? AS {tag}"],
              ["P", f"SELECT * FROM qlm_series_gone_{tag} WHERE id = ?"]]
    for k in range(4):
        script += [["P", f"SELECT ? + {k} AS {tag}_q{k}"], ["E", f"i:{base}"]]
    out = run_qlbind(qlbind, ep, script)
    assert sum(line.startswith("ERR 1062") for line in out) == 1, out
    run_qlbind(qlbind, ep, [["P", f"SELECT s AS {tag}_p2 FROM qlm_series WHERE id = ?"],
                            ["E", f"i:{ids[2]}"], ["E", f"i:{ids[3]}"]],
               user=APP2_USER, password=APP2_PASSWORD)
    # Last, so that they are the most recently used digest entries: a few
    # statements that are clearly the top ones by total time.
    run(ep, [f"SELECT SLEEP(0.02) AS {tag}_top{j}" for j in range(3) for _ in range(3)])


def _fixed_keys(samples) -> set:
    return {(s.name, s.labels) for s in samples if not s.name.startswith("querylens_digest")}


def _check_round(p, backends, tag, before) -> list:
    _, samples = scrape(p.admin_port)
    bound = check_bounded(samples, backends, TOP_K)
    print(f"{tag}: {len(samples)} series, bound {bound}")
    # Per-digest families: exactly the top K pairs plus "other".
    assert len(select(samples, "querylens_digest_statements_total")) == TOP_K + 1
    assert len(select(samples, "querylens_digest_seconds_total")) == TOP_K + 1
    infos = select(samples, "querylens_digest_info")
    assert 1 <= len(infos) <= TOP_K
    fingerprints = " ".join(s.label("fingerprint") for s in infos)
    for j in range(3):
        assert f"{tag}_top{j}" in fingerprints, fingerprints
    # The digest counters never go backwards: "other" only grows, even as
    # digests climb into the top (they keep their earlier counts there). A
    # series that left the top is gone with its counts, so together the
    # digest series show at most every statement.
    for fam in ("querylens_digest_statements_total", "querylens_digest_seconds_total"):
        assert value(samples, fam, digest="other") >= value(before, fam, digest="other"), fam
        assert value(samples, fam, digest="other") > 0, fam
    assert value(samples, "querylens_digest_statements_total") <= \
        value(samples, "querylens_statements_total")
    # The round was as varied as claimed: replica reads, writes, each kind
    # of error, N+1 findings.
    def grew(name, **labels):
        return value(samples, name, **labels) > value(before, name, **labels)
    assert grew("querylens_statements_total", role="replica", **{"class": "read"})
    assert grew("querylens_statements_total", role="primary", **{"class": "write"})
    for cls in ("syntax", "unknown_object", "duplicate_key", "access_denied"):
        assert grew("querylens_statement_errors_total", **{"class": cls}), cls
    return samples


@pytest.mark.slow
def test_series_bounded_after_a_varied_workload(start_proxy, lab, qlbind):
    needs_proxy()
    ep, p = routed_proxy(start_proxy, ["--metrics-top-digests", str(TOP_K),
                                       "--digest-max-entries", "24",
                                       "--n-plus-one-unit-idle-gap", "0.3"])
    backends = {f"127.0.0.1:{lab.primary.port}": "primary",
                f"127.0.0.1:{lab.replica.port}": "replica"}
    run(ep, SETUP)
    wait_replica_caught_up(lab)
    _, start = scrape(p.admin_port)
    check_bounded(start, backends, TOP_K)
    rng = random.Random(secrets.randbits(64))

    varied_round(ep, qlbind, "r1", rng.randrange(10 ** 6, 10 ** 7) * 1000)
    first = _check_round(p, backends, "r1", start)
    # Both users and both schemas are in the digest statistics, prepared
    # statements too, and there were far more digests than K.
    api = admin_json(p.admin_port, "/api/digests?limit=10000")
    assert {d["user"] for d in api["digests"]} >= {"app", APP2_USER}
    assert {d["schema"] for d in api["digests"]} >= {"app", SCHEMA_B}
    assert sum(d["prepared"] for d in api["digests"]) > 0
    assert api["entries"] + api["evicted"]["entries"] > 4 * TOP_K
    wait_for(lambda: value(scrape(p.admin_port)[1], "querylens_n_plus_one_findings_total") >= 2,
             what="the N+1-looking loops reported")

    # The same workload with new literal values and new digests.
    varied_round(ep, qlbind, "r2", rng.randrange(10 ** 6, 10 ** 7) * 1000 + 500)
    again = _check_round(p, backends, "r2", first)
    assert value(again, "querylens_digest_evictions_total") > 0
    # No new series: the digest families kept their K + 1, and every other
    # family has the same label sets as after the first round.
    # (The admin API's own request counter grows with what this test asks
    # it; its domain is bounded above.)
    own = lambda keys: {k for k in keys if k[0] != "querylens_admin_requests_total"}  # noqa: E731
    new = own(_fixed_keys(again)) - own(_fixed_keys(first))
    assert not new, f"series added by the second round: {sorted(new)}"
    counted = lambda samples: [x for x in samples  # noqa: E731
                               if x.name != "querylens_admin_requests_total"]
    assert len(counted(again)) == len(counted(first)), (len(first), len(again))
