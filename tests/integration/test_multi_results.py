"""Several result sets for one COM_QUERY: multi-statements and CALL."""
import pytest

from qlhelpers import (MYSQLDB_CLIENT, PYMYSQL_CLIENT, assert_same, mysqldb_connect,
                       pymysql_connect, run_script)

PROC = ("CREATE PROCEDURE ql_two_sets(IN n INT) BEGIN "
        "SELECT n AS n, 'first' AS which; "
        "SELECT seq, seq * n AS product, REPEAT('p', seq) AS pad FROM seq_1_to_5; "
        "END")
PROC_OUT = ("CREATE PROCEDURE ql_out_param(IN a INT, OUT b INT) BEGIN "
            "SELECT a AS a_in; SET b = a * 2; END")
# A procedure that used a cursor: MariaDB flags its result with
# SERVER_STATUS_CURSOR_EXISTS, though the rows follow as usual.
PROC_CURSOR = ("CREATE PROCEDURE ql_cursor() BEGIN "
               "DECLARE x INT; DECLARE c CURSOR FOR SELECT seq FROM seq_7_to_9; "
               "OPEN c; FETCH c INTO x; CLOSE c; "
               "SELECT 1 AS one, x; SELECT seq FROM seq_1_to_3; END")
PROC_ERR = ("CREATE PROCEDURE ql_fails() BEGIN "
            "SELECT 'before' AS step; "
            "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'procedure failed', MYSQL_ERRNO = 1644; "
            "END")

SETUP = [
    "DROP TABLE IF EXISTS ql_multi",
    "CREATE TABLE ql_multi (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))",
    "DROP PROCEDURE IF EXISTS ql_two_sets",
    PROC,
    "DROP PROCEDURE IF EXISTS ql_out_param",
    PROC_OUT,
    "DROP PROCEDURE IF EXISTS ql_fails",
    PROC_ERR,
    "DROP PROCEDURE IF EXISTS ql_cursor",
    PROC_CURSOR,
]

STATEMENTS = [
    # Three result sets: rows, an OK with affected rows and insert id, rows.
    "SELECT 1 AS a, 'x' AS b; INSERT INTO ql_multi (v) VALUES ('p'), ('q'); SELECT id, v FROM ql_multi ORDER BY id",
    # An error in the middle ends the batch.
    "SELECT 1 AS a; SELECT * FROM ql_no_such_table; SELECT 3 AS c",
    # Warnings in one of the sets.
    "SELECT 1/0 AS w; SELECT 2 AS ok",
    # Only OKs.
    "SET @m = 1; UPDATE ql_multi SET v = 'r' WHERE id = 1; DELETE FROM ql_multi WHERE id = 2",
    "SELECT @m, COUNT(*) FROM ql_multi",
    # Stored procedures: two result sets and the closing OK.
    "CALL ql_two_sets(3)",
    "CALL ql_out_param(21, @outp)",
    "SELECT @outp",
    "CALL ql_fails()",
    "SELECT 'in sync'",
    # Many small sets.
    "; ".join(f"SELECT {i} AS n{i}" for i in range(40)),
    "CALL ql_cursor()",
    "SELECT 'after the cursor procedure'",
]


def _capture(driver, ep):
    if driver == "mysqldb":
        conn = mysqldb_connect(ep, client_flag=MYSQLDB_CLIENT.MULTI_STATEMENTS)
    else:
        conn = pymysql_connect(ep, client_flag=PYMYSQL_CLIENT.MULTI_STATEMENTS)
    try:
        cur = conn.cursor()
        for s in SETUP:
            cur.execute(s)
        cur.close()
        return run_script(driver, conn, STATEMENTS)
    finally:
        conn.close()


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_multi_statements_and_procedures(direct, proxy, driver):
    a = _capture(driver, direct)
    b = _capture(driver, proxy)
    three = a[0]["sets"]
    assert len(three) == 3
    assert three[0]["rows"] == [(1, "x")]
    assert three[1]["rowcount"] == 2 and three[1]["rows"] is None
    assert len(three[2]["rows"]) == 2
    call = a[5]["sets"]
    assert len(call) == 3                        # two result sets + the closing OK
    assert call[0]["rows"] == [(3, "first")] and len(call[1]["rows"]) == 5
    assert a[8]["code"] == 1644                  # the failing procedure
    assert len(a[10]["sets"]) == 40
    assert [s["rows"] for s in a[11]["sets"][:2]] == [[(1, 7)], [(1,), (2,), (3,)]], a[11]
    assert_same(a, b, driver)


def test_mysqldb_callproc(direct, proxy):
    def run(ep):
        conn = mysqldb_connect(ep)
        try:
            cur = conn.cursor()
            cur.callproc("ql_two_sets", (4,))
            sets = []
            while True:
                sets.append((cur.description and [d[0] for d in cur.description], cur.fetchall()))
                if not cur.nextset():
                    break
            cur.close()
            cur = conn.cursor()
            cur.execute("SELECT @_ql_two_sets_0")
            return sets, cur.fetchall()
        finally:
            conn.close()

    # The procedures exist after test_multi_statements_and_procedures; create them if run alone.
    conn = mysqldb_connect(direct)
    cur = conn.cursor()
    cur.execute("DROP PROCEDURE IF EXISTS ql_two_sets")
    cur.execute(PROC)
    conn.close()
    a = run(direct)
    assert len(a[0]) == 3
    assert a == run(proxy)
