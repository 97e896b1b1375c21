"""KILL through the proxy. A client knows connection ids from the handshake,
which behind the proxy are the proxy's own ids: KILL QUERY <id> (what the
mariadb CLI sends on Ctrl-C, and Connector/J's cancel) and COM_PROCESS_KILL
must stop that session's statement, on whichever server runs it, and never
a backend thread that merely carries the same number.
"""
import threading
import time

import pymysql
import pytest

from qlhelpers import APP2_PASSWORD, APP2_USER, pymysql_connect
from qlservers import routed_proxy

SLEEP = 20  # seconds a killed statement would otherwise run


class Sleeper:
    """Runs `SELECT SLEEP(n)` (with an optional routing hint) on its own
    connection in a thread; records the answer or error and the time taken."""

    def __init__(self, ep, hint="", user=None, password=None, seconds=SLEEP):
        kw = {"user": user, "password": password} if user else {}
        self.conn = pymysql_connect(ep, autocommit=True, read_timeout=SLEEP + 30, **kw)
        self.id = self.conn.thread_id()
        self.sql = f"SELECT {hint} SLEEP({seconds})"
        self.result = None
        self.error = None
        self.elapsed = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        start = time.monotonic()
        try:
            with self.conn.cursor() as cur:
                cur.execute(self.sql)
                self.result = cur.fetchall()
        except pymysql.err.MySQLError as e:
            self.error = e
        self.elapsed = time.monotonic() - start

    def start(self):
        self.thread.start()
        time.sleep(0.7)  # the statement reached its server

    def join(self):
        self.thread.join(SLEEP + 30)
        assert not self.thread.is_alive()

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


@pytest.mark.parametrize("hint", ["", "/* querylens:primary */"], ids=["replica", "primary"])
def test_kill_query_stops_that_sessions_statement(start_proxy, hint):
    ep, _ = routed_proxy(start_proxy, ["--workers", "2"])
    # Several pairs: the killer and its target land on either worker.
    for _ in range(4):
        target = Sleeper(ep, hint)
        killer = pymysql_connect(ep, autocommit=True)
        try:
            target.start()
            with killer.cursor() as cur:
                cur.execute(f"KILL QUERY {target.id}")
            target.join()
            # SLEEP() says 1 when interrupted (or the server reports 1317).
            assert target.elapsed < SLEEP / 2, f"KILL QUERY did not stop the statement: {target.__dict__}"
            assert target.result == ((1,),) or (target.error and target.error.args[0] == 1317), \
                target.__dict__
            # The killed session goes on.
            with target.conn.cursor() as cur:
                cur.execute("SELECT 7")
                assert cur.fetchall() == ((7,),)
        finally:
            target.close()
            killer.close()


def test_process_kill_and_kill_connection_end_that_session(start_proxy):
    ep, _ = routed_proxy(start_proxy, ["--workers", "2"])
    for how in ("COM_PROCESS_KILL", "KILL", "KILL CONNECTION"):
        victim = pymysql_connect(ep, autocommit=True)
        killer = pymysql_connect(ep, autocommit=True)
        try:
            if how == "COM_PROCESS_KILL":
                killer.kill(victim.thread_id())
            else:
                with killer.cursor() as cur:
                    cur.execute(f"{how} {victim.thread_id()}")
            with pytest.raises(pymysql.err.MySQLError):
                with victim.cursor() as cur:
                    cur.execute("SELECT 1")
                    cur.fetchall()
            with killer.cursor() as cur:  # the killer is unharmed
                cur.execute("SELECT 2")
                assert cur.fetchall() == ((2,),)
        finally:
            victim.close()
            killer.close()


