"""Session state through a routing proxy: what a session set must hold for
its later reads, whichever server runs them.

Each scenario runs on a direct connection to the primary and through a
proxy with read/write splitting on (default options, replica usable), and
what the client saw must be the same: user variables, SET NAMES with
non-ASCII text, USE of another schema, temporary tables (including one that
hides a real table), session variables (time_zone, sql_mode, isolation,
group_concat_max_len), Django's connection set-up, prepared statements and
COM_RESET_CONNECTION through the C client.

Where the proxy routes (its /api/backends reports usable_for_reads), the
tests also check that reads which need no pin really ran on the replica
(Com_select there), and that pinning state moved
querylens_session_pins_total{reason}: otherwise the comparison alone would
pass with every read on the primary. A proxy without routing runs them on
its one backend; those runs check the values only.
"""
from decimal import Decimal

import pytest

from qlhelpers import APP_DB, assert_same, mysqldb_connect, run_script
from qlservers import (Counters, connect, metric_sum, metrics, proxy_routes, q, root_exec,
                       wait_replica_caught_up, wait_replica_usable)
from test_c_client import run_both

LOOPS = 60  # repeated reads for the counter checks (noise margin: LOOPS/2)


@pytest.fixture(scope="module")
def st_tables(lab):
    root_exec(lab, "primary", [
        "DROP TABLE IF EXISTS app.st_t, app.st_names",
        "DROP DATABASE IF EXISTS ql_st_other",
        "CREATE TABLE app.st_t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB",
        "INSERT INTO app.st_t SELECT seq, CONCAT('v', seq) FROM seq_1_to_10",
        "CREATE TABLE app.st_names (id INT PRIMARY KEY, txt VARCHAR(50)) "
        "CHARACTER SET utf8mb4 ENGINE=InnoDB",
        "INSERT INTO app.st_names VALUES (1, 'caf\u00e9 \u00fcber \u00df'), "
        "(2, 'smile \U0001F600 \u65e5\u672c')",
        "CREATE DATABASE ql_st_other",
        "CREATE TABLE ql_st_other.t2 (id INT PRIMARY KEY, v VARCHAR(20))",
        "INSERT INTO ql_st_other.t2 VALUES (1, 'other-1'), (2, 'other-2')",
        "CREATE TABLE ql_st_other.st_t (id INT PRIMARY KEY, v VARCHAR(20))",
        "INSERT INTO ql_st_other.st_t VALUES (1, 'other-st-1')",
    ])
    wait_replica_caught_up(lab)
    yield
    root_exec(lab, "primary", ["DROP TABLE IF EXISTS app.st_t, app.st_names",
                               "DROP DATABASE IF EXISTS ql_st_other"])


@pytest.fixture
def routed(lab, start_proxy, st_tables):
    """A proxy with default routing options; with a routing build, the
    replica is usable before the test starts. Returns (endpoint, process, routes)."""
    ep, proc = start_proxy([])
    routes = proxy_routes(proc)
    if routes:
        wait_replica_usable(proc)
    else:
        print("this proxy does not report read routing: values are checked on its one backend")
    return ep, proc, routes


@pytest.fixture
def no_window(lab, start_proxy, st_tables):
    """A proxy with --read-after-write-window 0: a session's reads leave the
    primary right after its writes, so only a pin keeps them there.
    Returns its endpoint."""
    ep, proc = start_proxy(["--read-after-write-window", "0"])
    if proxy_routes(proc):
        wait_replica_usable(proc)
    return ep


def both(direct, ep, statements, driver="pymysql", **kw):
    """Runs statements on a fresh connection to each endpoint; returns the captures."""
    out = []
    for e in (direct, ep):
        if driver == "pymysql":
            conn = connect(e, **kw)
        else:
            conn = mysqldb_connect(e, autocommit=True, **kw)
        try:
            out.append(run_script(driver, conn, statements))
        finally:
            conn.close()
    return out


def rows_of(capture, i):
    rec = capture[i]
    assert "sets" in rec, f"statement {rec['sql']!r} failed: {rec}"
    return rec["sets"][0]["rows"]


def pins(proc, reason):
    return metric_sum(metrics(proc.admin_port), "querylens_session_pins_total", reason=reason)


