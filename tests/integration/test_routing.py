"""Read/write splitting: which server runs what.

Reads outside a transaction with autocommit on go to a usable replica;
writes, locking reads, transactions (BEGIN .. COMMIT, autocommit=0) go to
the primary; hints and route rules force a target; --read-write-split off
keeps everything on the primary. sysbench oltp_read_write runs clean with
and without --skip-trx, and only the --skip-trx run gives the replica reads.

The proof is the servers' own Com_* counters (qlservers.Counters), read as
root on each server. The proxy's monitor and other proxies run SELECTs too,
so every check issues N statements and allows noise below N/2 on the other
server. --read-write-split off is the negative control: the same reads
must then show up on the primary.
"""
import re
import shutil
import subprocess

import pymysql
import pytest

from qladmin import admin_json

from qlservers import (Counters, assert_on, connect, metric_sum, metrics, proxy_routes, q,
                       repeat, root_connect, root_exec, routed_proxy, wait_replica_caught_up,
                       wait_replica_usable)

N = 200  # statements per check; noise on the other server must stay below N/2


@pytest.fixture(scope="module")
def rt_tables(lab):
    """rt_t (100 rows), rr_pinned (10 rows) and rt_w (writes) in app, made
    directly on the primary and replicated before the tests start."""
    root_exec(lab, "primary", [
        "DROP TABLE IF EXISTS app.rt_t, app.rr_pinned, app.rt_w",
        "CREATE TABLE app.rt_t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB",
        "INSERT INTO app.rt_t SELECT seq, CONCAT('v', seq) FROM seq_1_to_100",
        "CREATE TABLE app.rr_pinned (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB",
        "INSERT INTO app.rr_pinned SELECT seq, CONCAT('p', seq) FROM seq_1_to_10",
        "CREATE TABLE app.rt_w (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB",
    ])
    wait_replica_caught_up(lab)
    yield
    root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.rt_t, app.rr_pinned, app.rt_w"])


def point_reads(conn, n=N, table="rt_t", hint="", suffix=""):
    rows = repeat(conn, f"SELECT {hint} v FROM {table} WHERE id = %s{suffix}", n,
                  lambda i: (i % 10 + 1,))
    prefix = "v" if table == "rt_t" else "p"
    assert [r[0][0] for r in rows] == [f"{prefix}{i % 10 + 1}" for i in range(n)]


def root_query(lab, sql, server="primary"):
    conn = root_connect(lab, server)
    try:
        return q(conn, sql)
    finally:
        conn.close()


def port_of(conn, hint=""):
    return q(conn, f"SELECT {hint} @@port")[0][0]


# ---------------------------------------------------------------------------
# Plain reads and writes


def test_reads_on_replica_writes_on_primary(lab, start_proxy, rt_tables):
    ep, proc = routed_proxy(start_proxy)
    conn = connect(ep)
    try:
        assert port_of(conn) == lab.replica.port
        c = Counters(lab, "Com_select", "Com_insert")
        point_reads(conn)
        assert_on(c.delta(), "replica", N, what="autocommit point reads")
        # The router says so too, by target and reason.
        assert metric_sum(metrics(proc.admin_port), "querylens_routing_decisions_total",
                          target="replica", reason="read") >= N

        c = Counters(lab, "Com_select", "Com_insert")
        for i in range(50):
            q(conn, "INSERT INTO rt_w (v) VALUES (%s)", (f"w{i}",))
        d = c.delta()
        assert d["primary"]["Com_insert"] >= 50, d
        assert metric_sum(metrics(proc.admin_port), "querylens_routing_decisions_total",
                          target="primary", reason="not_a_read") >= 50
        assert q(conn, "SELECT /* querylens:primary */ COUNT(*) FROM rt_w WHERE v LIKE 'w%'")[0][0] == 50
    finally:
        conn.close()
        root_exec(lab, "primary", ["DELETE FROM app.rt_w"])


def test_split_off_keeps_reads_on_primary(lab, start_proxy, rt_tables):
    """Negative control for the counters: the same reads, all on the primary."""
    ep, proc = start_proxy(["--read-write-split", "off"])
    # Give the monitor the time it needs to accept the replica, so that a
    # proxy ignoring the flag would have sent these reads there. (With the
    # split off it may not report the replica usable at all.)
    try:
        wait_replica_usable(proc, timeout=10)
    except AssertionError as e:
        print(f"replica not reported usable with the split off: {e}")
    conn = connect(ep)
    try:
        assert port_of(conn) == lab.primary.port
        c = Counters(lab)
        point_reads(conn)
        assert_on(c.delta(), "primary", N, what="--read-write-split off")
    finally:
        conn.close()


