"""SIGTERM / SIGINT drain the proxy before it exits.

On the first signal the proxy stops accepting clients, /readyz answers 503,
sessions waiting for a command outside a transaction are closed, a running
statement finishes and its client gets the answer, and an open transaction
may still COMMIT; the process exits 0 as soon as the last session ended, or
at --shutdown-timeout, or at a second signal. The transaction cut off by the
timeout is rolled back by the server, never half-applied.
"""
import signal
import threading
import time

import pymysql
import pytest

from qladmin import http_get
from qlservers import connect, q, root_query

CLOSED = (pymysql.err.OperationalError, pymysql.err.InterfaceError)


@pytest.fixture
def drain_table(lab):
    conn = pymysql.connect(host=lab.primary.host, port=lab.primary.port, user="app",
                           password="app_pass", database="app", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS app.drain_rows (id INT PRIMARY KEY)")
        cur.execute("DELETE FROM app.drain_rows")
    yield
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS app.drain_rows")
    conn.close()


def _rows(lab):
    return [r[0] for r in root_query(lab, "primary", "SELECT id FROM app.drain_rows ORDER BY id")]


def _wait_running_on_primary(lab, needle: str, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        infos = [r[0] or "" for r in root_query(
            lab, "primary", "SELECT info FROM information_schema.processlist")]
        if any(needle in i for i in infos):
            return
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} never ran on the primary")


def _stopped(proc, timeout: float) -> int:
    rc = proc.proc.wait(timeout)
    proc.reported_exit = True  # an exit this test asked for, not a crash
    return rc


def test_sigterm_lets_running_statements_and_transactions_finish(lab, start_proxy, drain_table):
    ep, proc = start_proxy(["--shutdown-timeout", "60"])
    idle = connect(ep)
    assert q(idle, "SELECT 1") == ((1,),)
    in_tx = connect(ep)
    q(in_tx, "BEGIN")
    q(in_tx, "INSERT INTO app.drain_rows VALUES (1)")
    slow = connect(ep)
    result = {}

    def run_slow():
        try:
            result["rows"] = q(slow, "SELECT /* querylens:primary */ SLEEP(2) AS drain_sleep, 42")
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            result["error"] = e

    t = threading.Thread(target=run_slow)
    t.start()
    _wait_running_on_primary(lab, "drain_sleep")
    proc.proc.send_signal(signal.SIGTERM)

    deadline = time.monotonic() + 10
    while http_get(proc.admin_port, "/readyz").status != 503:
        assert time.monotonic() < deadline, "/readyz never said 503 during the drain"
        time.sleep(0.05)
    with pytest.raises(pymysql.err.OperationalError):
        connect(ep, connect_timeout=3)  # no new clients
    with pytest.raises(CLOSED):
        q(idle, "SELECT 1")  # closed between commands
    t.join(20)
    assert result.get("rows") == ((0, 42),), result  # the running statement finished

    # The transaction may go on and commit; then its session ends.
    q(in_tx, "INSERT INTO app.drain_rows VALUES (2)")
    q(in_tx, "COMMIT")
    assert _stopped(proc, 30) == 0  # long before the 60 s timeout: no session was left
    assert _rows(lab) == [1, 2]
    assert "drained: every client session ended" in proc.log_tail(40)
    for c in (idle, in_tx, slow):
        try:
            c.close()
        except Exception:  # noqa: BLE001
            pass


def _sigterm_with_open_transaction(start_proxy, shutdown_timeout: str):
    """A proxy with one session inside a transaction that wrote a row, sent SIGTERM."""
    ep, proc = start_proxy(["--shutdown-timeout", shutdown_timeout])
    in_tx = connect(ep)
    q(in_tx, "BEGIN")
    q(in_tx, "INSERT INTO app.drain_rows VALUES (7)")
    proc.proc.send_signal(signal.SIGTERM)
    return proc, in_tx


def test_shutdown_timeout_cuts_off_an_open_transaction(lab, start_proxy, drain_table):
    proc, in_tx = _sigterm_with_open_transaction(start_proxy, "1")
    assert _stopped(proc, 30) == 0
    assert "shutdown timeout: closing 1 client sessions still open" in proc.log_tail(40)
    with pytest.raises(CLOSED):
        q(in_tx, "COMMIT")
    # The server rolled the cut-off transaction back.
    deadline = time.monotonic() + 10
    while _rows(lab):
        assert time.monotonic() < deadline, _rows(lab)
        time.sleep(0.1)


def test_second_signal_stops_at_once(lab, start_proxy, drain_table):
    proc, in_tx = _sigterm_with_open_transaction(start_proxy, "120")
    deadline = time.monotonic() + 10
    while "draining" not in proc.log_tail(20):
        assert time.monotonic() < deadline, proc.log_tail(20)
        time.sleep(0.05)
    proc.proc.send_signal(signal.SIGINT)
    assert _stopped(proc, 30) == 0
    assert "signal again: closing 1 client sessions still open" in proc.log_tail(40)
    in_tx.close()
