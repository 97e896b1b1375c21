"""The backend monitor, seen through /api/backends and the proxy's log.

A proxy started for the test monitors the lab's primary and replica (one
round per second, two healthy checks before a replica takes reads, by
default). The replica becomes usable for reads within a few seconds;
stopping its SQL thread (as root on the replica) makes it unusable at once
with an error that says so; START SLAVE brings it back only after the
healthy checks, and each change is logged once. Replication is restored in a
finally whatever happens.
"""
import re
import time

import pytest

from qladmin import admin_json, scrape, select, value, wait_for
from qlhelpers import mysqldb_connect

TIMEOUT = 20  # seconds for the monitor to notice a change (it checks every second)


def _backends(p):
    body = admin_json(p.admin_port, "/api/backends")
    by_role = {}
    for b in body["backends"]:
        by_role.setdefault(b["role"], []).append(b)
    return body, by_role


def _replica(p, lab):
    body, _ = _backends(p)
    found = [b for b in body["backends"] if b["port"] == lab.replica.port]
    assert len(found) == 1, body
    return found[0], body


def _replica_usable(p, lab):
    r, _ = _replica(p, lab)
    return r if r["usable_for_reads"] is True else None


@pytest.fixture
def replication_restored(lab):
    yield lab
    lab.root_sql("replica", "START SLAVE")


def test_replica_becomes_usable_and_fields(lab, start_proxy):
    _, p = start_proxy()
    replica = wait_for(lambda: _replica_usable(p, lab), timeout=TIMEOUT,
                       what="the replica to become usable for reads")
    assert replica["address"] == f"127.0.0.1:{lab.replica.port}"
    assert replica["name"] == replica["address"]  # the probe's fields are still there
    assert replica["up"] is True
    assert replica["weight"] == 1
    assert replica["read_only"] is True  # the lab's replica runs read_only
    assert replica["replication_running"] is True
    assert isinstance(replica["lag_seconds"], (int, float)) and 0 <= replica["lag_seconds"] <= 10
    assert replica["last_error"] is None
    assert isinstance(replica["checked_at"], str) and replica["checked_at"].endswith("Z")
    assert "version" in replica and "connections" in replica and "error_code" in replica

    body, by_role = _backends(p)
    (primary,) = by_role["primary"]
    assert primary["port"] == lab.primary.port
    assert primary["up"] is True
    assert primary["usable_for_reads"] is False  # the primary never takes reads
    assert primary["read_only"] is False
    assert primary["replication_running"] is None
    assert primary["last_error"] is None
    round_before = body["monitor"]["round"]
    assert round_before >= 2  # two healthy checks were needed
    # A round per interval: the counter moves on.
    wait_for(lambda: _backends(p)[0]["monitor"]["round"] > round_before, timeout=TIMEOUT,
             what="another monitor round")


def test_metrics_follow_the_monitor(lab, start_proxy, replication_restored):
    _, p = start_proxy()
    wait_for(lambda: _replica_usable(p, lab), timeout=TIMEOUT,
             what="the replica to become usable for reads")
    replica = f"127.0.0.1:{lab.replica.port}"
    primary = f"127.0.0.1:{lab.primary.port}"
    text, samples = scrape(p.admin_port)
    assert value(samples, "querylens_backend_up", backend=primary, role="primary") == 1
    assert value(samples, "querylens_backend_up", backend=replica, role="replica") == 1
    assert value(samples, "querylens_backend_usable_for_reads", backend=replica) == 1
    assert not select(samples, "querylens_backend_usable_for_reads", backend=primary)
    (lag,) = select(samples, "querylens_replication_lag_seconds", backend=replica)
    assert 0 <= lag.value <= 10
    assert "# TYPE querylens_backend_checks_failed_total counter" in text
    # The lab's replica runs read_only=ON, its primary does not.
    assert value(samples, "querylens_backend_read_only", backend=replica, role="replica") == 1
    assert value(samples, "querylens_backend_read_only", backend=primary, role="primary") == 0
    failed_before = value(samples, "querylens_backend_checks_failed_total", backend=replica,
                          role="replica")
    try:
        lab.root_sql("replica", "STOP SLAVE SQL_THREAD")

        def removed():
            _, s = scrape(p.admin_port)
            return s if value(s, "querylens_backend_usable_for_reads", backend=replica) == 0 \
                else None

        samples = wait_for(removed, timeout=TIMEOUT, what="usable_for_reads to drop to 0")
        assert value(samples, "querylens_backend_checks_failed_total", backend=replica,
                     role="replica") > failed_before
        assert value(samples, "querylens_backend_up", backend=replica, role="replica") == 1
    finally:
        lab.root_sql("replica", "START SLAVE")