@pytest.mark.parametrize("suffix", [" FOR UPDATE", " LOCK IN SHARE MODE"])
def test_locking_reads_on_primary(lab, start_proxy, rt_tables, suffix):
    ep, _ = routed_proxy(start_proxy)
    conn = connect(ep)
    try:
        c = Counters(lab)
        point_reads(conn, suffix=suffix)
        assert_on(c.delta(), "primary", N, what=f"autocommit SELECT ...{suffix}")
        # Even with a replica hint.
        c = Counters(lab)
        point_reads(conn, hint="/* querylens:replica */", suffix=suffix)
        assert_on(c.delta(), "primary", N, what=f"replica-hinted SELECT ...{suffix}")
    finally:
        conn.close()


@pytest.mark.parametrize("sql", [
    "EXPLAIN UPDATE rt_t SET v = 'x' WHERE id = 1",
    "EXPLAIN FORMAT=JSON DELETE FROM rt_t WHERE id = 1",
    "DESC INSERT INTO rt_w (v) VALUES ('x')",
    "EXPLAIN REPLACE INTO rt_w (id, v) VALUES (1, 'x')",
    "EXPLAIN SELECT v FROM rt_t WHERE id = 1 FOR UPDATE",
])
def test_explain_of_a_write_runs_on_the_primary(lab, start_proxy, rt_tables, sql):
    """A read-only replica refuses to explain a write or a locking read
    (1290); the primary explains it without running it, and the session has
    not written (the read-after-write window stays closed)."""
    ep, _ = routed_proxy(start_proxy)
    conn = connect(ep)
    try:
        plan = q(conn, sql)
        assert plan, f"{sql}: no plan"
        # Nothing ran: the table is as it was.
        assert q(conn, "SELECT /* querylens:primary */ v FROM rt_t WHERE id = 1")[0][0] == "v1"
        assert q(conn, "SELECT /* querylens:primary */ COUNT(*) FROM rt_w")[0][0] == 0
        # Control: explaining a plain read still goes to the replica.
        c = Counters(lab)
        for _ in range(N):
            q(conn, "EXPLAIN SELECT v FROM rt_t WHERE id = 1")
        assert_on(c.delta(), "replica", N, what="EXPLAIN SELECT")
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Transactions


@pytest.mark.parametrize("start", ["BEGIN", "START TRANSACTION", "SET autocommit = 0"])
def test_transaction_reads_stay_on_primary(lab, start_proxy, rt_tables, start):
    ep, _ = routed_proxy(start_proxy)
    conn = connect(ep)
    try:
        c = Counters(lab)
        q(conn, start)
        if start.startswith("SET"):
            # autocommit=0: the first statement opens a transaction; it and
            # every one after it until COMMIT belong on the primary.
            pass
        assert port_of(conn) == lab.primary.port
        point_reads(conn)
        # The transaction sees its own write, which a replica could not show.
        q(conn, "INSERT INTO rt_w (v) VALUES ('in-trx')")
        assert q(conn, "SELECT COUNT(*) FROM rt_w WHERE v = 'in-trx'")[0][0] == 1
        point_reads(conn, hint="/* querylens:replica */")  # hints do not leave the transaction
        q(conn, "ROLLBACK")
        assert_on(c.delta(), "primary", 2 * N, what=f"reads inside {start} .. ROLLBACK")

        if start.startswith("SET"):
            q(conn, "SET autocommit = 1")
        # After the transaction, reads go back to the replica.
        c = Counters(lab)
        point_reads(conn)
        assert_on(c.delta(), "replica", N, what=f"reads after {start} .. ROLLBACK")
        assert q(conn, "SELECT /* querylens:primary */ COUNT(*) FROM rt_w WHERE v = 'in-trx'")[0][0] == 0
    finally:
        conn.close()


