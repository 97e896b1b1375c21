"""N+1 warnings through the proxy: a real PyMySQL client runs loops of
lookups against the lab's MariaDB, and the proxy reports them in its log
(--log-format json: one JSON line per finding, the finding's keys at the top
level next to ts/level/msg), on /api/n_plus_one and in
querylens_n_plus_one_findings_total{kind,confidence}.

Units of work are cut by idle gaps; the last unit of a connection that stays
open is reported by the proxy's poll timer, so the tests keep connections
open while they wait and never depend on the next statement.
"""
from __future__ import annotations

import json
import time

import pytest

from qladmin import admin_json, scrape, value, wait_for
from qlhelpers import pymysql_connect

ROWS = 20
PARENT = "SELECT id, name FROM n1_items ORDER BY id"
CHILD = "SELECT label FROM n1_tags WHERE item_id = %s"
# Units close after this gap; the poll adds at most 250 ms.
IDLE_GAP = 0.3


def _setup(ep):
    conn = pymysql_connect(ep, autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS n1_items (id INT PRIMARY KEY, name VARCHAR(20))")
        cur.execute("CREATE TABLE IF NOT EXISTS n1_tags (id INT PRIMARY KEY AUTO_INCREMENT, "
                    "item_id INT, label VARCHAR(20), KEY (item_id))")
        cur.execute("SELECT COUNT(*) FROM n1_items")
        if cur.fetchone()[0] != ROWS:
            cur.execute("DELETE FROM n1_items")
            cur.execute("DELETE FROM n1_tags")
            for i in range(1, ROWS + 1):
                cur.execute("INSERT INTO n1_items VALUES (%s, %s)", (i, f"item{i}"))
                cur.execute("INSERT INTO n1_tags (item_id, label) VALUES (%s, %s)", (i, f"tag{i}"))
    finally:
        conn.close()


def _start(start_proxy, *extra):
    ep, p = start_proxy(["--log-format", "json", "--read-write-split", "off",
                         "--n-plus-one-unit-idle-gap", str(IDLE_GAP), *extra])
    _setup(ep)
    time.sleep(IDLE_GAP * 3)  # the set-up's unit is over
    return ep, p


def _findings_in_log(p) -> list[dict]:
    out = []
    for line in p.log_path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        obj = json.loads(line)
        if obj.get("event") == "n_plus_one":
            out.append(obj)
    return out


def _loop(conn, comment="", ids=None):
    cur = conn.cursor()
    cur.execute(PARENT + comment)
    rows = cur.fetchall()
    assert len(rows) == ROWS
    for item_id in (ids if ids is not None else [r[0] for r in rows]):
        cur.execute(CHILD + comment, (item_id,))
        cur.fetchall()
    cur.close()


def _settled(p):
    """Waits until units have been closed by the idle poll."""
    time.sleep(IDLE_GAP + 0.25 + 0.5)


def test_loop_of_lookups_is_one_high_confidence_finding(start_proxy):
    # Two workers: deduplication is shared, so the later connections below
    # meet the first one's report whichever worker serves them.
    ep, p = _start(start_proxy, "--workers", "2")
    conn = pymysql_connect(ep, autocommit=True)
    try:
        _loop(conn, comment=" /*route='items/',controller='item_list'*/")
        # The connection stays open: the poll timer reports the idle unit.
        logged = wait_for(lambda: _findings_in_log(p), timeout=10, what="an N+1 log line")
        _settled(p)
        logged = _findings_in_log(p)
    finally:
        conn.close()
    assert len(logged) == 1, logged
    f = logged[0]
    assert f["level"] == "warn" and f["msg"].startswith("n_plus_one")
    assert f["kind"] == "n_plus_one" and f["confidence"] == "high"
    assert f["count"] == ROWS and f["distinct_values"] == ROWS
    assert "n1_tags" in f["fingerprint"] and "n1_items" in f["parent_fingerprint"]
    assert f["parent_rows"] == ROWS
    assert f["route"] == "items/" and f["controller"] == "item_list"
    assert f["user"] == "app"

    api = admin_json(p.admin_port, "/api/n_plus_one")
    assert len(api["findings"]) == 1
    a = api["findings"][0]
    for key, v in f.items():
        if key not in ("ts", "level", "msg"):
            assert a[key] == v, key
    assert "reported_at" in a and "worker" in a

    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_n_plus_one_findings_total", kind="n_plus_one",
                 confidence="high") == 1
    assert value(samples, "querylens_n_plus_one_findings_total") == 1
    assert value(samples, "querylens_n_plus_one_statements_total", kind="n_plus_one") == ROWS
    assert value(samples, "querylens_n_plus_one_seconds_total", kind="n_plus_one") > 0

    # The same loop again within the dedup interval, on new connections
    # (spread over both workers): counted, not logged again.
    for n in range(2, 6):
        conn = pymysql_connect(ep, autocommit=True)
        try:
            _loop(conn, comment=" /*route='items/',controller='item_list'*/")
            wait_for(lambda: value(scrape(p.admin_port)[1],
                                   "querylens_n_plus_one_findings_total") == n,
                     timeout=10, what=f"finding {n} counted")
        finally:
            conn.close()
    assert len(_findings_in_log(p)) == 1
    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_n_plus_one_decisions_total", decision="suppressed") == 4