def test_kill_of_unknown_or_foreign_ids_is_refused(start_proxy, direct):
    ep, _ = routed_proxy(start_proxy)
    bystander = Sleeper(direct, user=APP2_USER, password=APP2_PASSWORD, seconds=5)
    other_user = pymysql_connect(ep, user=APP2_USER, password=APP2_PASSWORD, autocommit=True)
    killer = pymysql_connect(ep, autocommit=True)
    try:
        # A thread of the primary, directly connected: its id means nothing
        # to the proxy, and the proxy must not pass the number on.
        bystander.start()
        for sql in (f"KILL QUERY {bystander.id}", f"KILL {bystander.id}"):
            with pytest.raises(pymysql.err.OperationalError) as e:
                with killer.cursor() as cur:
                    cur.execute(sql)
            assert e.value.args[0] in (1094, 1095), e.value.args
        # An expression instead of a number: not translatable, never passed on.
        for sql in (f"KILL ({bystander.id})", f"KILL QUERY {bystander.id} + 0",
                    f"KILL {bystander.id}; SELECT 1"):
            with pytest.raises(pymysql.err.MySQLError) as e:
                with killer.cursor() as cur:
                    cur.execute(sql)
            assert e.value.args[0] == 1235, (sql, e.value.args)
        with pytest.raises(pymysql.err.OperationalError) as e:
            killer.kill(4000000)
        assert e.value.args[0] == 1094 and "Unknown thread id: 4000000" in e.value.args[1]
        # A number no connection id can be (above 32 bits): unknown, as on the server.
        with pytest.raises(pymysql.err.OperationalError) as e:
            with killer.cursor() as cur:
                cur.execute(f"KILL {(1 << 32) + bystander.id}")
        assert e.value.args[0] == 1094, e.value.args
        assert e.value.args[1] == f"Unknown thread id: {(1 << 32) + bystander.id}", e.value.args
        # Another user's session through the proxy.
        with pytest.raises(pymysql.err.OperationalError) as e:
            with killer.cursor() as cur:
                cur.execute(f"KILL QUERY {other_user.thread_id()}")
        assert e.value.args[0] == 1095, e.value.args
        bystander.join()
        assert bystander.result == ((0,),) and bystander.elapsed >= 4, \
            f"a thread of the primary was interrupted: {bystander.__dict__}"
    finally:
        bystander.close()
        other_user.close()
        killer.close()


def test_kill_own_query_interrupts_itself(start_proxy, direct):
    ep, _ = routed_proxy(start_proxy)
    for e in (direct, ep):
        conn = pymysql_connect(e, autocommit=True)
        try:
            with pytest.raises(pymysql.err.OperationalError) as err:
                with conn.cursor() as cur:
                    cur.execute(f"KILL QUERY {conn.thread_id()}")
            assert err.value.args[0] == 1317, (e, err.value.args)
        finally:
            conn.close()


def test_server_thread_ids_never_name_a_proxy_session(start_proxy):
    """An on-call engineer copies an id from SHOW PROCESSLIST (or a client's
    CONNECTION_ID(), which the server answers) and KILLs it through the proxy.
    Such ids are small; the proxy's ids start at 1,000,000,000, so the KILL
    gets 1094 instead of stopping whichever proxy session carries that number."""
    ep, _ = routed_proxy(start_proxy, ["--workers", "2"])
    victim = Sleeper(ep, hint="/* querylens:primary */", seconds=4)
    killer = pymysql_connect(ep, autocommit=True)
    others = [pymysql_connect(ep, autocommit=True) for _ in range(4)]
    try:
        ids = [c.thread_id() for c in (victim.conn, killer, *others)]
        assert all(i >= 1_000_000_000 for i in ids), ids
        assert len(set(ids)) == len(ids), ids
        with victim.conn.cursor() as cur:
            cur.execute("SELECT /* querylens:primary */ CONNECTION_ID()")
            server_id = cur.fetchall()[0][0]
        assert server_id < 1_000_000_000, server_id
        victim.start()
        for sql in (f"KILL QUERY {server_id}", f"KILL {server_id}"):
            with pytest.raises(pymysql.err.OperationalError) as e:
                with killer.cursor() as cur:
                    cur.execute(sql)
            assert e.value.args[:2] == (1094, f"Unknown thread id: {server_id}"), e.value.args
        victim.join()
        assert victim.result == ((0,),) and victim.elapsed >= 3, victim.__dict__
    finally:
        for c in others:
            c.close()
        victim.close()
        killer.close()