def test_stopped_sql_thread_removes_replica_until_healthy_again(lab, start_proxy,
                                                                 replication_restored):
    _, p = start_proxy()
    wait_for(lambda: _replica_usable(p, lab), timeout=TIMEOUT,
             what="the replica to become usable for reads")
    name = f"127.0.0.1:{lab.replica.port}"
    try:
        lab.root_sql("replica", "STOP SLAVE SQL_THREAD")

        def unusable():
            r, _ = _replica(p, lab)
            return r if r["usable_for_reads"] is False else None

        r = wait_for(unusable, timeout=TIMEOUT, what="the replica to become unusable")
        assert r["up"] is True  # the server answers; replication is what broke
        assert r["replication_running"] is False
        assert r["last_error"].startswith("replica SQL thread stopped"), r
        assert r["checks_failed"] >= 1
        # Stays out, with the same reason, for several rounds.
        seen = _backends(p)[0]["monitor"]["round"]
        wait_for(lambda: _backends(p)[0]["monitor"]["round"] >= seen + 3, timeout=TIMEOUT,
                 what="three more rounds")
        r, _ = _replica(p, lab)
        assert r["usable_for_reads"] is False and r["last_error"].startswith(
            "replica SQL thread stopped"), r
    finally:
        lab.root_sql("replica", "START SLAVE")

    r = wait_for(lambda: _replica_usable(p, lab), timeout=TIMEOUT,
                 what="the replica to be usable again after START SLAVE")
    assert r["last_error"] is None and r["replication_running"] is True

    # The log tells the story once per change, not once per round: removed,
    # waiting for healthy checks, back.
    log = p.log_tail(lines=10000)
    mine = [line for line in log.splitlines() if f"backend replica {name}" in line]
    stopped = [i for i, line in enumerate(mine)
               if "not usable for reads: replica SQL thread stopped" in line]
    assert len(stopped) == 1, "\n".join(mine)
    after = mine[stopped[0] + 1:]
    assert any("not usable for reads yet: healthy for 1 of 2 checks" in line for line in after), \
        "\n".join(mine)
    back = [line for line in after if re.search(r": usable for reads \(lag [0-9.]+s\)", line)]
    assert len(back) == 1, "\n".join(mine)


def test_replica_sql_error_is_reported_with_the_servers_words(lab, start_proxy,
                                                               replication_restored):
    """A real replication failure: a row the replica already has arrives from
    the primary. last_error carries MariaDB's Last_SQL_Error."""
    _, p = start_proxy()
    wait_for(lambda: _replica_usable(p, lab), timeout=TIMEOUT,
             what="the replica to become usable for reads")
    lab.root_sql("primary", "CREATE TABLE IF NOT EXISTS app.qlm_monitor_conflict "
                            "(id INT PRIMARY KEY)")
    wait_for(lambda: "qlm_monitor_conflict" in lab.root_sql(
        "replica", "SHOW TABLES FROM app LIKE 'qlm_monitor_conflict'"), timeout=TIMEOUT,
        what="the table to reach the replica")
    try:
        # root may write on the read_only replica.
        lab.root_sql("replica", "SET SESSION sql_log_bin=0; "
                                "INSERT INTO app.qlm_monitor_conflict VALUES (1)")
        conn = mysqldb_connect(lab.primary)
        try:
            cur = conn.cursor()
            cur.execute("INSERT INTO app.qlm_monitor_conflict VALUES (1)")
            conn.commit()
        finally:
            conn.close()

        def broken():
            r, _ = _replica(p, lab)
            return r if r["usable_for_reads"] is False and r["last_error"] else None

        r = wait_for(broken, timeout=TIMEOUT, what="the replica to report the SQL error")
        assert r["last_error"].startswith("replica SQL thread stopped: "), r
        assert "Duplicate entry '1'" in r["last_error"], r
    finally:
        # Undo the conflict so the replicated insert applies, then tidy up.
        lab.root_sql("replica", "SET SESSION sql_log_bin=0; "
                                "DELETE FROM app.qlm_monitor_conflict WHERE id = 1")
        lab.root_sql("replica", "START SLAVE")
        lab.root_sql("primary", "DROP TABLE IF EXISTS app.qlm_monitor_conflict")
    wait_for(lambda: _replica_usable(p, lab), timeout=TIMEOUT,
             what="the replica to be usable again")