def test_read_only_transaction(lab, start_proxy, rt_tables):
    """START TRANSACTION READ ONLY runs on the usable replica: its reads and
    COMMIT run there, and a write in it fails as it does on MariaDB (1792)."""
    ep, _ = routed_proxy(start_proxy)
    conn = connect(ep)
    try:
        c = Counters(lab)
        q(conn, "START TRANSACTION READ ONLY")
        ports = {port_of(conn)}
        point_reads(conn)
        ports.add(port_of(conn))
        with pytest.raises(pymysql.err.MySQLError) as ei:
            q(conn, "INSERT INTO rt_w (v) VALUES ('ro')")
        assert ei.value.args[0] == 1792, ei.value.args
        ports.add(port_of(conn))
        q(conn, "COMMIT")
        d = c.delta()
        assert ports == {lab.replica.port}, f"the read-only transaction ran on {ports}"
        assert_on(d, "replica", N, what="START TRANSACTION READ ONLY")
    finally:
        conn.close()


@pytest.fixture
def rt_other(lab):
    root_exec(lab, "primary", [
        "DROP DATABASE IF EXISTS ql_rt_other",
        "CREATE DATABASE ql_rt_other",
        "CREATE TABLE ql_rt_other.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB",
        "INSERT INTO ql_rt_other.t VALUES (1, 'other')",
    ])
    wait_replica_caught_up(lab)
    yield
    root_exec(lab, "primary", ["DROP DATABASE IF EXISTS ql_rt_other"])


def test_read_only_transaction_leaves_session_state_to_the_primary(lab, start_proxy, rt_tables,
                                                                   rt_other):
    """USE and SET inside a READ ONLY transaction on the replica are learned
    on the primary and replayed on the replica: the statements after the
    transaction, on either server, run in the schema and with the variables
    the client set. BEGIN ends the replica's transaction, as the server's
    implicit commit would."""
    ep, _ = routed_proxy(start_proxy, ["--read-after-write-window", "0"])
    conn = connect(ep)
    try:
        q(conn, "START TRANSACTION READ ONLY")
        assert port_of(conn) == lab.replica.port
        q(conn, "USE ql_rt_other")
        q(conn, "SET @who = 'ro-tx'")
        assert q(conn, "SELECT DATABASE(), v, @who, @@port FROM t WHERE id = 1") == \
            (("ql_rt_other", "other", "ro-tx", lab.replica.port),)
        q(conn, "COMMIT")
        # After the transaction: a write on the primary in the schema of the USE.
        q(conn, "INSERT INTO t VALUES (2, @who)")
        assert root_query(lab, "SELECT v FROM ql_rt_other.t WHERE id = 2") == (("ro-tx",),)
        # BEGIN inside a READ ONLY transaction commits it and starts another
        # one: on the primary, where the write must land.
        q(conn, "START TRANSACTION READ ONLY")
        assert port_of(conn) == lab.replica.port
        q(conn, "START TRANSACTION")
        q(conn, "INSERT INTO t VALUES (3, 'rw')")
        q(conn, "COMMIT")
        assert root_query(lab, "SELECT v FROM ql_rt_other.t WHERE id = 3") == (("rw",),)
        # The replica's connection holds no transaction (or its reads would
        # keep the old snapshot).
        wait_replica_caught_up(lab)
        assert q(conn, "SELECT @@in_transaction, @@port, COUNT(*) FROM t") == \
            ((0, lab.replica.port, 3),)
    finally:
        conn.close()


def test_call_pins_the_session(lab, start_proxy, rt_tables, rt_other):
    """A procedure's OUT parameter is a user variable the proxy cannot see
    set: after CALL, reads stay on the primary."""
    root_exec(lab, "primary", [
        "CREATE PROCEDURE ql_rt_other.answer(OUT x INT) BEGIN SET x = 42; END"])
    ep, proc = routed_proxy(start_proxy, ["--read-after-write-window", "0"])
    conn = connect(ep)
    try:
        q(conn, "CALL ql_rt_other.answer(@out)")
        c = Counters(lab)
        for _ in range(N):
            assert q(conn, "SELECT @out") == ((42,),)
        d = c.delta()
    finally:
        conn.close()
    assert_on(d, "primary", N, what="reads after CALL")
    assert metric_sum(metrics(proc.admin_port), "querylens_session_pins_total",
                      reason="stored_routine") >= 1


# ---------------------------------------------------------------------------
# Hints and rules


@pytest.mark.parametrize("hint", ["/* querylens:primary */", "/*querylens:primary*/",
                                  "/* app=x querylens:primary */"])
def test_primary_hint(lab, start_proxy, rt_tables, hint):
    ep, _ = routed_proxy(start_proxy)
    conn = connect(ep)
    try:
        assert port_of(conn, hint) == lab.primary.port
        c = Counters(lab)
        point_reads(conn, hint=hint)
        assert_on(c.delta(), "primary", N, what=f"reads with {hint}")
        # At the end of the statement too.
        c = Counters(lab)
        point_reads(conn, suffix=" " + hint)
        assert_on(c.delta(), "primary", N, what=f"reads ending with {hint}")
    finally:
        conn.close()


