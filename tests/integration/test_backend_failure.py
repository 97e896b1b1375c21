"""The primary stopped and started again under an open client session.

With a replica (the last test): a replica that applied everything the
primary was last seen to have keeps serving reads through the outage, to
open sessions and to new logins, while writes get the primary's ERR.

Through the proxy: while the primary is down, a statement gets an ERR naming
the backend (2003, "Can't connect to MySQL server on '127.0.0.1:PORT' ..."
when it cannot be reached; the statement that was running when the backend
went away may get another code naming it); the client session stays open,
and once the primary is back the SAME session works again. Directly against MariaDB the connection simply dies; in direct
mode the test checks that much and that the lab restarts cleanly.
"""
import time

import MySQLdb
import pymysql
import pytest

from conftest import DIRECT
from qladmin import admin_json, scrape, value
from qlhelpers import mysqldb_connect, pymysql_connect
from qlservers import (backends, connect, ensure_replica_running, q, routed_proxy,
                       set_replica_delay, wait_replica_caught_up, wait_replica_usable)

RECOVERY_TIMEOUT = 30


def _query(conn, sql="SELECT 1"):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall()
    finally:
        cur.close()


@pytest.fixture
def primary_restarted(lab):
    """Makes sure the primary runs again after the test, whatever happened."""
    yield lab
    lab.start_primary()


def _check_error(err, lab, unreachable=False):
    """An ERR from the proxy that names the backend. When the backend cannot
    be reached at all (unreachable=True) the issue asks for a 2003-style
    error: "Can't connect to MySQL server on '127.0.0.1:PORT'", code 2003 or
    the server-range 1429 (ER_CONNECT_TO_FOREIGN_DATA_SOURCE: some drivers
    drop the connection on client-range codes such as 2003/2013 even when
    they arrive in an ERR packet). For a backend connection
    lost during a statement, any code is accepted (e.g. 2013, or a
    server-range code such as 1927 ER_CONNECTION_KILLED) as long as the
    message names the backend and the session stays usable (checked by the
    caller)."""
    code, msg = err.args[0], err.args[1]
    assert f"127.0.0.1:{lab.primary.port}" in msg, f"error does not name the backend: {code} {msg}"
    if unreachable:
        assert code in (2003, 1429), (code, msg)
        assert msg.startswith(f"Can't connect to MySQL server on '127.0.0.1:{lab.primary.port}'"), msg
    return code, msg


def _outage_digest(proc, driver) -> dict:
    """Counts of the probe statement over every role (a failed statement
    that reached no backend is recorded with role "none"), and the proxy's
    connection-class error counter."""
    fp = f"select ? as outage_{driver}"
    entries = [d for d in admin_json(proc.admin_port, "/api/digests?limit=1000")["digests"]
               if d["fingerprint"] == fp]
    _, samples = scrape(proc.admin_port)
    return {"count": sum(d["count"] for d in entries),
            "errors": sum(d["errors"] for d in entries),
            "errors_by_class": value(samples, "querylens_statement_errors_total",
                                     **{"class": "connection"})}


