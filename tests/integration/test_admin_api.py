"""The admin JSON API: /api/digests (shape, ordering by total time, count and
p99, limit, schema filter, parameter errors), /api/backends and
/api/sessions (shape, live state), and the plain endpoints around them.
"""
from __future__ import annotations

import re
import socket
import threading
import time
from datetime import datetime

import pytest

from conftest import needs_proxy
from qladmin import admin_json, http_get, run, wait_for
from qlhelpers import pymysql_connect
from qlservers import routed_proxy

HEX16 = re.compile(r"^[0-9a-f]{16}$")
OTHER_SCHEMA = "qlm_api_other"

DIGEST_KEYS = {
    "digest": str, "fingerprint": str, "schema": str, "user": str, "role": str, "class": str,
    "count": int, "errors": int, "total_seconds": float, "min_seconds": float,
    "max_seconds": float, "avg_seconds": float, "p50_seconds": float, "p95_seconds": float,
    "p99_seconds": float, "rows_sent": int, "rows_affected": int, "bytes_sent": int,
    "bytes_received": int, "warnings": int, "no_index_used": int, "no_good_index_used": int,
    "server_slow": int, "prepared": int, "pool_wait_seconds": float,
    "state_sync_seconds": float, "backend_first_byte_seconds": float, "first_seen": str,
    "last_seen": str,
}


def _iso(t: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", t), t
    return datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")


def _num(v, kind):
    if kind is float:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, kind) and not isinstance(v, bool)


@pytest.fixture(scope="module")
def api_proxy(lab, proxy_log_dir):
    """One proxy for the module, with a known workload already run."""
    needs_proxy()
    from conftest import ADMIN_PORT, PROXY_PORT, ProxyProcess
    port = PROXY_PORT + 5
    # All on the primary: one digest entry per statement shape (entries are
    # per role), so the orderings below do not depend on routing.
    p = ProxyProcess("admin-api", port, ADMIN_PORT + 5, ["--read-write-split", "off"],
                     proxy_log_dir)
    p.start()
    ep = p.endpoint("admin-api")
    run(ep, [f"CREATE DATABASE IF NOT EXISTS {OTHER_SCHEMA}",
             f"CREATE TABLE IF NOT EXISTS {OTHER_SCHEMA}.t (id INT PRIMARY KEY)",
             "CREATE TABLE IF NOT EXISTS qlm_api_t (id INT PRIMARY KEY, v INT)",
             "REPLACE INTO qlm_api_t VALUES (1, 1), (2, 2), (3, 3)"])
    # A: many fast statements (top by count).
    run(ep, [f"SELECT id FROM qlm_api_t WHERE id = {i % 3 + 1}" for i in range(60)])
    # B: few, slow statements (top by p99).
    run(ep, ["SELECT SLEEP(0.25) AS qlm_b"] * 2)
    # C: medium statements, largest total (top by total time).
    run(ep, ["SELECT SLEEP(0.04) AS qlm_c"] * 20)
    # In another schema, and without a schema.
    run(ep, [f"SELECT COUNT(*) FROM t WHERE id > {i}" for i in range(7)], db=OTHER_SCHEMA)
    run(ep, [f"SELECT {i} + 1 AS qlm_noschema" for i in range(4)], db=None)
    yield ep, p
    p.stop()


def _digests(p, query=""):
    return admin_json(p.admin_port, f"/api/digests{query}")


def _find(digests, prefix):
    found = [d for d in digests if d["fingerprint"].startswith(prefix)]
    assert found, f"no digest starting with {prefix!r} in {[d['fingerprint'] for d in digests]}"
    return found