def check_reads_on_replica(lab, ep, routes, setup, reads, expect, what, **kw):
    """With a routing proxy: after `setup`, LOOPS rounds of `reads` (no pins)
    give `expect` every time and ran on the replica."""
    conn = connect(ep, **kw)
    try:
        for s in setup:
            q(conn, s)
        c = Counters(lab)
        for _ in range(LOOPS):
            got = [q(conn, r) for r in reads]
            assert got == expect, f"{what}: {got} != {expect}"
        d = c.delta()
    finally:
        conn.close()
    if routes:
        assert d["replica"]["Com_select"] >= LOOPS * len(reads), \
            f"{what}: the reads did not run on the replica: {d}"


def check_reads_pinned(lab, ep, routes, setup, read, what, teardown=()):
    """With a routing proxy: after `setup` (which pins the session), LOOPS
    plain reads run on the primary."""
    if not routes:
        return
    conn = connect(ep)
    try:
        for s in setup:
            q(conn, s)
        c = Counters(lab)
        for _ in range(LOOPS):
            q(conn, read)
        d = c.delta()
        for s in teardown:
            q(conn, s)
    finally:
        conn.close()
    assert d["primary"]["Com_select"] >= LOOPS and d["replica"]["Com_select"] < LOOPS // 2, \
        f"{what}: reads of a pinned session did not stay on the primary: {d}"


# ---------------------------------------------------------------------------


def test_user_variables(lab, direct, routed, no_window):
    ep, proc, routes = routed
    statements = [
        "SET @a := 5",
        "SET @b = 'bee'",
        "SELECT @a, @b",
        "SELECT v, @a + 1, @b FROM st_t WHERE id = 3",
        "SELECT @c := 9",             # assigned by a SELECT
        "SELECT @c, @a",
        "SET @a = @a * 10",
        "SELECT COUNT(*) FROM st_t",  # an unrelated read in between
        "SELECT @a, @b, @c",
    ]
    before = pins(proc, "user_variable") if routes else 0
    d, p = both(direct, ep, statements)
    assert_same(d, p, "user variables")
    assert rows_of(p, 8) == [(50, "bee", 9)]
    if routes:
        assert pins(proc, "user_variable") > before
    # A value the server computes pins the session ...
    check_reads_pinned(lab, no_window, routes, ["SET @a = 1", "SET @a = @a + 1"],
                       "SELECT v FROM st_t WHERE id = 2", "SET @a = @a + 1")
    # ... constants are replayed on the replica, in the session's character set.
    check_reads_on_replica(
        lab, ep, routes, ["SET @app_user = 'caf\u00e9', @n = 42, @d = 2.50, @z = NULL"],
        ["SELECT @app_user, @n, @d, @z, v FROM st_t WHERE id = 1"],
        [(("caf\u00e9", 42, Decimal("2.50"), None, "v1"),)], "SET @ constants")


def test_computed_user_variable_is_not_replayed_on_reconnect(lab, direct, routed):
    """SET @n = @n + 1 twice is 2; the proxy never replays it (which would
    give 1), it keeps the session on the primary."""
    ep, _, _ = routed
    statements = ["SET @n = 0", "SET @n = @n + 1", "SET @n = @n + 1", "SELECT @n",
                  "SET @t = (SELECT COUNT(*) FROM st_t)", "SELECT @t, @n"]
    d, p = both(direct, ep, statements)
    assert_same(d, p, "computed user variables")
    assert rows_of(p, 5) == [(10, 2)]