def _reset_connection(conn):
    """COM_RESET_CONNECTION (0x1f), which PyMySQL has no method or constant for."""
    conn._execute_command(0x1F, b"")
    conn._read_ok_packet()


@pytest.mark.parametrize("reset", [False, True], ids=["control", "reset"])
def test_reset_connection_starts_a_new_unit(start_proxy, reset):
    # Pooled web workers reset the connection between requests: four lookups
    # per request are no loop. The control, without the resets, is one.
    ep, p = _start(start_proxy)
    conn = pymysql_connect(ep, autocommit=True)
    try:
        cur = conn.cursor()
        for chunk in range(4):
            if reset:
                _reset_connection(conn)
            cur.execute(PARENT)
            cur.fetchall()
            for item_id in range(chunk * 4 + 1, chunk * 4 + 5):
                cur.execute(CHILD, (item_id,))
                cur.fetchall()
        if not reset:
            wait_for(lambda: _findings_in_log(p), timeout=10, what="the control's N+1 line")
        _settled(p)
    finally:
        conn.close()
    _settled(p)
    kinds = [f["kind"] for f in _findings_in_log(p)]
    if reset:
        assert kinds == [], kinds
    else:
        assert "n_plus_one" in kinds or "repeated_cycle" in kinds, kinds


def test_lookups_spread_over_requests_are_not_a_loop(start_proxy):
    ep, p = _start(start_proxy)
    conn = pymysql_connect(ep, autocommit=True)
    try:
        cur = conn.cursor()
        for item_id in range(1, 9):
            # One request: the parent and one lookup, then a pause longer than the idle gap.
            cur.execute(PARENT)
            cur.fetchall()
            cur.execute(CHILD, (item_id,))
            cur.fetchall()
            time.sleep(IDLE_GAP * 2)
        _settled(p)
    finally:
        conn.close()
    _settled(p)
    assert _findings_in_log(p) == []
    assert admin_json(p.admin_port, "/api/n_plus_one")["findings"] == []
    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_n_plus_one_findings_total") == 0


def test_same_lookup_three_times_is_a_duplicate(start_proxy):
    ep, p = _start(start_proxy)
    conn = pymysql_connect(ep, autocommit=True)
    try:
        cur = conn.cursor()
        for _ in range(3):
            cur.execute(CHILD, (7,))
            cur.fetchall()
        wait_for(lambda: _findings_in_log(p), timeout=10, what="a duplicate log line")
        _settled(p)
    finally:
        conn.close()
    logged = _findings_in_log(p)
    assert [f["kind"] for f in logged] == ["duplicate"], logged
    assert logged[0]["count"] == 3 and logged[0]["max_identical"] == 3
    api = admin_json(p.admin_port, "/api/n_plus_one")
    assert [f["kind"] for f in api["findings"]] == ["duplicate"]
    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_n_plus_one_findings_total", kind="duplicate") == 1


def test_querylens_ignore_silences_the_call_site(start_proxy):
    ep, p = _start(start_proxy)
    conn = pymysql_connect(ep, autocommit=True)
    try:
        _loop(conn, comment=" /*querylens_ignore='1'*/")
        wait_for(lambda: value(scrape(p.admin_port)[1], "querylens_n_plus_one_decisions_total",
                               decision="silenced") >= 1,
                 timeout=10, what="the silenced finding counted")
    finally:
        conn.close()
    _settled(p)
    assert _findings_in_log(p) == []
    assert admin_json(p.admin_port, "/api/n_plus_one")["findings"] == []
    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_n_plus_one_findings_total") == 0


def test_allow_listed_digest_is_not_reported(start_proxy):
    # Learn the lookup's digest from a proxy that reports it ...
    ep, p = _start(start_proxy)
    conn = pymysql_connect(ep, autocommit=True)
    try:
        _loop(conn)
        logged = wait_for(lambda: _findings_in_log(p), timeout=10, what="an N+1 log line")
    finally:
        conn.close()
    digest = logged[0]["fingerprint_id"]
    assert len(digest) == 16
    # ... then allow-list it on another.
    ep2, p2 = _start(start_proxy, "--n-plus-one-allow-digest", digest)
    conn = pymysql_connect(ep2, autocommit=True)
    try:
        _loop(conn)
        wait_for(lambda: value(scrape(p2.admin_port)[1], "querylens_n_plus_one_decisions_total",
                               decision="allow_listed") >= 1,
                 timeout=10, what="the allow-listed finding counted")
    finally:
        conn.close()
    _settled(p2)
    assert _findings_in_log(p2) == []
    assert admin_json(p2.admin_port, "/api/n_plus_one")["findings"] == []


def test_off_reports_nothing(start_proxy):
    ep, p = _start(start_proxy, "--n-plus-one", "off")
    conn = pymysql_connect(ep, autocommit=True)
    try:
        _loop(conn)
        _settled(p)
    finally:
        conn.close()
    _settled(p)
    assert _findings_in_log(p) == []
    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_n_plus_one_decisions_total") == 0