def test_digests_shape(api_proxy):
    ep, p = api_proxy
    body = _digests(p, "?limit=1000")
    assert body["order"] == "total_time" and body["limit"] == 1000 and body["schema"] is None
    assert body["workers"] >= 1 and body["workers_missing"] == 0
    assert isinstance(body["entries"], int) and body["entries"] == len(body["digests"])
    assert set(body["evicted"]) == {"entries", "statements", "errors", "total_seconds"}
    _iso(body["generated_at"])
    for d in body["digests"]:
        assert set(d) == set(DIGEST_KEYS), set(d) ^ set(DIGEST_KEYS)
        for k, kind in DIGEST_KEYS.items():
            assert _num(d[k], kind) if kind is not str else isinstance(d[k], str), (k, d[k])
        assert HEX16.match(d["digest"]), d["digest"]
        assert d["role"] in ("primary", "replica", "none")
        assert d["count"] >= 1
        assert d["min_seconds"] <= d["p50_seconds"] <= d["p95_seconds"] <= d["p99_seconds"] \
            <= d["max_seconds"] * 1.0001 + 1e-9
        assert abs(d["avg_seconds"] * d["count"] - d["total_seconds"]) < 1e-6 * d["count"] + 1e-9
        assert _iso(d["first_seen"]) <= _iso(d["last_seen"])
    a = _find(body["digests"], "select id from qlm_api_t where id = ?")
    assert sum(d["count"] for d in a) == 60
    assert all(d["schema"] == "app" and d["user"] == "app" and d["role"] == "primary" and
               d["class"] == "read" for d in a)
    assert sum(d["rows_sent"] for d in a) == 60
    c = _find(body["digests"], "select sleep(?) as qlm_c")[0]
    assert c["count"] == 20 and 0.04 <= c["min_seconds"] and c["total_seconds"] >= 0.8
    b = _find(body["digests"], "select sleep(?) as qlm_b")[0]
    assert b["count"] == 2 and b["max_seconds"] >= 0.25
    # Rows affected by the REPLACE.
    rep = _find(body["digests"], "replace into qlm_api_t")[0]
    assert rep["rows_affected"] >= 3 and rep["class"] == "write"


def test_digests_order_and_limit(api_proxy):
    ep, p = api_proxy
    by_time = _digests(p, "?order=total_time&limit=1")["digests"]
    assert len(by_time) == 1 and by_time[0]["fingerprint"].startswith("select sleep(?) as qlm_c")
    by_count = _digests(p, "?order=count&limit=1")["digests"]
    assert by_count[0]["fingerprint"].startswith("select id from qlm_api_t where id = ?")
    by_p99 = _digests(p, "?order=p99&limit=1")["digests"]
    assert by_p99[0]["fingerprint"].startswith("select sleep(?) as qlm_b")
    # Whole lists are sorted descending by their key.
    for order, key in (("total_time", "total_seconds"), ("count", "count"), ("p99", "p99_seconds")):
        ds = _digests(p, f"?order={order}&limit=10000")["digests"]
        keys = [d[key] for d in ds]
        assert keys == sorted(keys, reverse=True), (order, keys)
    assert len(_digests(p, "?limit=3")["digests"]) == 3
    assert len(_digests(p)["digests"]) <= 20  # default limit


def test_digests_schema_filter(api_proxy):
    ep, p = api_proxy
    other = _digests(p, f"?schema={OTHER_SCHEMA}&limit=1000")
    assert other["schema"] == OTHER_SCHEMA
    assert other["digests"] and all(d["schema"] == OTHER_SCHEMA for d in other["digests"])
    t = _find(other["digests"], "select count(*) from t where id > ?")
    assert sum(d["count"] for d in t) == 7
    app = _digests(p, "?schema=app&limit=1000")["digests"]
    assert app and all(d["schema"] == "app" for d in app)
    assert not [d for d in app if d["fingerprint"].startswith("select count(*) from t where")]
    none = _digests(p, "?schema=&limit=1000")
    assert none["schema"] == ""
    ns = _find(none["digests"], "select ? + ? as qlm_noschema")
    assert sum(d["count"] for d in ns) == 4 and all(d["schema"] == "" for d in none["digests"])
    assert _digests(p, "?schema=qlm_no_such_schema")["digests"] == []
    # Percent-encoding and combination with order.
    enc = _digests(p, f"?order=count&schema={OTHER_SCHEMA.replace('_', '%5F')}")
    assert enc["schema"] == OTHER_SCHEMA and enc["order"] == "count"


@pytest.mark.parametrize("query", ["?order=slowest", "?limit=0", "?limit=abc", "?limit=10001",
                                   "?sort=count", "?schema=%zz"])