def test_replica_hint(lab, start_proxy, rt_tables):
    """Right after a write, the read-after-write window (made long here)
    sends the session's reads to the primary; a replica hint overrides it.
    Writes with a replica hint still run (on the primary)."""
    ep, _ = routed_proxy(start_proxy, ["--read-after-write-window", "60"])
    conn = connect(ep)
    try:
        c = Counters(lab, "Com_insert")
        q(conn, "INSERT /* querylens:replica */ INTO rt_w (v) VALUES ('hinted-write')")
        assert c.delta()["primary"]["Com_insert"] >= 1
        # Control: inside the window, unhinted reads are on the primary.
        c = Counters(lab)
        point_reads(conn)
        assert_on(c.delta(), "primary", N, what="reads inside the read-after-write window")
        c = Counters(lab)
        point_reads(conn, hint="/* querylens:replica */")
        assert_on(c.delta(), "replica", N, what="replica-hinted reads inside the window")
        assert port_of(conn, "/* querylens:replica */") == lab.replica.port
    finally:
        conn.close()
        root_exec(lab, "primary", ["DELETE FROM app.rt_w"])


@pytest.mark.parametrize("rule,pinned_user", [
    ("fingerprint=select * from rr_pinned*=>primary", None),
    ("user=app2=>primary", "app2"),
    ("schema=app,fingerprint=select * from rr_pinned*=>primary", None),
])
def test_route_rule_to_primary(lab, start_proxy, rt_tables, rule, pinned_user):
    ep, _ = routed_proxy(start_proxy, ["--route-rule", rule])
    conn = connect(ep) if pinned_user is None else connect(ep, user="app2", password="app2_pass")
    other = connect(ep)
    try:
        c = Counters(lab)
        rows = repeat(conn, "SELECT * FROM rr_pinned WHERE id = %s", N, lambda i: (i % 10 + 1,))
        assert rows[3] == ((4, "p4"),)
        assert_on(c.delta(), "primary", N, what=f"reads matching --route-rule '{rule}'")
        # Control: reads the rule does not match still go to the replica.
        c = Counters(lab)
        point_reads(other)
        assert_on(c.delta(), "replica", N, what=f"reads not matching --route-rule '{rule}'")
    finally:
        conn.close()
        other.close()


def test_route_rule_by_digest(lab, start_proxy, rt_tables):
    """The digest of a statement, as /api/digests shows it, in a rule."""
    ep0, proc0 = start_proxy([])
    conn = connect(ep0)
    try:
        q(conn, "SELECT * FROM rr_pinned WHERE id = 1")
    finally:
        conn.close()
    found = [d for d in admin_json(proc0.admin_port, "/api/digests?limit=10000")["digests"]
             if d["fingerprint"].startswith("select * from rr_pinned where id =")]
    assert len(found) == 1, found
    digest = found[0]["digest"]
    proc0.stop()

    rule = f"digest={digest}=>primary"
    ep, _ = routed_proxy(start_proxy, ["--route-rule", rule])
    conn = connect(ep)
    try:
        c = Counters(lab)
        repeat(conn, "SELECT * FROM rr_pinned WHERE id = %s", N, lambda i: (i % 10 + 1,))
        assert_on(c.delta(), "primary", N, what=f"reads matching --route-rule '{rule}'")
        c = Counters(lab)
        point_reads(conn)
        assert_on(c.delta(), "replica", N, what=f"reads not matching --route-rule '{rule}'")
    finally:
        conn.close()


def test_statement_metrics_by_role(lab, start_proxy, rt_tables):
    ep, proc = routed_proxy(start_proxy)
    conn = connect(ep)
    try:
        before = metrics(proc.admin_port)
        point_reads(conn, n=50)
        q(conn, "INSERT INTO rt_w (v) VALUES ('m')")
        after = metrics(proc.admin_port)
        name = "querylens_statements_total"
        rep = metric_sum(after, name, role="replica") - metric_sum(before, name, role="replica")
        pri = metric_sum(after, name, role="primary") - metric_sum(before, name, role="primary")
        assert rep >= 50 and pri >= 1, f"{name}: replica +{rep}, primary +{pri}"
    finally:
        conn.close()
        root_exec(lab, "primary", ["DELETE FROM app.rt_w"])


