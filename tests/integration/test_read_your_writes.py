"""Read-your-writes: a session that wrote must not read stale data.

The replica is held back with MASTER_DELAY=5 (replication keeps running,
so the monitor sees a healthy replica; the proxy runs with
--max-replication-lag 3600 so that the lag does not exclude it). Then:
- with the read-after-write window (default 1 s) a session sees its row
  right after its INSERT, and after the window its reads go back to the
  (still stale) replica;
- negative control, window 0 and no causal reads: the stale read happens,
  which proves the delay and the routing are real;
- window 0 with --causal-reads --causal-reads-timeout 1: the replica's
  MASTER_GTID_WAIT times out and the read falls back to the primary, so
  the session never reads stale;
- without the delay, causal reads are served by the replica itself.
A session that did not write is not held on the primary by another's write.
"""
import time

import pytest

from qlhelpers import mysqldb_connect
from qlservers import (Counters, assert_on, connect, metric_sum, metrics, q, root_exec,
                       routed_proxy, set_replica_delay, wait_replica_caught_up)

DELAY = 5
LAG_OK = ["--max-replication-lag", "3600"]


@pytest.fixture(scope="module")
def rw_table(lab):
    root_exec(lab, "primary", [
        "DROP TABLE IF EXISTS app.rw_t",
        "CREATE TABLE app.rw_t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB",
        "INSERT INTO app.rw_t (v) VALUES ('seed')",
    ])
    wait_replica_caught_up(lab)
    yield
    root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.rw_t"])
    wait_replica_caught_up(lab)


@pytest.fixture
def delayed_replica(lab, rw_table):
    set_replica_delay(lab, DELAY)
    try:
        yield
    finally:
        set_replica_delay(lab, 0)
        wait_replica_caught_up(lab, timeout=DELAY + 60)


def connect_with(driver, ep):
    """PyMySQL does not negotiate session tracking (the proxy asks the primary
    for the GTID); libmariadb (MySQLdb) does (the GTID comes in the OK)."""
    return connect(ep) if driver == "pymysql" else mysqldb_connect(ep, autocommit=True)


def write_then_read(conn, tag: str):
    """INSERT a row, immediately read it back; True if the read saw it."""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO rw_t (v) VALUES (%s)", (tag,))
        new_id = cur.lastrowid
    rows = q(conn, "SELECT v FROM rw_t WHERE id = %s", (new_id,))
    return rows == ((tag,),), new_id


def test_window_reads_own_writes(lab, start_proxy, delayed_replica):
    ep, _ = routed_proxy(start_proxy, LAG_OK)
    conn = connect(ep)
    try:
        for i in range(10):
            fresh, _ = write_then_read(conn, f"window-{i}")
            assert fresh, f"iteration {i}: the session did not see its own INSERT"
        # After the window (1 s) the reads are the replica's again: still stale.
        fresh, new_id = write_then_read(conn, "window-last")
        assert fresh
        time.sleep(1.5)
        assert q(conn, "SELECT v FROM rw_t WHERE id = %s", (new_id,)) == (), \
            "reads did not go back to the (delayed) replica after the window"
    finally:
        conn.close()


def test_stale_read_without_protection(lab, start_proxy, delayed_replica):
    """Negative control: no window, no causal reads: the replica answers and
    the row is not there yet."""
    ep, _ = routed_proxy(start_proxy, LAG_OK + ["--read-after-write-window", "0"])
    conn = connect(ep)
    try:
        stale = sum(not write_then_read(conn, f"unprotected-{i}")[0] for i in range(10))
        print(f"{stale}/10 reads were stale without protection")
        assert stale >= 5, "the delayed replica did not serve stale reads: the setup proves nothing"
    finally:
        conn.close()


@pytest.mark.parametrize("driver", ["pymysql", "mysqldb"])
def test_causal_reads_fall_back_to_primary(lab, start_proxy, delayed_replica, driver):
    ep, proc = routed_proxy(start_proxy, LAG_OK + [
        "--read-after-write-window", "0", "--causal-reads", "--causal-reads-timeout", "1"])
    conn = connect_with(driver, ep)
    before = metric_sum(metrics(proc.admin_port), "querylens_causal_reads_total")
    try:
        for i in range(5):
            fresh, _ = write_then_read(conn, f"causal-timeout-{i}")
            assert fresh, f"iteration {i}: causal read returned stale data"
    finally:
        conn.close()
    after = metric_sum(metrics(proc.admin_port), "querylens_causal_reads_total")
    assert after - before >= 5, f"querylens_causal_reads_total moved by {after - before}"


@pytest.mark.parametrize("driver", ["pymysql", "mysqldb"])
def test_causal_reads_served_by_replica(lab, start_proxy, rw_table, driver):
    """Normal replication (no delay): the replica catches up within the
    timeout and runs the read itself."""
    n = 40
    ep, proc = routed_proxy(start_proxy, LAG_OK + [
        "--read-after-write-window", "0", "--causal-reads", "--causal-reads-timeout", "5"])
    conn = connect_with(driver, ep)
    try:
        c = Counters(lab, "Com_select", "Com_insert", "Com_show_variables")
        for i in range(n):
            fresh, _ = write_then_read(conn, f"causal-ok-{i}")
            assert fresh, f"iteration {i}: causal read returned stale data"
        d = c.delta()
    finally:
        conn.close()
    assert d["primary"]["Com_insert"] >= n, d
    assert_on(d, "replica", n, what="causal reads with replication keeping up")
    # Where the GTID came from: asked for with SHOW (PyMySQL), or tracked.
    if driver == "mysqldb":
        assert d["primary"]["Com_show_variables"] < n // 2, d
    else:
        assert d["primary"]["Com_show_variables"] >= n, d
    samples = metrics(proc.admin_port)
    by_outcome = {s.label("outcome"): s.value for s in samples
                  if s.name == "querylens_causal_reads_total"}
    print("causal reads by outcome:", by_outcome)
    assert sum(by_outcome.values()) >= n, by_outcome


def test_other_sessions_keep_reading_the_replica(lab, start_proxy, rw_table):
    """The window belongs to the session that wrote."""
    ep, _ = routed_proxy(start_proxy, ["--read-after-write-window", "30"])
    writer, reader = connect(ep), connect(ep)
    try:
        q(writer, "INSERT INTO rw_t (v) VALUES ('writer')")
        c = Counters(lab)
        for _ in range(100):
            q(reader, "SELECT v FROM rw_t WHERE id = 1")
        assert_on(c.delta(), "replica", 100, what="reads of a session that did not write")
        c = Counters(lab)
        for _ in range(100):
            q(writer, "SELECT v FROM rw_t WHERE id = 1")
        assert_on(c.delta(), "primary", 100, what="reads of the writer inside its window")
    finally:
        writer.close()
        reader.close()