def test_digests_bad_parameters(api_proxy, query):
    ep, p = api_proxy
    r = http_get(p.admin_port, f"/api/digests{query}")
    assert r.status == 400, (query, r.status, r.body)
    assert r.content_type.startswith("application/json")
    assert isinstance(r.json()["error"], str) and r.json()["error"]


def test_backends_shape(api_proxy, lab):
    ep, p = api_proxy
    conn = pymysql_connect(ep)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        body = admin_json(p.admin_port, "/api/backends")
    finally:
        conn.close()
    _iso(body["generated_at"])
    backends = body["backends"]
    assert [b["role"] for b in backends] == ["primary", "replica"]
    keys = {"name", "host", "port", "role", "up", "checked_at", "probe_seconds", "error",
            "error_code", "version", "connections", "connect_failures", "read_only", "lag_seconds",
            "address", "weight", "usable_for_reads", "replication_running",
            "caught_up_with_down_primary", "last_error", "checks_failed", "idle_connections"}
    for b in backends:
        assert set(b) == keys, set(b) ^ keys
        assert b["up"] is True and b["error"] is None and b["error_code"] is None
        assert b["name"] == f"{b['host']}:{b['port']}"
        assert "MariaDB" in b["version"]
        _iso(b["checked_at"])
        assert isinstance(b["connections"], int) and isinstance(b["connect_failures"], int)
        assert 0 <= b["idle_connections"] <= b["connections"]
    assert backends[0]["port"] == lab.primary.port and backends[1]["port"] == lab.replica.port
    assert backends[0]["connections"] >= 1  # the connection above holds one
    r = http_get(p.admin_port, "/api/backends?x=1")
    assert r.status == 400


def test_backends_down(start_proxy):
    needs_proxy()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    ep, p = start_proxy(["--replica", f"127.0.0.1:{dead}"])
    body = admin_json(p.admin_port, "/api/backends")
    down = [b for b in body["backends"] if b["port"] == dead]
    assert len(down) == 1 and down[0]["up"] is False and down[0]["error"], down
    assert down[0]["role"] == "replica" and down[0]["version"] is None
    assert http_get(p.admin_port, "/readyz").status == 200  # the primary is up


def test_backends_login_refused_is_still_up(start_proxy):
    """The probe logs in with the first user's backend credentials; a server
    that refuses them is reachable, hence up, with the refusal shown."""
    needs_proxy()
    ep, p = start_proxy(users=["app:qlm_wrong_password"])
    body = admin_json(p.admin_port, "/api/backends")
    for b in body["backends"]:
        assert b["up"] is True, b
        assert b["error_code"] == 1045 and b["error"].startswith("login refused: Access denied"), b
    assert http_get(p.admin_port, "/readyz").status == 200
    assert "qlm_wrong_password" not in http_get(p.admin_port, "/api/backends").body


def test_sessions_shape_and_live_state(api_proxy):
    ep, p = api_proxy
    idle = pymysql_connect(ep)
    busy = pymysql_connect(ep, read_timeout=30)
    done = threading.Event()

    def sleeper():
        with busy.cursor() as cur:
            cur.execute("SELECT SLEEP(3) AS qlm_session_sleep")
            cur.fetchall()
        done.set()

    try:
        with idle.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
        t = threading.Thread(target=sleeper, daemon=True)
        t.start()

        def running():
            body = admin_json(p.admin_port, "/api/sessions")
            return [s for s in body["sessions"] if s["state"] == "statement"] and body
        body = wait_for(running, timeout=5, what="a session in state 'statement'")
        _iso(body["generated_at"])
        assert body["count"] >= 2 and body["truncated"] is False and body["workers_missing"] == 0
        keys = {"worker", "id", "user", "client_address", "schema", "connected_at", "state",
                "running_seconds", "statement", "backend", "pins"}
        for s in body["sessions"]:
            assert set(s) == keys, set(s) ^ keys
            assert s["state"] in ("idle", "statement", "command")
            _iso(s["connected_at"])
        sessions = body["sessions"]
        running_now = [s for s in sessions if s["state"] == "statement"]
        assert len(running_now) == 1, running_now
        r = running_now[0]
        assert r["user"] == "app" and r["schema"] == "app" and r["client_address"] == "127.0.0.1"
        assert r["statement"]["fingerprint"] == "select sleep(?) as qlm_session_sleep"
        assert HEX16.match(r["statement"]["digest"]) and r["statement"]["class"] == "read"
        assert r["running_seconds"] >= 0
        assert r["backend"]["role"] == "primary" and r["pins"] == []
        idle_ones = [s for s in sessions if s["state"] == "idle"]
        assert idle_ones and all(s["statement"] is None and s["running_seconds"] is None
                                 for s in idle_ones)
        ids = {s["id"] for s in sessions}
        assert len(ids) == len(sessions)
        assert done.wait(10)
        # The digest of the running statement is the one /api/digests reports.
        ds = admin_json(p.admin_port, "/api/digests?limit=1000")["digests"]
        match = [d for d in ds if d["digest"] == r["statement"]["digest"]]
        assert match and match[0]["fingerprint"] == r["statement"]["fingerprint"]
        limited = admin_json(p.admin_port, "/api/sessions?limit=1")
        assert len(limited["sessions"]) == 1 and limited["truncated"] is True
    finally:
        idle.close()
        busy.close()
    before = body["count"]
    wait_for(lambda: admin_json(p.admin_port, "/api/sessions")["count"] <= before - 2,
             what="closed sessions leaving /api/sessions")
    assert http_get(p.admin_port, "/api/sessions?bogus=1").status == 400


