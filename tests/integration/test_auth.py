"""Logins: wrong passwords and unknown users get ERR 1045 (SQLSTATE 28000)
worded as MySQL words it; users come from --user NAME:PASSWORD, where the
password may be env:VARNAME."""
import MySQLdb
import pymysql
import pytest

from qlhelpers import (ACCESS_DENIED_RE, RawConn, mysqldb_connect, parse_err, pymysql_connect)

CASES = [
    ("app", "wrong_password", "YES"),
    ("ql_no_such_user", "whatever", "YES"),
    ("app", "", "NO"),
    ("app2", "app_pass", "YES"),   # another user's password
]


def _login_error(driver, ep, user, password):
    try:
        if driver == "mysqldb":
            c = mysqldb_connect(ep, user=user, password=password)
        else:
            c = pymysql_connect(ep, user=user, password=password)
    except (MySQLdb.Error, pymysql.err.Error) as e:
        return e.args[0], getattr(e, "sqlstate", None), e.args[1]
    c.close()
    return None


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
@pytest.mark.parametrize("user,password,pw_flag", CASES)
def test_login_denied(direct, proxy, driver, user, password, pw_flag):
    a = _login_error(driver, direct, user, password)
    b = _login_error(driver, proxy, user, password)
    for got in (a, b):
        assert got is not None, "login unexpectedly succeeded"
        code, sqlstate, msg = got
        assert code == 1045
        if driver == "pymysql":
            assert sqlstate == "28000"
        m = ACCESS_DENIED_RE.match(msg)
        assert m, msg
        assert m.group("user") == user and m.group("pw") == pw_flag
    assert a == b


def test_login_denied_raw_packet(direct, proxy):
    """The ERR packet itself: code, SQLSTATE marker and message."""
    def attempt(ep):
        rc = RawConn(ep.host, ep.port)
        try:
            resp = rc.login("app", "wrong_password")
            err = parse_err(resp)
            # After the ERR the server closes the connection.
            try:
                rest = rc.sock.recv(1)
            except OSError:
                rest = b""
            return err, rest
        finally:
            rc.close()

    a, b = attempt(direct), attempt(proxy)
    assert a[0][0] == 1045 and a[0][1] == "28000"
    assert a[1] == b""
    assert a == b


def test_successful_logins(direct, proxy):
    def who(ep, user, password, db):
        c = pymysql_connect(ep, user=user, password=password, db=db)
        try:
            cur = c.cursor()
            cur.execute("SELECT CURRENT_USER(), DATABASE()")
            return cur.fetchone()
        finally:
            c.close()

    for user, pw, db in [("app", "app_pass", "app"), ("app2", "app2_pass", "app"),
                         ("app", "app_pass", None), ("app", "app_pass", "mysql")]:
        a = who(direct, user, pw, db)
        assert a == (f"{user}@127.0.0.1", db)
        assert who(proxy, user, pw, db) == a


def test_password_from_environment(start_proxy):
    ep, _ = start_proxy(users=["app:env:QL_TEST_APP_SECRET"], env={"QL_TEST_APP_SECRET": "app_pass"})
    c = pymysql_connect(ep)
    try:
        cur = c.cursor()
        cur.execute("SELECT CURRENT_USER()")
        assert cur.fetchone() == ("app@127.0.0.1",)
    finally:
        c.close()
    assert _login_error("pymysql", ep, "app", "env:QL_TEST_APP_SECRET")[0] == 1045


def test_user_not_configured_in_proxy(start_proxy):
    """app2 exists in MariaDB but is not one of the proxy's users: denied."""
    ep, _ = start_proxy(users=["app:app_pass"])
    err = _login_error("pymysql", ep, "app2", "app2_pass")
    assert err is not None and err[0] == 1045 and err[1] == "28000", err
    assert ACCESS_DENIED_RE.match(err[2]), err