def test_set_names_round_trip(lab, direct, routed):
    ep, _, routes = routed
    row1 = "caf\u00e9 \u00fcber \u00df"
    reads_latin1 = [
        b"SELECT txt, HEX(txt), @@character_set_client, @@character_set_results "
        b"FROM st_names WHERE id = 1",
        "SELECT 'caf\u00e9' AS s, HEX('caf\u00e9') AS h, CHAR_LENGTH('caf\u00e9') AS n".encode("latin1"),
        ("SELECT id FROM st_names WHERE txt = '" + row1 + "'").encode("latin1"),
    ]
    reads_utf8 = [
        b"SELECT txt, HEX(txt), @@character_set_client FROM st_names ORDER BY id",
        "SELECT '\U0001F600' AS s, HEX('\U0001F600') AS h, CHAR_LENGTH('\u65e5\u672c') AS n".encode("utf8"),
    ]
    statements = (["SET NAMES latin1"] + reads_latin1 + ["SET NAMES utf8mb4"] + reads_utf8
                  + ["SET NAMES latin1"] + reads_latin1)
    d, p = both(direct, ep, statements, charset="utf8mb4", use_unicode=False)
    assert_same(d, p, "SET NAMES")
    assert rows_of(p, 1)[0][0] == row1.encode("latin1")
    assert rows_of(p, 2)[0][2] == 4
    assert rows_of(p, 3) == [(1,)]
    assert rows_of(p, 5)[1][0] == "smile \U0001F600 \u65e5\u672c".encode("utf8")
    check_reads_on_replica(
        lab, ep, routes, ["SET NAMES latin1"], [reads_latin1[0]],
        [((row1.encode("latin1"), row1.encode("utf8").hex().upper().encode(),
           b"latin1", b"latin1"),)],
        "SET NAMES latin1", charset="utf8mb4", use_unicode=False)


def test_use_other_schema(lab, direct, routed):
    ep, _, routes = routed
    statements = [
        "SELECT DATABASE()",
        "USE ql_st_other",
        "SELECT DATABASE()",
        "SELECT v FROM t2 WHERE id = 1",
        "SELECT v FROM st_t WHERE id = 1",   # the other schema's st_t, not app's
        "USE app",
        "SELECT v FROM st_t WHERE id = 1",
    ]
    d, p = both(direct, ep, statements)
    assert_same(d, p, "USE")
    assert rows_of(p, 4) == [("other-st-1",)]
    assert rows_of(p, 6) == [("v1",)]
    # COM_INIT_DB (the driver's select_db) as well.
    for e in (direct, ep):
        conn = connect(e)
        try:
            conn.select_db("ql_st_other")
            assert q(conn, "SELECT DATABASE(), v FROM st_t WHERE id = 1") == \
                (("ql_st_other", "other-st-1"),)
            conn.select_db(APP_DB)
            assert q(conn, "SELECT DATABASE(), v FROM st_t WHERE id = 1") == (("app", "v1"),)
        finally:
            conn.close()
    check_reads_on_replica(lab, ep, routes, ["USE ql_st_other"],
                           ["SELECT v FROM st_t WHERE id = 1"], [(("other-st-1",),)],
                           "USE ql_st_other")


def test_temporary_tables(lab, direct, routed, no_window):
    ep, proc, routes = routed
    statements = [
        "CREATE TEMPORARY TABLE st_tmp (id INT PRIMARY KEY, v VARCHAR(10))",
        "INSERT INTO st_tmp VALUES (1, 'a'), (2, 'b')",
        "SELECT * FROM st_tmp ORDER BY id",
        # A temporary table that hides a real one: only the session's server has it.
        "CREATE TEMPORARY TABLE st_t (id INT PRIMARY KEY, v VARCHAR(20))",
        "INSERT INTO st_t VALUES (1, 'temp-shadow')",
        "SELECT v FROM st_t WHERE id = 1",
        "SELECT COUNT(*) FROM st_t",
        "DROP TEMPORARY TABLE st_t",
        "SELECT v FROM st_t WHERE id = 1",
        "SELECT COUNT(*) FROM st_tmp",
    ]
    before = pins(proc, "temporary_table") if routes else 0
    d, p = both(direct, ep, statements)
    assert_same(d, p, "temporary tables")
    assert rows_of(p, 2) == [(1, "a"), (2, "b")]
    assert rows_of(p, 5) == [("temp-shadow",)]
    assert rows_of(p, 8) == [("v1",)]
    if routes:
        assert pins(proc, "temporary_table") > before
    check_reads_pinned(lab, no_window, routes, ["CREATE TEMPORARY TABLE st_tmp2 (id INT)"],
                       "SELECT v FROM st_t WHERE id = 2", "CREATE TEMPORARY TABLE")


