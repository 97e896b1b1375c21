"""Server-side evidence for the read/write splitting tests.

Where a statement ran is proven by the servers' own counters (SHOW GLOBAL
STATUS read as root over each lab server's Unix socket, never through the
proxy), not by what the proxy says. The proxy's backend monitor runs its own
checks on both servers, and other proxies of the session may too, so these
counters carry background noise: callers issue many statements and assert
with margins, never exact equality.

Also here: polling /api/backends until the replica is usable, reading
metrics, replication delay and catch-up, and small statement runners.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import pymysql

from qladmin import admin_json, http_get, parse_metrics
from qlhelpers import pymysql_connect

SERVERS = ("primary", "replica")
USABLE_TIMEOUT = 30  # monitor default: 1 s interval, 2 good checks; generous bound


# ---------------------------------------------------------------------------
# Root access to one lab server (Unix socket; not through any proxy)


def root_connect(lab, server: str, timeout: float = 10):
    """A root connection over the server's socket. It runs no SELECT at
    connect time, so it does not disturb Com_select."""
    sock = os.path.join(lab.dir, server, "mysqld.sock")
    return pymysql.connect(unix_socket=sock, user="root", password="", database="app",
                           autocommit=True, charset="utf8mb4",
                           connect_timeout=timeout, read_timeout=120, write_timeout=60)


def root_query(lab, server: str, sql: str, args=None):
    conn = root_connect(lab, server)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def root_exec(lab, server: str, statements):
    conn = root_connect(lab, server)
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def global_status(lab, server: str, names) -> dict[str, int]:
    conn = root_connect(lab, server)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS")
            rows = dict(cur.fetchall())
    finally:
        conn.close()
    return {n: int(rows.get(n, 0)) for n in names}


@dataclass
class Counters:
    """Deltas of global status counters on both lab servers:
        c = Counters(lab, "Com_select"); ...work...; d = c.delta()
        d["replica"]["Com_select"]"""
    lab: object
    names: tuple
    before: dict = field(default_factory=dict)

    def __init__(self, lab, *names: str):
        self.lab = lab
        self.names = names or ("Com_select",)
        self.before = {s: global_status(lab, s, self.names) for s in SERVERS}

    def delta(self) -> dict[str, dict[str, int]]:
        after = {s: global_status(self.lab, s, self.names) for s in SERVERS}
        return {s: {n: after[s][n] - self.before[s][n] for n in self.names} for s in SERVERS}


def assert_on(delta: dict, server: str, n: int, counter: str = "Com_select", what: str = ""):
    """At least n statements ran on `server` and fewer than n/2 on the other
    (the other's count is background noise only)."""
    other = "primary" if server == "replica" else "replica"
    got, noise = delta[server][counter], delta[other][counter]
    assert got >= n and noise < max(n // 2, 1), (
        f"{what}: expected {n} x {counter} on the {server}; counters moved "
        f"primary +{delta['primary'][counter]}, replica +{delta['replica'][counter]}")


# ---------------------------------------------------------------------------
# Replication


def gtid_binlog_pos(lab) -> str:
    return root_query(lab, "primary", "SELECT @@gtid_binlog_pos")[0][0]


def wait_replica_caught_up(lab, timeout: float = 60):
    pos = gtid_binlog_pos(lab)
    if not pos:
        return
    got = root_query(lab, "replica", "SELECT MASTER_GTID_WAIT(%s, %s)", (pos, timeout))[0][0]
    assert got == 0, f"replica did not reach {pos} within {timeout}s: {slave_status(lab)}"


def slave_status(lab) -> dict:
    conn = root_connect(lab, "replica")
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
            return dict(row) if row else {}
    finally:
        conn.close()


def set_replica_delay(lab, seconds: int):
    """MASTER_DELAY on the replica (events are applied `seconds` after they
    were written on the primary); replication keeps running, so a monitor
    sees a healthy, lagging replica."""
    root_exec(lab, "replica", ["STOP SLAVE", f"CHANGE MASTER TO MASTER_DELAY = {int(seconds)}",
                               "START SLAVE"])
    wait_replication_running(lab)


def wait_replication_running(lab, timeout: float = 60):
    deadline = time.monotonic() + timeout
    st = {}
    while time.monotonic() < deadline:
        try:
            st = slave_status(lab)
        except pymysql.err.Error:
            st = {}
        if st.get("Slave_IO_Running") == "Yes" and st.get("Slave_SQL_Running") == "Yes":
            return
        time.sleep(0.2)
    raise AssertionError(f"replication not running after {timeout}s: {st}")


def ensure_replica_running(lab, timeout: float = 90):
    """After a test that stopped or killed the replica: it runs, replicates,
    has no delay and has caught up."""
    lab.lab("start-replica")
    st = slave_status(lab)
    if st.get("SQL_Delay") not in (None, 0, "0") or st.get("Slave_SQL_Running") != "Yes" \
            or st.get("Slave_IO_Running") != "Yes":
        set_replica_delay(lab, 0)
    wait_replication_running(lab, timeout)
    wait_replica_caught_up(lab, timeout)


# ---------------------------------------------------------------------------
# The proxy's view: /api/backends and /metrics


def backends(admin_port: int) -> list[dict]:
    data = admin_json(admin_port, "/api/backends")
    if isinstance(data, dict):
        data = data.get("backends", [])
    return data


def _replicas(bs: list[dict]) -> list[dict]:
    return [b for b in bs if str(b.get("role", "")).lower() == "replica"]


def replica_usable(admin_port: int) -> bool:
    reps = _replicas(backends(admin_port))
    return bool(reps) and all(b.get("usable_for_reads") is True for b in reps)


def wait_replica_usable(proc, timeout: float = USABLE_TIMEOUT):
    """Polls /api/backends until every replica shows usable_for_reads=true."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    last = None
    while time.monotonic() < deadline:
        last = backends(proc.admin_port)
        reps = _replicas(last)
        if reps and all(b.get("usable_for_reads") is True for b in reps):
            return reps
        if time.monotonic() - t0 > 5 and not any("usable_for_reads" in b for b in reps):
            raise AssertionError("this proxy does not report usable_for_reads in /api/backends "
                                 f"(no read routing?): {last}")
        time.sleep(0.2)
    raise AssertionError(f"replica not usable for reads after {timeout}s; /api/backends: {last}")


def wait_replica_unusable(proc, timeout: float = USABLE_TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = backends(proc.admin_port)
        reps = _replicas(last)
        if reps and all(b.get("usable_for_reads") is False for b in reps):
            return reps
        time.sleep(0.2)
    raise AssertionError(f"replica still usable for reads after {timeout}s; /api/backends: {last}")


def proxy_routes(proc) -> bool:
    """True if this proxy reports read routing state in /api/backends (the
    routing build). Tests of behaviour that exists without routing use it to
    decide whether to also check where statements ran."""
    try:
        reps = _replicas(backends(proc.admin_port))
    except AssertionError:
        return False
    return bool(reps) and all("usable_for_reads" in b for b in reps)


def metrics(admin_port: int):
    r = http_get(admin_port, "/metrics")
    assert r.status == 200, f"/metrics: {r.status} {r.body}"
    return parse_metrics(r.body)


def metric_sum(samples, name: str, **labels) -> float:
    return sum(s.value for s in samples
               if s.name == name and all(s.label(k) == v for k, v in labels.items()))


def metric_names(samples) -> set[str]:
    return {s.name for s in samples}


# ---------------------------------------------------------------------------
# Statement runners


def connect(ep, **kw):
    """pymysql with autocommit ON (pymysql's default is OFF, which would
    make every session one long transaction)."""
    kw.setdefault("autocommit", True)
    return pymysql_connect(ep, **kw)


def q(conn, sql: str, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


def repeat(conn, sql: str, n: int, args_fn=None):
    out = []
    for i in range(n):
        out.append(q(conn, sql, args_fn(i) if args_fn else None))
    return out


def routed_proxy(start_proxy, extra=(), wait_usable: bool = True, **kw):
    """Starts a proxy for this test and waits until it sends reads to the
    replica. Returns (endpoint, process)."""
    ep, proc = start_proxy(list(extra), **kw)
    if wait_usable:
        wait_replica_usable(proc)
    return ep, proc