@pytest.mark.slow
@pytest.mark.parametrize("driver", ["pymysql", "mysqldb"])
def test_same_session_survives_primary_restart(lab, proxy, proxy_process, primary_restarted,
                                               driver):
    if driver == "pymysql":
        conn = pymysql_connect(proxy, read_timeout=30)
        errors = (pymysql.err.OperationalError, pymysql.err.InternalError, pymysql.err.InterfaceError)
    else:
        conn = mysqldb_connect(proxy, read_timeout=30)
        errors = (MySQLdb.OperationalError, MySQLdb.InterfaceError)
    try:
        _query(conn, "SET @survivor = 'yes'")
        assert tuple(map(tuple, _query(conn))) == ((1,),)

        before = None if DIRECT else _outage_digest(proxy_process, driver)
        lab.stop_primary()
        t0 = time.monotonic()
        with pytest.raises(errors) as ei:
            _query(conn, f"SELECT 1 AS outage_{driver}")
        elapsed = time.monotonic() - t0
        print(f"{driver}: error while the primary is down after {elapsed:.2f}s: {ei.value.args}")
        assert elapsed < 30, "the error must come promptly, not after a long hang"

        if DIRECT:
            # MariaDB itself: the connection is gone; nothing more to check on it.
            lab.start_primary()
            fresh = mysqldb_connect(proxy) if driver == "mysqldb" else pymysql_connect(proxy)
            assert tuple(map(tuple, _query(fresh))) == ((1,),)
            fresh.close()
            return

        code, msg = _check_error(ei.value, lab)
        # A second statement while still down: the backend cannot be reached.
        with pytest.raises(errors) as ei2:
            _query(conn, f"SELECT 1 AS outage_{driver}")
        print(f"{driver}: second error while down: {ei2.value.args}")
        _check_error(ei2.value, lab, unreachable=True)
        # Both failed statements are counted, with the proxy's error codes.
        after = _outage_digest(proxy_process, driver)
        assert after["count"] - before["count"] == 2, (before, after)
        assert after["errors"] - before["errors"] == 2, (before, after)
        assert after["errors_by_class"] - before["errors_by_class"] >= 2, (before, after)

        lab.start_primary()
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            try:
                rows = _query(conn, "SELECT 1")
                break
            except errors as e:
                last = e
                # Only an ERR is acceptable here: a closed connection fails the test below.
                if driver == "pymysql" and not conn.open:
                    pytest.fail(f"the proxy closed the client session after {e.args}")
                time.sleep(0.5)
        else:
            pytest.fail(f"same session not usable {RECOVERY_TIMEOUT}s after the primary came back: {last!r}")
        assert tuple(map(tuple, rows)) == ((1,),)
        # The session is on a new backend connection: its state is gone, as after a reconnect.
        print(f"{driver}: after recovery @survivor = {_query(conn, 'SELECT @survivor')}")
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass


@pytest.mark.slow
def test_new_connections_while_primary_down(lab, proxy, primary_restarted):
    """A client that connects while the primary is down gets a clear error
    (not a hang), and can connect again once the primary is back."""
    lab.stop_primary()
    t0 = time.monotonic()
    with pytest.raises(pymysql.err.OperationalError) as ei:
        c = pymysql_connect(proxy, read_timeout=30)
        try:
            _query(c)   # a proxy may accept the login and fail the first statement
        finally:
            c.close()
    assert time.monotonic() - t0 < 30
    print("connect while down:", ei.value.args)
    if not DIRECT:
        _check_error(ei.value, lab, unreachable=True)
    lab.start_primary()
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while True:
        try:
            c = pymysql_connect(proxy)
            assert tuple(map(tuple, _query(c))) == ((1,),)
            c.close()
            break
        except pymysql.err.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _wait_replica_state(proc, timeout: float, **want):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = [b for b in backends(proc.admin_port) if b.get("role") == "replica"]
        if last and all(all(b.get(k) == v for k, v in want.items()) for b in last):
            return last
        time.sleep(0.2)
    raise AssertionError(f"replica never showed {want} within {timeout}s: {last}")


