"""The replica crashes (SIGKILL) under read load, then comes back.

sysbench oltp_read_only --skip-trx=on runs through the proxy for 20 s; 5 s
in, `lab.sh kill-replica` kills the replica's mariadbd. Reads that were on
the replica are retried on the primary before any byte reached the client,
and new reads go to the primary once the monitor drops the replica: sysbench
must finish with exit 0, no FATAL, `ignored errors: 0` and no reconnects.
Then the replica is restarted; once /api/backends shows it usable again,
reads land on it again (its Com_select grows). The replica is restored in a
finally so that later tests have it.
"""
import shutil
import subprocess
import time

import pytest

from conftest import LAB_SH
from qlservers import (Counters, assert_on, connect, ensure_replica_running, metric_names,
                       metrics, q, root_exec, routed_proxy, wait_replica_caught_up,
                       wait_replica_unusable, wait_replica_usable)
from test_routing import check_sysbench_run, sysbench

RUN_SECONDS = 20
KILL_AFTER = 5


@pytest.fixture
def replica_restored(lab):
    try:
        yield
    finally:
        ensure_replica_running(lab)


@pytest.fixture
def ro_tables(lab):
    if not shutil.which("sysbench"):
        pytest.fail("sysbench not installed (scripts/setup.sh installs it)")
    sysbench(lab.primary, "oltp_read_only", "cleanup")
    prep = sysbench(lab.primary, "oltp_read_only", "prepare")
    assert prep.returncode == 0, prep.stdout + prep.stderr
    wait_replica_caught_up(lab)
    yield
    sysbench(lab.primary, "oltp_read_only", "cleanup")


def sysbench_cmd(ep):
    return ["sysbench", "oltp_read_only", "--db-driver=mysql", f"--mysql-host={ep.host}",
            f"--mysql-port={ep.port}", "--mysql-user=app", "--mysql-password=app_pass",
            "--mysql-db=app", "--tables=2", "--table-size=1000", "--threads=4",
            f"--time={RUN_SECONDS}", "--report-interval=0", "--skip-trx=on",
            "--db-ps-mode=disable", "run"]


@pytest.mark.slow
def test_replica_killed_under_read_load(lab, start_proxy, ro_tables, replica_restored):
    ep, proc = routed_proxy(start_proxy)
    c = Counters(lab)
    sb = subprocess.Popen(sysbench_cmd(ep), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True)
    try:
        time.sleep(KILL_AFTER)
        before_kill = c.delta()
        # The load really was on the replica before the crash.
        assert before_kill["replica"]["Com_select"] >= 100, before_kill
        lab.lab("kill-replica")
        wait_replica_unusable(proc, timeout=15)
        out, _ = sb.communicate(timeout=RUN_SECONDS + 120)
    finally:
        if sb.poll() is None:
            sb.kill()
            sb.wait(10)

    res = check_sysbench_run(subprocess.CompletedProcess(sb.args, sb.returncode, out, ""))
    assert res["ignored errors"] == 0, out
    print(f"sysbench across the replica crash: {res}")
    names = metric_names(metrics(proc.admin_port))
    assert "querylens_read_retries_total" in names, sorted(n for n in names if "retr" in n)

    # The replica comes back and gets reads again.
    ensure_replica_running(lab)
    wait_replica_usable(proc, timeout=60)
    conn = connect(ep)
    try:
        c = Counters(lab)
        for i in range(200):
            q(conn, "SELECT c FROM sbtest1 WHERE id = %s", (i % 1000 + 1,))
        assert_on(c.delta(), "replica", 200, what="reads after the replica came back")
    finally:
        conn.close()


def test_read_right_after_replica_crash_is_retried(lab, start_proxy, replica_restored):
    """The session's replica connection dies while idle; the next reads
    succeed (retried on, or sent to, the primary), without an error."""
    root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.fo_t",
                               "CREATE TABLE app.fo_t (id INT PRIMARY KEY, v INT)",
                               "INSERT INTO app.fo_t VALUES (1, 11), (2, 22)"])
    wait_replica_caught_up(lab)
    ep, proc = routed_proxy(start_proxy)
    conns = [connect(ep) for _ in range(4)]
    try:
        c = Counters(lab)
        for conn in conns:
            for _ in range(20):
                assert q(conn, "SELECT v FROM fo_t WHERE id = 2") == ((22,),)
        assert_on(c.delta(), "replica", 80, what="reads before the crash")
        lab.lab("kill-replica")
        for conn in conns:
            for _ in range(5):
                assert q(conn, "SELECT v FROM fo_t WHERE id = 2") == ((22,),)
        samples = metrics(proc.admin_port)
        retries = sum(s.value for s in samples if s.name == "querylens_read_retries_total")
        print(f"querylens_read_retries_total = {retries}")
    finally:
        for conn in conns:
            conn.close()
        ensure_replica_running(lab)
        root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.fo_t"])


