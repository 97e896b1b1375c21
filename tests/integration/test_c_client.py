"""MariaDB Connector/C (libmariadb) through clients/qlclient.c: prepared
statements, cursors with COM_STMT_FETCH, SEND_LONG_DATA, COM_CHANGE_USER,
COM_RESET_CONNECTION, COM_PING, COM_INIT_DB, COM_STATISTICS, COM_FIELD_LIST,
COM_SET_OPTION, prepared CALL and LOAD DATA LOCAL from a client callback.
Each scenario runs directly and through the proxy; the outputs must match
line by line (lines starting with "info " excepted)."""
import difflib
import os
import subprocess

import pytest

from qlhelpers import APP_DB, APP_PASSWORD, APP_USER


def run_client(binary, ep, scenario, user=APP_USER, password=APP_PASSWORD, db=APP_DB,
               timeout=180, tls_ca=None):
    env = dict(os.environ, QL_TIMEOUT="60")
    env.pop("QL_SSL_CA", None)
    if tls_ca:
        env["QL_SSL_CA"] = tls_ca
    cp = subprocess.run([binary, ep.host, str(ep.port), user, password, db, scenario],
                        capture_output=True, timeout=timeout, env=env)
    return cp.returncode, cp.stdout.decode("utf-8", "backslashreplace"), \
        cp.stderr.decode("utf-8", "backslashreplace")


def compared(out: str) -> list[str]:
    return [l for l in out.splitlines() if not l.startswith("info ")]


def info(out: str) -> dict:
    d = {}
    for l in out.splitlines():
        if l.startswith("info status "):
            k, _, v = l[len("info status "):].partition("=")
            d[k] = v
    return d


def run_both(qlclient, direct, proxy, scenario, **kw):
    rc_a, a, err_a = run_client(qlclient, direct, scenario, **kw)
    assert rc_a == 0 and "done rc=0" in a, f"direct run failed (exit {rc_a}):\n{a}\n{err_a}"
    rc_b, b, err_b = run_client(qlclient, proxy, scenario, **kw)
    assert rc_b == 0 and "done rc=0" in b, f"run through the proxy failed (exit {rc_b}):\n{b[-5000:]}\n{err_b}"
    la, lb = compared(a), compared(b)
    if la != lb:
        diff = "\n".join(list(difflib.unified_diff(la, lb, "direct", "proxy", lineterm="", n=3))[:300])
        pytest.fail(f"qlclient {scenario}: output differs\n{diff}")
    return a, b


def test_prepared_statements(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "prepared")
    assert "execute insert: ok affected=1 insert_id=3 warnings=0" in a
    assert "execute duplicate: ERR 1062 (23000) Duplicate entry '1' for key 'PRIMARY'" in a
    assert "  prepare: ERR 1064 (42000)" in a
    assert "many[1] = 101" in a
    ib = info(b)
    if ib:  # the same statements reached the backend session
        assert int(ib["Com_stmt_close"]) >= 20


def test_send_long_data(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "longdata")
    assert "row 1\tshort\t16\talpha-beta-gamma" in a
    assert "row 3\tshort\t17\tbound-after-reset" in a   # reset discarded the long data
    sent = [l for l in a.splitlines() if l.startswith("sent big")][0].split("fnv=")[1]
    got = [l for l in a.splitlines() if l.startswith("fetched big")][0]
    assert got.endswith(f"len=20971520 fnv={sent}")


def test_cursor_fetch(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "cursor")
    assert "after execute: cursor_exists=1" in a
    assert "a fetched 20 rows, last rc=100" in a
    assert "b fetched 24 rows, last rc=100" in a
    # COM_STMT_FETCH really reached the server (prefetch 7, 4 and 1 rows).
    for out in (a, b):
        st = info(out)
        assert int(st.get("Com_stmt_fetch", "0")) > 0, out[-2000:]


def test_change_user(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "change_user")
    lines = a.splitlines()
    assert "change_user app2 rc=0" in lines
    # CURRENT_USER() changed; the user variable and the session variable were reset.
    assert "row app2@127.0.0.1\tNULL\t1\tapp" in lines
    assert "  result: ERR 1146 (42S02) Table 'app.ql_tmp_cu' doesn't exist" in lines
    assert "row app@127.0.0.1\tmysql" in lines


def test_change_user_wrong_password(qlclient, direct, proxy):
    """A failed COM_CHANGE_USER gets ERR 1045. MariaDB then keeps the session
    open as the previous user (with the server's default character set), and
    a later COM_CHANGE_USER works; the proxy must behave the same."""
    a, b = run_both(qlclient, direct, proxy, "change_user_fail")
    lines = a.splitlines()
    assert ("change_user wrong: ERR 1045 (28000) Access denied for user 'app2'@'127.0.0.1' "
            "(using password: YES)") in lines
    assert "change_user app again rc=0" in lines


def test_reset_connection(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "reset")
    lines = a.splitlines()
    assert "reset_connection rc=0" in lines
    assert "row NULL\t1\t1\t0\tapp@127.0.0.1\tapp" in lines    # @uv gone, sql_mode reset, no trx
    assert "  result: ERR 1243 (HY000) Unknown prepared statement handler (s1) given to EXECUTE" in lines
    assert "row 0" in lines                                       # the open transaction was rolled back


def test_ping_init_db_statistics_field_list(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "misc")
    lines = a.splitlines()
    assert "ping rc=0" in lines
    assert "select_db: ERR 1049 (42000) Unknown database 'ql_no_such_db'" in lines
    assert any(l.startswith("stat keys [Uptime][Threads][Questions]") for l in lines)
    assert "list_fields ql_fl: 5 fields" in lines
    assert "list_fields ql_fl a%: 2 fields" in lines
    assert "list_fields missing: ERR 1146 (42S02) Table 'app.ql_no_such_table' doesn't exist" in lines


def test_multi_results_text_and_prepared_call(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "multi")
    assert "  stmt set 2: ok affected=0" in a
    assert "row in sync after prepared CALL" in a


def test_load_data_local_from_client_callback(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "infile")
    assert "info=Records: 200000  Deleted: 0  Skipped: 0  Warnings: 0" in a


def test_login_errors(qlclient, direct, proxy):
    a, b = run_both(qlclient, direct, proxy, "auth")
    lines = a.splitlines()
    assert "connect: ERR 1045 (28000) Access denied for user 'app'@'127.0.0.1' (using password: YES)" in lines
    assert "connect: ERR 1045 (28000) Access denied for user 'ql_no_such_user'@'127.0.0.1' (using password: YES)" in lines
    assert "connect: ERR 1045 (28000) Access denied for user 'app'@'127.0.0.1' (using password: NO)" in lines
    assert "connect: ERR 1049 (42000) Unknown database 'ql_no_such_db'" in lines
    assert "connect: ERR 1044 (42000) Access denied for user 'app2'@'127.0.0.1' to database 'mysql'" in lines


@pytest.mark.parametrize("scenario", ["prepared", "cursor"])
def test_over_tls(qlclient, direct, proxy_tls, scenario):
    rc_a, a, _ = run_client(qlclient, direct, scenario)
    rc_b, b, err = run_client(qlclient, proxy_tls, scenario, tls_ca=proxy_tls.tls_ca)
    assert rc_a == 0 and rc_b == 0, b[-3000:] + err
    assert compared(a) == compared(b)
