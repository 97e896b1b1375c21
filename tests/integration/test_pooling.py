"""Backend connection pools.

- Reuse: 150 short client sessions through a one-worker proxy grow the
  primary's `Connections` status counter by far less than 150 (control:
  150 direct connects grow it by at least 150).
- Exhaustion: with --pool-max-connections 1 --pool-wait-timeout 1, while one
  session holds the only primary connection (open transaction), another
  session's primary statement waits about a second and gets ERR 1040
  (SQLSTATE 08004) naming querylens and the backend; the first session goes
  on working, and once it commits the pool serves others again.
- Idle connections are closed after --pool-idle-timeout.
- With --pool-max-age, a SET GLOBAL reaches new sessions: connections older
  than the limit are not reused.
- A reused connection carries nothing of its previous client: user
  variables, temporary tables, time_zone, sql_mode.
"""
import time

import pymysql
import pytest

from qlservers import connect, global_status, metric_sum, metrics, q, root_query

SESSIONS = 150
PRIMARY_HINT = "/* querylens:primary */"


def connections(lab) -> int:
    return global_status(lab, "primary", ["Connections"])["Connections"]


def short_session(ep, **kw):
    conn = connect(ep, **kw)
    try:
        assert q(conn, f"SELECT {PRIMARY_HINT} 1") == ((1,),)
    finally:
        conn.close()


def test_connections_are_reused(lab, start_proxy):
    # Control: the counter sees every direct connect.
    before = connections(lab)
    for _ in range(SESSIONS):
        short_session(lab.primary)
    direct_delta = connections(lab) - before
    assert direct_delta >= SESSIONS, direct_delta

    ep, _ = start_proxy(["--workers", "1"])
    short_session(ep)  # warm the pool
    before = connections(lab)
    for _ in range(SESSIONS):
        short_session(ep)
    delta = connections(lab) - before
    print(f"{SESSIONS} client sessions: primary Connections +{delta} (direct: +{direct_delta})")
    assert delta < SESSIONS // 4, f"primary Connections grew by {delta} for {SESSIONS} sessions"


def pool_wait_timeouts(proc, lab) -> float:
    return metric_sum(metrics(proc.admin_port), "querylens_pool_wait_timeouts_total",
                      backend=f"127.0.0.1:{lab.primary.port}")


def test_pool_exhausted_gives_1040(lab, start_proxy):
    ep, proc = start_proxy(["--workers", "1", "--pool-max-connections", "1",
                            "--pool-wait-timeout", "1"])
    assert pool_wait_timeouts(proc, lab) == 0
    holder = connect(ep)
    try:
        q(holder, "BEGIN")
        assert q(holder, "SELECT COUNT(*) FROM mysql.user") is not None  # holds the primary
        t0 = time.monotonic()
        with pytest.raises(pymysql.err.MySQLError) as ei:
            short_session(ep)
        elapsed = time.monotonic() - t0
        code, msg = ei.value.args[0], ei.value.args[1]
        print(f"exhausted pool: {code} {getattr(ei.value, 'sqlstate', None)} {msg!r} "
              f"after {elapsed:.2f}s")
        assert code == 1040, ei.value.args
        assert getattr(ei.value, "sqlstate", None) == "08004", ei.value.args
        assert "querylens" in msg and f"127.0.0.1:{lab.primary.port}" in msg, msg
        assert 0.8 <= elapsed < 15, f"ERR 1040 came after {elapsed:.2f}s, not after the 1 s wait"
        assert pool_wait_timeouts(proc, lab) == 1
        # The session holding the connection is unaffected.
        assert q(holder, f"SELECT {PRIMARY_HINT} 2") == ((2,),)
        q(holder, "COMMIT")
    finally:
        holder.close()
    # Released: another session gets the connection (it may need the wait).
    deadline = time.monotonic() + 10
    while True:
        try:
            short_session(ep)
            break
        except pymysql.err.MySQLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def app2_on_primary(lab) -> int:
    return root_query(lab, "primary",
                      "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app2'")[0][0]


def test_idle_connections_closed(lab, start_proxy):
    """Clients log in as app2 (the monitor uses app), so the primary's
    processlist shows exactly the pooled connections of these sessions."""
    ep, _ = start_proxy(["--workers", "1", "--pool-idle-timeout", "2"])
    assert app2_on_primary(lab) == 0
    for _ in range(3):
        short_session(ep, user="app2", password="app2_pass")
    pooled = app2_on_primary(lab)
    assert pooled >= 1, "no pooled connection stayed open after the sessions ended"
    deadline = time.monotonic() + 30
    while app2_on_primary(lab) > 0:
        assert time.monotonic() < deadline, \
            "idle pooled connections still open 30s after the sessions ended (2s idle timeout)"
        time.sleep(0.25)


def _session_div_precision(ep) -> int:
    conn = connect(ep)
    try:
        return q(conn, f"SELECT {PRIMARY_HINT} @@session.div_precision_increment")[0][0]
    finally:
        conn.close()


def test_pool_max_age_lets_set_global_reach_new_sessions(lab, start_proxy):
    ep, _ = start_proxy(["--workers", "1", "--pool-max-age", "1"])
    default = _session_div_precision(ep)  # leaves its connection in the pool
    try:
        root_query(lab, "primary", f"SET GLOBAL div_precision_increment = {default + 3}")
        time.sleep(1.5)  # the pooled connection is now older than --pool-max-age
        assert _session_div_precision(ep) == default + 3
    finally:
        root_query(lab, "primary", f"SET GLOBAL div_precision_increment = {default}")


def test_reused_connection_has_no_state(lab, start_proxy):
    ep, _ = start_proxy(["--workers", "1", "--pool-max-connections", "1"])
    fresh = connect(lab.primary)
    try:
        defaults = q(fresh, "SELECT @@session.time_zone, @@session.sql_mode")[0]
    finally:
        fresh.close()

    s1 = connect(ep)
    try:
        q(s1, "SET @x = 42")
        q(s1, "CREATE TEMPORARY TABLE tmp_leak (id INT)")
        q(s1, "INSERT INTO tmp_leak VALUES (1)")
        q(s1, "SET time_zone = '+05:00'")
        q(s1, "SET SESSION sql_mode = 'ANSI_QUOTES'")
        cid1, x1 = q(s1, f"SELECT {PRIMARY_HINT} CONNECTION_ID(), @x")[0]
        assert x1 == 42
    finally:
        s1.close()

    deadline = time.monotonic() + 10
    while True:  # the pool's one connection comes back once session 1 is gone
        try:
            s2 = connect(ep)
            cid2 = q(s2, f"SELECT {PRIMARY_HINT} CONNECTION_ID()")[0][0]
            break
        except pymysql.err.MySQLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        assert cid2 == cid1, f"session 2 did not reuse the pooled connection ({cid1} -> {cid2})"
        got = q(s2, f"SELECT {PRIMARY_HINT} @x, @@session.time_zone, @@session.sql_mode")[0]
        assert got == (None, *defaults), f"state leaked into the next client: {got}"
        for hint in (PRIMARY_HINT, ""):
            with pytest.raises(pymysql.err.MySQLError) as ei:
                q(s2, f"SELECT {hint} * FROM tmp_leak")
            assert ei.value.args[0] == 1146, ei.value.args
    finally:
        s2.close()