@pytest.mark.slow
def test_replica_killed_in_the_middle_of_a_result(lab, start_proxy, replica_restored):
    """A result streaming from the replica when it dies: the client gets
    2013 (lost connection) at once. It used to wait for
    --backend-read-timeout (an hour by default): the end of file that came
    with the last data the proxy read raised no further event."""
    import pymysql
    from pymysql.cursors import SSCursor

    root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.fo_big",
                               "CREATE TABLE app.fo_big (id INT PRIMARY KEY, c CHAR(100))",
                               "INSERT INTO app.fo_big SELECT seq, REPEAT('x', 100) "
                               "FROM seq_1_to_3000"])
    wait_replica_caught_up(lab)
    ep, proc = routed_proxy(start_proxy)
    # A client that would wait 60 s for a silent server; the proxy must not
    # make it wait at all.
    conn = connect(ep, read_timeout=60, cursorclass=SSCursor)
    try:
        cur = conn.cursor()
        cur.execute("SELECT /* querylens:replica */ a.id, a.c, b.id FROM fo_big a "
                    "JOIN fo_big b ON b.id <= 1000")
        rows = 0
        with pytest.raises(pymysql.err.OperationalError) as e:
            for _ in cur:
                rows += 1
                if rows == 50_000:
                    lab.lab("kill-replica")
                    killed = time.monotonic()
        waited = time.monotonic() - killed
        assert rows < 3_000_000, "the result was complete: the kill came too late"
        assert e.value.args[0] == 2013, e.value.args
        assert "timed out" not in str(e.value.args[1]), (waited, e.value.args)
        print(f"{rows} rows, then {e.value.args} {waited:.2f} s after the kill")
    finally:
        if conn.open:
            conn.close()
        ensure_replica_running(lab)
        root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.fo_big"])


@pytest.mark.slow
def test_restarted_replica_gets_no_reads_until_caught_up(lab, start_proxy, ro_tables,
                                                         replica_restored):
    """The replica is killed, the primary takes 10 s of small write
    transactions, then the replica restarts. For its first few hundred
    milliseconds Seconds_Behind_Master says 0 (its IO thread has not fetched
    the backlog yet); the monitor compares the GTID it applied with the
    primary's and keeps reads off it until it has caught up. A session
    polling for a row written before the restart must never miss it."""
    root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.fo_marker",
                               "CREATE TABLE app.fo_marker (id INT PRIMARY KEY)"])
    wait_replica_caught_up(lab)
    # Checks ten times a second, each enough on its own: the monitor sees
    # the restarted replica as early as it can.
    ep, proc = routed_proxy(start_proxy, ["--monitor-healthy-checks", "1",
                                          "--monitor-interval", "0.1",
                                          "--max-replication-lag", "2",
                                          "--read-after-write-window", "0"])
    try:
        lab.lab("kill-replica")
        wait_replica_unusable(proc)
        backlog = [a.replace("oltp_read_only", "oltp_write_only")
                   .replace(f"--time={RUN_SECONDS}", "--time=10")
                   .replace("--threads=4", "--threads=8")
                   .replace("--skip-trx=on", "--skip-trx=off")
                   for a in sysbench_cmd(lab.primary)]
        done = subprocess.run(backlog, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        root_exec(lab, "primary", ["INSERT INTO app.fo_marker VALUES (1)"])
        restart = subprocess.Popen(["bash", str(LAB_SH), "start-replica"], env=lab.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   stdin=subprocess.DEVNULL)
        reader = connect(ep)
        stale = on_replica = 0
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and on_replica < 50:
                (n, port), = q(reader, "SELECT COUNT(*), @@port FROM fo_marker WHERE id = 1")
                if n == 0:
                    stale += 1
                else:
                    on_replica += port == lab.replica.port
                time.sleep(0.01)
        finally:
            reader.close()
            restart.wait(timeout=120)
        assert stale == 0, f"{stale} reads missed a row written before the replica restarted"
        assert on_replica >= 50, "the replica never took reads again after catching up"
    finally:
        ensure_replica_running(lab)
        root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.fo_marker"])