def test_user_lock(lab, direct, routed, no_window):
    """GET_LOCK pins the session: RELEASE_LOCK only succeeds on the
    connection that holds the lock, and IS_USED_LOCK names it."""
    ep, proc, routes = routed
    statements = [
        "SELECT GET_LOCK('ql_st_lock', 5)",
        "SELECT IS_USED_LOCK('ql_st_lock') = CONNECTION_ID()",
        "SELECT IS_FREE_LOCK('ql_st_lock')",
        "SELECT v FROM st_t WHERE id = 5",
        "SELECT RELEASE_LOCK('ql_st_lock')",
        "SELECT RELEASE_LOCK('ql_st_lock')",
    ]
    before = pins(proc, "user_lock") if routes else 0
    d, p = both(direct, ep, statements)
    assert_same(d, p, "GET_LOCK")
    assert [rows_of(p, i) for i in (0, 1, 2, 4, 5)] == \
        [[(1,)], [(1,)], [(0,)], [(1,)], [(None,)]]
    if routes:
        assert pins(proc, "user_lock") > before
    check_reads_pinned(lab, no_window, routes, ["SELECT GET_LOCK('ql_st_lock2', 5)"],
                       "SELECT v FROM st_t WHERE id = 2", "GET_LOCK",
                       teardown=["SELECT RELEASE_LOCK('ql_st_lock2')"])
    # RELEASE_ALL_LOCKS() lifts the pin.
    check_reads_on_replica(lab, no_window, routes,
                           ["SELECT GET_LOCK('ql_st_lock3', 5)", "SELECT RELEASE_ALL_LOCKS()"],
                           ["SELECT v FROM st_t WHERE id = 2"], [(("v2",),)], "RELEASE_ALL_LOCKS")


def test_sql_log_bin_pins(lab, direct, routed, no_window):
    """SET sql_log_bin = 0 keeps the session's writes out of the binlog, so
    the replica never sees them: its reads must stay on the primary. A SET
    that only mentions the name in a comment or a string is not that."""
    ep, proc, routes = routed
    before = pins(proc, "sql_log_bin") if routes else 0
    d, p = both(direct, ep, ["SET SESSION sql_log_bin = 0", "SELECT @@session.sql_log_bin"])
    assert_same(d, p, "sql_log_bin")
    assert rows_of(p, 1) == [(0,)]
    if routes:
        assert pins(proc, "sql_log_bin") > before
    check_reads_pinned(lab, no_window, routes, ["SET SESSION sql_log_bin = 0"],
                       "SELECT v FROM st_t WHERE id = 2", "sql_log_bin")
    check_reads_on_replica(lab, no_window, routes,
                           ["SET SESSION wait_timeout = 600 /* not sql_log_bin */",
                            "SET SESSION sql_select_limit = DEFAULT, @note = 'sql_log_bin'"],
                           ["SELECT v FROM st_t WHERE id = 2"], [(("v2",),)],
                           "a SET mentioning sql_log_bin")


def test_lock_tables(lab, direct, routed, no_window):
    """Under LOCK TABLES only the locked tables may be read (1100 for the
    others): reads must run on the connection holding the locks."""
    ep, proc, routes = routed
    statements = [
        "LOCK TABLES st_t READ",
        "SELECT v FROM st_t WHERE id = 3",
        "SELECT txt FROM st_names WHERE id = 1",
        "UNLOCK TABLES",
        "SELECT id FROM st_names WHERE id = 1",
    ]
    before = pins(proc, "lock_tables") if routes else 0
    d, p = both(direct, ep, statements)
    assert_same(d, p, "LOCK TABLES")
    assert rows_of(p, 1) == [("v3",)]
    assert p[2].get("code") == 1100, p[2]
    assert rows_of(p, 4) == [(1,)]
    if routes:
        assert pins(proc, "lock_tables") > before
    check_reads_pinned(lab, no_window, routes, ["LOCK TABLES st_t READ"],
                       "SELECT v FROM st_t WHERE id = 2", "LOCK TABLES",
                       teardown=["UNLOCK TABLES"])


