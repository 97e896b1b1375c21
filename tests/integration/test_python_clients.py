"""MySQLdb (mysqlclient on MariaDB Connector/C) and PyMySQL: the same
statements directly and through the proxy must look the same to the client."""
import MySQLdb
import pytest

import corpus
from qlhelpers import (MYSQLDB_CLIENT, PYMYSQL_CLIENT, APP2_PASSWORD, APP2_USER, assert_same,
                       mysqldb_connect, pymysql_connect, run_script)

VARIANTS = {
    "mysqldb-default": ("mysqldb", {}),
    "mysqldb-utf8mb4-found-rows": ("mysqldb", {"charset": "utf8mb4",
                                               "client_flag": MYSQLDB_CLIENT.FOUND_ROWS}),
    "mysqldb-latin1": ("mysqldb", {"charset": "latin1"}),
    "pymysql-default": ("pymysql", {}),
    "pymysql-utf8mb4-found-rows": ("pymysql", {"charset": "utf8mb4",
                                               "client_flag": PYMYSQL_CLIENT.FOUND_ROWS}),
    "pymysql-binary-prefix": ("pymysql", {"charset": "utf8mb4", "binary_prefix": True}),
}


def _connect(driver, ep, **kw):
    return mysqldb_connect(ep, **kw) if driver == "mysqldb" else pymysql_connect(ep, **kw)


def _capture(driver, ep, statements, **kw):
    conn = _connect(driver, ep, **kw)
    try:
        return run_script(driver, conn, statements)
    finally:
        conn.close()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_corpus_same_direct_and_through_proxy(direct, proxy, variant):
    driver, kw = VARIANTS[variant]
    a = _capture(driver, direct, corpus.BASIC, **kw)
    b = _capture(driver, proxy, corpus.BASIC, **kw)
    # Sanity: the capture really contains results, warnings and errors.
    assert any("sets" in r and r["sets"][0].get("rows") for r in a)
    assert any(r.get("warnings") for r in a)
    codes = {r.get("code") for r in a}
    assert {1064, 1146, 1054, 1062, 1406, 1265, 1644, 1094} <= codes, codes
    assert_same(a, b, variant)


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_connection_attributes(direct, proxy, driver):
    """What the driver reports about the connection itself."""
    def attrs(ep):
        conn = _connect(driver, ep, charset="utf8mb4")
        try:
            cur = conn.cursor()
            cur.execute("SELECT CURRENT_USER(), DATABASE(), @@character_set_client, "
                        "@@character_set_connection, @@character_set_results, @@collation_connection, "
                        "@@autocommit, @@sql_mode, @@session.max_allowed_packet")
            row = cur.fetchone()
            if driver == "mysqldb":
                extra = (conn.character_set_name(), conn.get_autocommit())
            else:
                extra = (conn.character_set_name(), conn.get_autocommit())
            return row, extra
        finally:
            conn.close()

    assert attrs(direct) == attrs(proxy)


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_ping_select_db_and_autocommit(direct, proxy, driver):
    def session(ep):
        seen = []
        conn = _connect(driver, ep)
        try:
            conn.ping()
            conn.select_db("mysql")                  # COM_INIT_DB
            cur = conn.cursor()
            cur.execute("SELECT DATABASE()")
            seen.append(cur.fetchall())
            try:
                conn.select_db("ql_no_such_db")
            except Exception as e:  # noqa: BLE001 - both drivers' error classes
                seen.append((type(e).__name__, e.args[0], e.args[1]))
            cur.execute("SELECT DATABASE()")
            seen.append(cur.fetchall())
            conn.autocommit(False)
            cur.execute("SELECT @@autocommit")
            seen.append(cur.fetchall())
            conn.rollback()
            conn.autocommit(True)
            cur.execute("SELECT @@autocommit")
            seen.append(cur.fetchall())
            conn.ping()
        finally:
            conn.close()
        return seen

    a, b = session(direct), session(proxy)
    assert a[0] == (("mysql",),)
    assert a[1][1] == 1049
    assert a == b


def test_mysqldb_stat_and_change_user(direct, proxy):
    """COM_STATISTICS and COM_CHANGE_USER through MySQLdb."""
    def session(ep):
        seen = []
        conn = mysqldb_connect(ep)
        try:
            st = conn.stat()
            seen.append([kv.split(":")[0] for kv in st.split("  ")])
            cur = conn.cursor()
            cur.execute("SET @v = 1, SESSION wait_timeout = 777")
            conn.change_user(APP2_USER, APP2_PASSWORD, "app")
            cur = conn.cursor()
            cur.execute("SELECT CURRENT_USER(), @v, @@session.wait_timeout = @@global.wait_timeout, DATABASE()")
            seen.append(cur.fetchall())
            conn.change_user("app", "app_pass", "app")
            cur = conn.cursor()
            cur.execute("SELECT CURRENT_USER()")
            seen.append(cur.fetchall())
        finally:
            conn.close()
        return seen

    a, b = session(direct), session(proxy)
    assert a[0][0] == "Uptime", a
    assert a[1] == (("app2@127.0.0.1", None, 1, "app"),)
    assert a[2] == (("app@127.0.0.1",),)
    assert a == b


def test_mysqldb_change_user_wrong_password(direct, proxy):
    """After a failed COM_CHANGE_USER (ERR 1045, SQLSTATE 28000) MariaDB keeps
    the session open as the previous user; the proxy must do the same."""
    def session(ep):
        seen = []
        conn = mysqldb_connect(ep)
        try:
            try:
                conn.change_user("app", "wrong", "app")
            except MySQLdb.OperationalError as e:
                seen.append((e.args[0], e.args[1], conn.sqlstate()))
            cur = conn.cursor()
            cur.execute("SELECT CURRENT_USER()")
            seen.append(cur.fetchall())
            conn.change_user(APP2_USER, APP2_PASSWORD, "app")
            cur = conn.cursor()
            cur.execute("SELECT CURRENT_USER()")
            seen.append(cur.fetchall())
        finally:
            conn.close()
        return seen

    a = session(direct)
    assert a[0][0] == 1045 and a[0][2] == "28000", a
    assert a[1] == (("app@127.0.0.1",),)
    assert a == session(proxy)


@pytest.mark.parametrize("user,password,database", [
    ("app", "app_pass", "no_such_db"),    # 1049: unknown database
    (APP2_USER, APP2_PASSWORD, "mysql"),  # 1044: no rights on that database
])
def test_mysqldb_change_user_refused_database(direct, proxy, user, password, database):
    """A COM_CHANGE_USER the server refuses for its database leaves the
    session usable, as the previous user in the previous database."""
    def session(ep):
        seen = []
        conn = mysqldb_connect(ep)
        try:
            cur = conn.cursor()
            cur.execute("SET @v = 1")
            try:
                conn.change_user(user, password, database)
                seen.append("changed")
            except MySQLdb.OperationalError as e:
                seen.append((e.args[0], conn.sqlstate()))
            cur = conn.cursor()
            cur.execute("SELECT CURRENT_USER(), DATABASE(), @v, @@character_set_client")
            seen.append(cur.fetchall())
            cur.execute("USE app")
            conn.select_db("app")
            conn.ping()
            cur.execute("SELECT 1")
            seen.append(cur.fetchall())
        finally:
            conn.close()
        return seen

    a = session(direct)
    assert a[0][0] in (1044, 1049), a
    assert a[1][0][:2] == ("app@127.0.0.1", "app"), a
    assert a[2] == ((1,),)
    assert a == session(proxy)