# ---------------------------------------------------------------------------
# sysbench


SB_SECONDS = 10


def sysbench(ep, test, command, extra=(), timeout=180):
    cmd = ["sysbench", test, "--db-driver=mysql", f"--mysql-host={ep.host}",
           f"--mysql-port={ep.port}", "--mysql-user=app", "--mysql-password=app_pass",
           "--mysql-db=app", "--tables=2", "--table-size=1000", *extra, command]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def sb_counter(out: str, name: str) -> int | None:
    m = re.search(rf"^\s*{name}:\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else None


@pytest.fixture
def sbtables(lab):
    """sysbench's tables, made directly on the primary and replicated."""
    if not shutil.which("sysbench"):
        pytest.fail("sysbench not installed (scripts/setup.sh installs it)")
    sysbench(lab.primary, "oltp_read_write", "cleanup")
    prep = sysbench(lab.primary, "oltp_read_write", "prepare")
    assert prep.returncode == 0, prep.stdout + prep.stderr
    wait_replica_caught_up(lab)
    yield
    sysbench(lab.primary, "oltp_read_write", "cleanup")


def check_sysbench_run(run) -> dict:
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "FATAL" not in out, out
    res = {k: sb_counter(out, k) for k in ("transactions", "ignored errors", "reconnects",
                                           "read", "write")}
    assert res["transactions"] and res["transactions"] > 0, out
    assert res["reconnects"] == 0, out
    # Deadlocks (1213) are the workload's own, retried by sysbench; rare.
    assert res["ignored errors"] is not None and \
        res["ignored errors"] <= max(10, res["transactions"] // 20), out
    return res


@pytest.mark.slow
@pytest.mark.parametrize("skip_trx", [False, True])
def test_sysbench_oltp_read_write_routed(lab, start_proxy, sbtables, skip_trx):
    """With transactions everything stays on the primary; with --skip-trx
    (and no read-after-write window, since every sysbench thread writes
    all the time) the reads go to the replica."""
    extra = ["--read-after-write-window", "0"] if skip_trx else []
    ep, proc = start_proxy(extra)
    if skip_trx or proxy_routes(proc):
        wait_replica_usable(proc)
    c = Counters(lab)
    # Without transactions, two sysbench threads may delete and re-insert the
    # same id at once and collide (1062) on any server; one thread cannot.
    threads = 1 if skip_trx else 4
    run = sysbench(ep, "oltp_read_write", "run",
                   [f"--threads={threads}", f"--time={SB_SECONDS}", "--report-interval=0",
                    "--db-ps-mode=disable", f"--skip-trx={'on' if skip_trx else 'off'}"],
                   timeout=SB_SECONDS + 120)
    res = check_sysbench_run(run)
    d = c.delta()
    reads = res["read"]
    print(f"sysbench skip_trx={skip_trx}: {res}; Com_select primary +{d['primary']['Com_select']}, "
          f"replica +{d['replica']['Com_select']}")
    if skip_trx:
        assert d["replica"]["Com_select"] >= 0.8 * reads, (d, res)
    else:
        assert d["primary"]["Com_select"] >= reads, (d, res)
        assert d["replica"]["Com_select"] < max(100, reads // 20), (d, res)


@pytest.mark.slow
def test_prepared_reads_on_replica_writes_on_primary(lab, start_proxy, sbtables):
    """Binary protocol (sysbench --db-ps-mode=auto): prepared point selects
    execute on the replica, prepared updates on the primary."""
    ep, _ = routed_proxy(start_proxy, ["--read-after-write-window", "0"])
    c = Counters(lab, "Com_stmt_execute")
    run = sysbench(ep, "oltp_point_select", "run",
                   ["--threads=2", "--events=2000", "--time=0", "--report-interval=0",
                    "--db-ps-mode=auto", "--skip-trx=on"], timeout=120)
    res = check_sysbench_run(run)
    assert_on(c.delta(), "replica", res["read"], counter="Com_stmt_execute",
              what="prepared point selects")
    c = Counters(lab, "Com_stmt_execute")
    run = sysbench(ep, "oltp_update_non_index", "run",
                   ["--threads=2", "--events=500", "--time=0", "--report-interval=0",
                    "--db-ps-mode=auto", "--skip-trx=on"], timeout=120)
    res = check_sysbench_run(run)
    assert_on(c.delta(), "primary", res["write"], counter="Com_stmt_execute",
              what="prepared updates")