@pytest.mark.slow
def test_caught_up_replica_serves_reads_while_primary_is_down(lab, start_proxy,
                                                              primary_restarted):
    ep, proc = routed_proxy(start_proxy, ["--read-after-write-window", "0"])
    setup = connect(ep)
    q(setup, "CREATE TABLE IF NOT EXISTS app.outage_reads (id INT PRIMARY KEY, v VARCHAR(20))")
    q(setup, "REPLACE INTO app.outage_reads VALUES (1, 'before')")
    q(setup, "DELETE FROM app.outage_reads WHERE id > 1")
    setup.close()
    wait_replica_caught_up(lab)
    read = "SELECT v FROM app.outage_reads ORDER BY id"
    open_session = connect(ep)
    assert q(open_session, read) == (("before",),)
    try:
        lab.stop_primary()
        replica = _wait_replica_state(proc, 30, usable_for_reads=True, replication_running=False)
        assert replica[0]["caught_up_with_down_primary"] is True, replica

        # The open session reads on, from the replica.
        assert q(open_session, read) == (("before",),)
        # A new login works (checked on the replica), reads and pings.
        fresh = connect(ep)
        assert q(fresh, read) == (("before",),)
        fresh.ping(reconnect=False)
        # A write gets the primary's ERR, and the session goes on reading.
        with pytest.raises(pymysql.err.OperationalError) as ei:
            q(fresh, "INSERT INTO app.outage_reads VALUES (2, 'during')")
        _check_error(ei.value, lab)
        assert q(fresh, read) == (("before",),)
        fresh.close()
        # Django's connection set-up: MySQLdb turns autocommit off, Django
        # turns it on again and sets the isolation level; then it reads.
        django_like = mysqldb_connect(ep)
        django_like.autocommit(True)
        cur = django_like.cursor()
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cur.execute(read)
        assert cur.fetchall() == (("before",),)
        cur.execute("SELECT @@session.tx_isolation")
        assert cur.fetchall() == (("READ-COMMITTED",),)
        # Autocommit turned off during the outage stays off, whatever other
        # settings the replica runs meanwhile (it reads with autocommit=1).
        no_autocommit = mysqldb_connect(ep)
        no_autocommit.autocommit(True)
        ac = no_autocommit.cursor()
        ac.execute("SET autocommit = 0")
        ac.execute("SET NAMES utf8mb4")
    finally:
        lab.start_primary()

    # Replication resumes; writes work again, and the replica gets them.
    _wait_replica_state(proc, 60, caught_up_with_down_primary=False, replication_running=True)
    wait_replica_usable(proc)
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while True:
        try:
            q(open_session, "INSERT INTO app.outage_reads VALUES (2, 'after')")
            break
        except pymysql.err.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    wait_replica_caught_up(lab)
    assert q(open_session, read) == (("before",), ("after",))
    # Autocommit is still off on the primary: the insert is rolled back.
    ac.execute("INSERT INTO app.outage_reads VALUES (3, 'rolled back')")
    ac.execute("ROLLBACK")
    ac.execute("SELECT @@autocommit, COUNT(*) FROM app.outage_reads WHERE id = 3")
    assert ac.fetchall() == ((0, 0),)
    no_autocommit.close()
    # The setting made during the outage reaches the primary too.
    cur.execute("BEGIN")
    cur.execute("SELECT @@session.tx_isolation, @@hostname, @@port")
    isolation, _, port = cur.fetchall()[0]
    cur.execute("COMMIT")
    assert (isolation, port) == ("READ-COMMITTED", lab.primary.port)
    django_like.close()
    q(open_session, "DROP TABLE app.outage_reads")
    open_session.close()


@pytest.mark.slow
def test_replica_behind_takes_no_reads_while_primary_is_down(lab, start_proxy,
                                                             primary_restarted):
    """A replica that has not applied what the primary was last seen to have
    (here: MASTER_DELAY holds a write back) gets no reads in the outage."""
    ep, proc = routed_proxy(start_proxy, ["--read-after-write-window", "0"])
    conn = connect(ep)
    try:
        q(conn, "CREATE TABLE IF NOT EXISTS app.outage_behind (id INT PRIMARY KEY)")
        wait_replica_caught_up(lab)
        set_replica_delay(lab, 60)
        q(conn, "REPLACE INTO app.outage_behind VALUES (1)")  # held back on the replica
        time.sleep(3)  # the monitor saw the primary's new position
        lab.stop_primary()
        _wait_replica_state(proc, 30, replication_running=False, usable_for_reads=False)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            reps = [b for b in backends(proc.admin_port) if b.get("role") == "replica"]
            assert reps and reps[0]["usable_for_reads"] is False, reps
            time.sleep(0.2)
        with pytest.raises(pymysql.err.OperationalError) as ei:
            q(connect(ep), "SELECT COUNT(*) FROM app.outage_behind")
        _check_error(ei.value, lab, unreachable=True)
    finally:
        lab.start_primary()
        set_replica_delay(lab, 0)
        ensure_replica_running(lab)
        q(connect(ep), "DROP TABLE IF EXISTS app.outage_behind")
        conn.close()