@pytest.mark.parametrize("setup,reads,expect", [
    (["SET time_zone = '+03:00'"],
     ["SELECT @@session.time_zone", "SELECT CAST(FROM_UNIXTIME(0) AS CHAR)"],
     [(("+03:00",),), (("1970-01-01 03:00:00",),)]),
    (["SET SESSION sql_mode = 'ANSI_QUOTES'"],
     ["SELECT @@session.sql_mode", 'SELECT "v" FROM st_t WHERE id = 2'],
     [(("ANSI_QUOTES",),), (("v2",),)]),
    (["SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"],
     ["SELECT @@session.tx_isolation"], [(("READ-COMMITTED",),)]),
    (["SET SESSION group_concat_max_len = 7"],
     ["SELECT GROUP_CONCAT(v ORDER BY id) FROM st_t"], [(("v1,v2,v",),)]),
    (["SET SESSION div_precision_increment = 9"], ["SELECT 1/3"], None),
], ids=["time_zone", "sql_mode", "isolation", "group_concat_max_len", "div_precision"])
def test_session_variables_reach_reads(lab, direct, routed, setup, reads, expect):
    ep, _, routes = routed
    d, p = both(direct, ep, setup + reads)
    assert_same(d, p, setup[0])
    if expect is None:
        expect = [tuple(rows_of(d, len(setup) + i)) for i in range(len(reads))]
    check_reads_on_replica(lab, ep, routes, setup, reads, expect, setup[0])


def test_session_variables_not_shared_between_sessions(lab, routed):
    """One session's SET must not leak into another's reads (the replica
    connections the proxy uses for reads are shared or pooled)."""
    ep, _, _ = routed
    a, b = connect(ep), connect(ep)
    try:
        q(a, "SET time_zone = '+03:00'")
        q(b, "SET time_zone = '-07:00'")
        for _ in range(20):
            assert q(a, "SELECT @@session.time_zone") == (("+03:00",),)
            assert q(b, "SELECT @@session.time_zone") == (("-07:00",),)
        fresh = connect(ep)
        try:
            assert q(fresh, "SELECT @@session.time_zone") == (("SYSTEM",),)
        finally:
            fresh.close()
    finally:
        a.close()
        b.close()


def test_django_style_setup(lab, direct, routed):
    """What Django's MySQL backend sends on a new connection, then reads."""
    ep, _, routes = routed
    setup = ["SET SQL_AUTO_IS_NULL = 0",
             "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"]
    reads = ["SELECT @@SQL_AUTO_IS_NULL, @@session.tx_isolation",
             "SELECT v FROM st_t WHERE id = 4"]
    d, p = both(direct, ep, setup + reads, driver="mysqldb", charset="utf8mb4")
    assert_same(d, p, "django set-up")
    assert rows_of(p, 2) == [(0, "READ-COMMITTED")]
    check_reads_on_replica(lab, ep, routes, setup, reads,
                           [((0, "READ-COMMITTED"),), (("v4",),)], "django set-up")


@pytest.mark.parametrize("scenario", ["prepared", "prepared_schema", "cursor", "reset", "misc",
                                      "change_user"])
def test_c_client_through_routing(qlclient, direct, routed, scenario):
    """MariaDB Connector/C: prepared statements (binary protocol), cursors,
    COM_RESET_CONNECTION, COM_INIT_DB / COM_FIELD_LIST / multi-statements and
    COM_CHANGE_USER give the same output through the routing proxy as
    directly."""
    ep, _, _ = routed
    a, _ = run_both(qlclient, direct, ep, scenario)
    if scenario == "prepared_schema":
        # What MariaDB itself does, and so the proxy's replica must do too.
        assert a.count("row v1") == 3 and "row other-st-1" in a, a


def test_text_prepare_pins_and_matches(lab, direct, routed):
    """Text PREPARE pins the session to the primary (the statement lives
    there) and EXECUTE gives the same answers as directly."""
    ep, proc, routes = routed
    statements = [
        "PREPARE ps1 FROM 'SELECT v FROM st_t WHERE id = ?'",
        "SET @id = 6",
        "EXECUTE ps1 USING @id",
        "SELECT v FROM st_t WHERE id = 7",
        "EXECUTE ps1 USING @id",
        "DEALLOCATE PREPARE ps1",
        "EXECUTE ps1 USING @id",
    ]
    before = pins(proc, "prepared_statement") if routes else 0
    d, p = both(direct, ep, statements)
    assert_same(d, p, "text PREPARE")
    assert rows_of(p, 2) == [("v6",)]
    assert p[6].get("code") == 1243, p[6]
    if routes:
        assert pins(proc, "prepared_statement") > before