def test_sessions_show_the_replica_running_a_read(lab, start_proxy):
    """The backend of a running statement is the one it runs on, here the
    replica (it used to be the session's primary connection)."""
    ep, proc = routed_proxy(start_proxy, ["--read-after-write-window", "0"])
    conn = pymysql_connect(ep, read_timeout=30, autocommit=True)
    done = threading.Event()

    def sleeper():
        with conn.cursor() as cur:
            cur.execute("SELECT SLEEP(2) AS qlm_replica_sleep, @@port")
            done.port = cur.fetchall()[0][1]
        done.set()

    try:
        with conn.cursor() as cur:  # the session holds a primary connection too
            cur.execute("SELECT /* querylens:primary */ 1")
        t = threading.Thread(target=sleeper, daemon=True)
        t.start()

        def running():
            # The backend is null for the moment the replica connection is made.
            body = admin_json(proc.admin_port, "/api/sessions")
            return [s for s in body["sessions"] if s["state"] == "statement" and s["backend"]]
        r = wait_for(running, timeout=5, what="the sleeping session on its backend")[0]
        assert done.wait(10)
        assert done.port == lab.replica.port
        assert r["backend"] == {"name": f"127.0.0.1:{lab.replica.port}", "role": "replica"}, r
        # Between commands: where the last statement ran.
        idle = [s for s in admin_json(proc.admin_port, "/api/sessions")["sessions"]
                if s["id"] == r["id"]]
        assert idle and idle[0]["state"] == "idle", idle
        assert idle[0]["backend"] in (None, r["backend"]), idle
    finally:
        conn.close()


def test_plain_endpoints(api_proxy):
    ep, p = api_proxy
    assert http_get(p.admin_port, "/healthz").body == "ok\n"
    r = http_get(p.admin_port, "/readyz")
    assert r.status == 200 and "primary" in r.body
    assert http_get(p.admin_port, "/nope").status == 404
    r = http_get(p.admin_port, "/api/nope")
    assert r.status == 404 and r.json()["error"]
    assert http_get(p.admin_port, "/metrics", method="POST").status == 405
    head = http_get(p.admin_port, "/api/backends", method="HEAD")
    assert head.status == 200 and head.body == ""
    # Many requests in a row stay quick (the backend probe result is cached).
    t0 = time.monotonic()
    for _ in range(20):
        assert http_get(p.admin_port, "/metrics").status == 200
    assert time.monotonic() - t0 < 10


def test_sessions_show_pins(api_proxy):
    ep, p = api_proxy
    conn = pymysql_connect(ep)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE qlm_pin_tmp (id INT)")
            cur.execute("SELECT CONNECTION_ID()")
        body = admin_json(p.admin_port, "/api/sessions")
        pinned = [s for s in body["sessions"] if s["pins"]]
        assert len(pinned) == 1, body["sessions"]
        assert pinned[0]["pins"] == ["temporary_table"]
    finally:
        conn.close()
