#!/usr/bin/python3
"""Regenerates tests/data/captures/*.txt against a running MariaDB.

Prerequisites (see tests/data/captures/README.md for the full recipe):
  * a MariaDB 10.11 server on 127.0.0.1:33201 without TLS, started with
    --local-infile=1, with a user cap/cap_pass (mysql_native_password,
    ALL PRIVILEGES ON *.* WITH GRANT OPTION);
  * python3-pymysql, python3-mysqldb, mariadb-client, libmariadb-dev, cc.

  /usr/bin/python3 tests/tools/capture_scenarios.py            # everything
  /usr/bin/python3 tests/tools/capture_scenarios.py --only ping init_db
  /usr/bin/python3 tests/tools/capture_scenarios.py --list

Every scenario first (re)creates the schema it needs over a direct, unrecorded
connection, then runs one client connection through CaptureRelay.  Nonces,
connection ids, thread ids and timestamps differ from run to run, so
regenerated files are not byte-identical to the committed ones.
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import capture_relay  # noqa: E402
import raw_mysql_client as raw  # noqa: E402

import pymysql  # noqa: E402
import MySQLdb  # noqa: E402

SERVER = ("127.0.0.1", 33201)
RELAY_PORT_BASE = 33230
SCENARIOS = []

PYMYSQL_DESC = "PyMySQL %s (pure Python, no TLS)" % pymysql.__version__
MYSQLDB_DESC = ("mysqlclient/MySQLdb %s linked against libmariadb 3.3 "
                "(Debian 12), no TLS" % ".".join(map(str, MySQLdb.version_info[:3])))
CAPCLIENT_DESC = ("tests/tools/capture_client.c built against libmariadb "
                  "(Connector/C 3.3.20, Debian 12 libmariadb3), scenario '%s', no TLS")
CLI_DESC = "mariadb CLI 15.1 (Distrib 10.11.19, Connector/C 3.3.20) %s"
RAW_DESC = ("tests/tools/raw_mysql_client.py (hand-crafted client over a raw "
            "socket, caps below)")
RAW_CRAFTED = ("every client (C) frame is hand-crafted by raw_mysql_client.py; "
               "every server (S) frame is the real server's answer")

SCHEMA = [
    "DROP DATABASE IF EXISTS capdb",
    "CREATE DATABASE capdb",
    "USE capdb",
    """CREATE TABLE t_items (
         id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
         name VARCHAR(32) NOT NULL,
         score DECIMAL(6,2) NULL,
         ratio DOUBLE NULL,
         created DATETIME NULL,
         flag TINYINT UNSIGNED NOT NULL DEFAULT 0,
         note TEXT NULL,
         doc JSON NULL,
         addr INET6 NULL
       ) DEFAULT CHARSET=utf8mb4""",
    """INSERT INTO t_items (name, score, ratio, created, flag, note, doc, addr) VALUES
         ('alpha', 12.50, 0.25, '2024-01-02 03:04:05', 1, 'first', '{"k": 1}', '::1'),
         ('beta', NULL, -1.5e10, NULL, 0, NULL, NULL, NULL),
         ('gamma', 999.99, NULL, '1999-12-31 23:59:59', 255, '', '[1,2]',
          '::ffff:192.168.0.1')""",
    """CREATE TABLE t_log (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
         msg VARCHAR(10) NOT NULL, n INT NOT NULL DEFAULT 0) DEFAULT CHARSET=utf8mb4""",
    "CREATE TABLE t_blob (id INT NOT NULL PRIMARY KEY, data MEDIUMBLOB)",
    "CREATE TABLE t_load (a INT, b VARCHAR(20)) DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE t_seq (n INT NOT NULL PRIMARY KEY)",
    "INSERT INTO t_seq VALUES (1),(2),(3),(4),(5)",
    """CREATE PROCEDURE p_two(IN x INT)
       BEGIN
         SELECT x AS a, 'first' AS b;
         SELECT n, n * x AS m FROM t_seq WHERE n <= 2 ORDER BY n;
       END""",
    """CREATE PROCEDURE p_out(IN x INT, OUT y INT)
       BEGIN
         SET y = x * 2;
       END""",
]

USERS = [
    "INSTALL SONAME 'auth_ed25519'",
    "DROP USER IF EXISTS 'cap2'@'127.0.0.1'",
    "CREATE USER 'cap2'@'127.0.0.1' IDENTIFIED VIA mysql_native_password "
    "USING PASSWORD('cap2_pass')",
    "GRANT ALL PRIVILEGES ON capdb.* TO 'cap2'@'127.0.0.1'",
    "DROP USER IF EXISTS 'cap_ed'@'127.0.0.1'",
    "CREATE USER 'cap_ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('ed_pass')",
    "GRANT ALL PRIVILEGES ON capdb.* TO 'cap_ed'@'127.0.0.1'",
]


def direct_sql(statements):
    """Runs setup SQL over an unrecorded connection."""
    conn = pymysql.connect(host=SERVER[0], port=SERVER[1], user="cap",
                           password="cap_pass", autocommit=True)
    try:
        with conn.cursor() as cur:
            for s in statements:
                try:
                    cur.execute(s)
                except pymysql.err.OperationalError as e:
                    # INSTALL SONAME of an already-installed plugin.
                    if e.args[0] != 1968:
                        raise
    finally:
        conn.close()


def scenario(name, client, description, crafted=None):
    def deco(fn):
        SCENARIOS.append((name, client, description, crafted, fn))
        return fn
    return deco


# --- helpers ----------------------------------------------------------------
def run_capture_client(binary, relay, which):
    """Runs capture_client.c's scenario, turning its STEP lines into marks."""
    proc = subprocess.Popen([binary, which, str(relay.listen_port)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    for line in proc.stdout:
        line = line.rstrip("\n")
        if line.startswith("STEP "):
            relay.mark("step: " + line[5:])
            proc.stdin.write("\n")
            proc.stdin.flush()
        else:
            print("    capture_client: " + line)
    rc = proc.wait()
    if rc != 0:
        raise RuntimeError("capture_client %s exited with %d" % (which, rc))


def run_cli(relay, args, steps, expect_rc=0):
    relay.queue_steps(steps)
    cmd = ["mariadb", "--no-defaults", "--skip-ssl", "--protocol=TCP",
           "-h127.0.0.1", "-P%d" % relay.listen_port] + args
    r = subprocess.run(cmd, capture_output=True, text=True)
    print("    cli rc=%d out=%r err=%r" % (r.returncode, r.stdout.strip(),
                                           r.stderr.strip()))
    if r.returncode != expect_rc:
        raise RuntimeError("mariadb CLI rc %d" % r.returncode)


def pymysql_connect(relay, **kw):
    args = dict(host="127.0.0.1", port=relay.listen_port, user="cap",
                password="cap_pass", autocommit=True)
    args.update(kw)
    return pymysql.connect(**args)


def mysqldb_connect(relay, **kw):
    args = dict(host="127.0.0.1", port=relay.listen_port, user="cap",
                passwd="cap_pass", autocommit=None)
    args.update(kw)
    return MySQLdb.connect(**args)


def raw_connect(relay, caps=raw.BASE_CAPS | raw.CLIENT_DEPRECATE_EOF,
                user="cap", password="cap_pass", db=None, **kw):
    relay.mark("step: handshake (crafted HandshakeResponse41)")
    c = raw.RawClient("127.0.0.1", relay.listen_port, caps=caps, **kw)
    resp = c.connect(user, password, db=db)
    if resp[0] != 0:
        raise RuntimeError("raw connect failed: %r" % resp)
    return c


def pymysql_steps(relay, conn, items):
    """items: list of (step text, sql) run with a PyMySQL cursor; errors are
    expected for some and only printed."""
    with conn.cursor() as cur:
        for text, sql in items:
            relay.mark("step: " + text)
            try:
                cur.execute(sql)
                cur.fetchall()
                while cur.nextset():
                    cur.fetchall()
            except pymysql.err.MySQLError as e:
                print("    expected error: %s" % (e,))


# --- scenarios -----------------------------------------------------------------
@scenario("handshake_native_ok", CAPCLIENT_DESC % "connect",
          "greeting, HandshakeResponse41 with mysql_native_password "
          "(libmariadb: extended MariaDB caps, connect attrs), OK, COM_QUIT")
def sc_handshake_native_ok(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "connect")


@scenario("handshake_native_ok_pymysql", PYMYSQL_DESC +
          ", pymysql.connect(database='capdb', autocommit=True)",
          "greeting, HandshakeResponse41 with CONNECT_WITH_DB and no MariaDB "
          "extended caps, OK, COM_QUIT")
def sc_handshake_native_ok_pymysql(relay, ctx):
    relay.mark("step: handshake")
    conn = pymysql_connect(relay, database="capdb")
    relay.mark("step: COM_QUIT")
    conn.close()


@scenario("handshake_wrong_password", PYMYSQL_DESC +
          ", pymysql.connect(user='cap', password='wrong')",
          "mysql_native_password with a wrong password: ERR 1045 (28000), "
          "then the server closes the connection")
def sc_handshake_wrong_password(relay, ctx):
    relay.mark("step: handshake with a wrong password")
    try:
        pymysql_connect(relay, password="wrong")
    except pymysql.err.OperationalError as e:
        print("    expected error: %s" % (e,))
    else:
        raise RuntimeError("login unexpectedly succeeded")


@scenario("handshake_auth_switch", CLI_DESC %
          "as `mariadb --no-defaults --skip-ssl --protocol=TCP -ucap_ed "
          "-ped_pass -e 'SELECT CURRENT_USER()'`",
          "user cap_ed is IDENTIFIED VIA ed25519; client starts with "
          "mysql_native_password, server sends AuthSwitchRequest "
          "(0xfe client_ed25519 + 32-byte nonce), client sends a 64-byte "
          "signature, OK; one query; COM_QUIT")
def sc_handshake_auth_switch(relay, ctx):
    relay.mark("step: handshake (auth switch to client_ed25519)")
    run_cli(relay, ["-ucap_ed", "-ped_pass", "-e", "SELECT CURRENT_USER()"],
            ["SELECT CURRENT_USER()", "COM_QUIT"])


@scenario("handshake_auth_switch_client_plugin", CLI_DESC %
          "as `mariadb --no-defaults --skip-ssl --protocol=TCP "
          "--default-auth=client_ed25519 -ucap -pcap_pass -e 'SELECT 1'`",
          "client starts with plugin client_ed25519 for a "
          "mysql_native_password user: server sends AuthSwitchRequest "
          "(0xfe mysql_native_password + 20-byte nonce + NUL), client "
          "answers with the 20-byte scramble, OK; one query; COM_QUIT")
def sc_handshake_auth_switch_client_plugin(relay, ctx):
    relay.mark("step: handshake (client proposes client_ed25519)")
    run_cli(relay, ["--default-auth=client_ed25519", "-ucap", "-pcap_pass",
                    "-e", "SELECT 1"], ["SELECT 1", "COM_QUIT"])


@scenario("query_ok_insert", PYMYSQL_DESC + ", pymysql.connect(database='capdb', autocommit=True)",
          "OK packets: INSERT with affected rows and last insert id (1-, 3- "
          "and 4-byte lenenc ids), multi-row INSERT and UPDATE with info "
          "text, statements with warnings")
def sc_query_ok_insert(relay, ctx):
    direct_sql(["TRUNCATE TABLE capdb.t_log"])
    conn = pymysql_connect(relay, database="capdb")
    pymysql_steps(relay, conn, [
        ("INSERT one row: affected 1, last_insert_id 1",
         "INSERT INTO t_log (msg) VALUES ('one')"),
        ("multi-row INSERT: affected 3, last_insert_id 2 (first of the batch), "
         "info 'Records: 3  Duplicates: 0  Warnings: 0'",
         "INSERT INTO t_log (msg, n) VALUES ('two', 2), ('three', 3), ('four', 4)"),
        ("UPDATE: affected 3, info 'Rows matched: 3  Changed: 3  Warnings: 0'",
         "UPDATE t_log SET n = n + 10 WHERE id <= 3"),
        ("UPDATE matching rows without changing them: affected 0, "
         "info 'Rows matched: 1  Changed: 0  Warnings: 0'",
         "UPDATE t_log SET n = n WHERE id = 1"),
        ("INSERT with explicit id 300: last_insert_id 300 (lenenc 0xfc)",
         "INSERT INTO t_log (id, msg) VALUES (300, 'big')"),
        ("INSERT with explicit id 70000 (lenenc 0xfd)",
         "INSERT INTO t_log (id, msg) VALUES (70000, 'bigger')"),
        ("INSERT IGNORE of a duplicate key: affected 0, 1 warning",
         "INSERT IGNORE INTO t_log (id, msg) VALUES (1, 'dup')"),
        ("DROP TABLE IF EXISTS of a missing table: OK with 1 warning (Note 1051)",
         "DROP TABLE IF EXISTS no_such_table"),
        ("DELETE: affected 2",
         "DELETE FROM t_log WHERE id >= 300"),
    ])
    relay.mark("step: COM_QUIT")
    conn.close()


@scenario("query_error", PYMYSQL_DESC + ", pymysql.connect(database='capdb', autocommit=True)",
          "ERR packets with the '#' SQLSTATE marker: syntax error 1064, "
          "unknown table 1146, duplicate key 1062, and an error raised after "
          "column definitions and rows were already sent")
def sc_query_error(relay, ctx):
    conn = pymysql_connect(relay, database="capdb")
    pymysql_steps(relay, conn, [
        ("syntax error: ERR 1064 #42000", "SELEC 1"),
        ("unknown table: ERR 1146 #42S02", "SELECT * FROM no_such_table"),
        ("unknown column: ERR 1054 #42S22", "SELECT nope FROM t_items"),
        ("duplicate key: ERR 1062 #23000",
         "INSERT INTO t_seq (n) VALUES (1)"),
        ("error in the middle of a result set: column count, column "
         "definitions, EOF, rows, then ERR 1242 #21000 instead of the final EOF",
         "SELECT n, IF(n = 3, (SELECT n FROM t_seq), n) AS v FROM t_seq ORDER BY n"),
    ])
    relay.mark("step: COM_QUIT")
    conn.close()


RESULTSET_QUERIES = [
    ("SELECT of 9 columns of varied types, 0 rows",
     "SELECT id, name, score, ratio, created, flag, note, doc, addr "
     "FROM t_items WHERE 1 = 0"),
    ("SELECT of 9 columns of varied types, 3 rows with NULLs",
     "SELECT id, name, score, ratio, created, flag, note, doc, addr "
     "FROM t_items ORDER BY id"),
    ("SELECT of expressions: NULL literal, BIGINT, negative DECIMAL, "
     "empty string, binary string, DATE, TIME(3)",
     "SELECT NULL AS n, 18446744073709551615 AS big, -1.5 AS d, '' AS e, "
     "X'00ff' AS bin, DATE '2024-02-29' AS dt, CAST('-01:02:03.456' AS TIME(3)) AS t"),
]


@scenario("resultset_text_eof", PYMYSQL_DESC + ", pymysql.connect(database='capdb', autocommit=True)",
          "text-protocol result sets without CLIENT_DEPRECATE_EOF and without "
          "MariaDB extended caps: column count, column definitions, EOF, rows, EOF")
def sc_resultset_text_eof(relay, ctx):
    conn = pymysql_connect(relay, database="capdb")
    pymysql_steps(relay, conn, RESULTSET_QUERIES)
    relay.mark("step: COM_QUIT")
    conn.close()


@scenario("resultset_text_eof_mariadb_ext", MYSQLDB_DESC +
          ", MySQLdb.connect(db='capdb', autocommit=None)",
          "same queries as resultset_text_eof from a libmariadb client that "
          "sets MARIADB_CLIENT_EXTENDED_METADATA and CACHE_METADATA: the column "
          "count packet carries an extra 'metadata follows' byte and every "
          "column definition an extra extended-metadata string")
def sc_resultset_text_eof_mariadb_ext(relay, ctx):
    relay.mark("step: handshake")
    conn = mysqldb_connect(relay, db="capdb")
    cur = conn.cursor()
    for text, sql in RESULTSET_QUERIES:
        relay.mark("step: " + text)
        cur.execute(sql)
        cur.fetchall()
    relay.mark("step: COM_QUIT")
    conn.close()


@scenario("resultset_text_deprecate_eof", RAW_DESC,
          "same queries as resultset_text_eof with CLIENT_DEPRECATE_EOF: no EOF "
          "after the column definitions, result set ends with an OK packet "
          "whose header byte is 0xfe",
          crafted=RAW_CRAFTED)
def sc_resultset_text_deprecate_eof(relay, ctx):
    c = raw_connect(relay, db="capdb")
    for text, sql in RESULTSET_QUERIES:
        relay.mark("step: " + text)
        c.query(sql)
    relay.mark("step: COM_QUIT")
    c.quit()


MULTI_SQL = ("SELECT 1; SELECT 2, 3; UPDATE t_log SET n = n + 1 WHERE id = 1; "
             "SELECT 4")
MULTI_ERR_SQL = "SELECT 1; SELECT * FROM no_such_table; SELECT 3"


@scenario("multi_statement", PYMYSQL_DESC +
          ", pymysql.connect(database='capdb', autocommit=True, "
          "client_flag=CLIENT.MULTI_STATEMENTS)",
          "COM_QUERY with 4 statements: every result but the last carries "
          "SERVER_MORE_RESULTS_EXISTS (0x0008) in its final EOF/OK; then a "
          "multi-statement whose second statement fails (ERR ends the chain)")
def sc_multi_statement(relay, ctx):
    direct_sql(["TRUNCATE TABLE capdb.t_log",
                "INSERT INTO capdb.t_log (msg) VALUES ('m')"])
    from pymysql.constants import CLIENT
    conn = pymysql_connect(relay, database="capdb",
                           client_flag=CLIENT.MULTI_STATEMENTS)
    pymysql_steps(relay, conn, [
        ("4 statements: two result sets, an OK, a result set", MULTI_SQL),
        ("3 statements, the second one fails: result set then ERR 1146",
         MULTI_ERR_SQL),
    ])
    relay.mark("step: COM_QUIT")
    conn.close()


@scenario("multi_statement_deprecate_eof", RAW_DESC,
          "same as multi_statement with CLIENT_DEPRECATE_EOF: the 0xfe-headed "
          "OK terminators carry SERVER_MORE_RESULTS_EXISTS",
          crafted=RAW_CRAFTED)
def sc_multi_statement_deprecate_eof(relay, ctx):
    direct_sql(["TRUNCATE TABLE capdb.t_log",
                "INSERT INTO capdb.t_log (msg) VALUES ('m')"])
    c = raw_connect(relay, db="capdb")
    relay.mark("step: 4 statements: two result sets, an OK, a result set")
    c.query(MULTI_SQL)
    relay.mark("step: 3 statements, the second one fails: result set then ERR 1146")
    c.query(MULTI_ERR_SQL)
    relay.mark("step: COM_QUIT")
    c.quit()


@scenario("call_procedure", PYMYSQL_DESC + ", pymysql.connect(database='capdb', autocommit=True)",
          "CALL p_two(7): two result sets (each ending with MORE_RESULTS_EXISTS) "
          "followed by the final OK of the CALL itself")
def sc_call_procedure(relay, ctx):
    conn = pymysql_connect(relay, database="capdb")
    pymysql_steps(relay, conn, [("CALL p_two(7)", "CALL p_two(7)")])
    relay.mark("step: COM_QUIT")
    conn.close()


@scenario("call_procedure_deprecate_eof", RAW_DESC,
          "CALL p_two(7) with CLIENT_DEPRECATE_EOF", crafted=RAW_CRAFTED)
def sc_call_procedure_deprecate_eof(relay, ctx):
    c = raw_connect(relay, db="capdb")
    relay.mark("step: CALL p_two(7)")
    c.query("CALL p_two(7)")
    relay.mark("step: COM_QUIT")
    c.quit()


@scenario("prepare_execute", CAPCLIENT_DESC % "prepare_execute",
          "COM_STMT_PREPARE (params+columns, INSERT without columns, SELECT "
          "without params, an error), COM_STMT_EXECUTE with binary result sets, "
          "COM_STMT_SEND_LONG_DATA, COM_STMT_RESET, COM_STMT_CLOSE; no "
          "CLIENT_DEPRECATE_EOF; libmariadb sets MARIADB_CLIENT_CACHE_METADATA "
          "so each execute answer is column count + metadata-follows byte 0, "
          "no column definitions, EOF, binary rows, EOF")
def sc_prepare_execute(relay, ctx):
    direct_sql(["DELETE FROM capdb.t_blob"])
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "prepare_execute")


def _long(v):
    return raw.lenenc_str(v)


@scenario("prepare_execute_deprecate_eof", RAW_DESC,
          "same steps as prepare_execute with CLIENT_DEPRECATE_EOF and no "
          "MariaDB extended caps: no EOF after parameter/column definitions in "
          "COM_STMT_PREPARE_OK, binary result sets end with a 0xfe OK",
          crafted=RAW_CRAFTED)
def sc_prepare_execute_deprecate_eof(relay, ctx):
    direct_sql(["DELETE FROM capdb.t_blob"])
    c = raw_connect(relay, db="capdb")
    relay.mark("step: COM_STMT_PREPARE with 2 params and 6 columns")
    pkts, sid = c.prepare("SELECT id, name, score, ratio, created, note FROM t_items "
                          "WHERE id > ? AND name <> ? ORDER BY id")
    relay.mark("step: COM_STMT_EXECUTE (id > 0, name <> 'beta') with types: "
               "binary result set, 2 rows")
    c.send_command(raw.COM_STMT_EXECUTE, raw.encode_execute(sid, [
        (raw.MYSQL_TYPE_LONG, False, (0).to_bytes(4, "little")),
        (raw.MYSQL_TYPE_VAR_STRING, False, _long(b"beta"))]))
    c.read_result()
    relay.mark("step: COM_STMT_EXECUTE again without re-sending types "
               "(new_params_bound_flag = 0): id > 1, name <> 'x'")
    c.send_command(raw.COM_STMT_EXECUTE, raw.encode_execute(sid, [
        (raw.MYSQL_TYPE_LONG, False, (1).to_bytes(4, "little")),
        (raw.MYSQL_TYPE_VAR_STRING, False, _long(b"x"))], send_types=False))
    c.read_result()
    relay.mark("step: COM_STMT_EXECUTE with a NULL parameter (NULL bitmap): 0 rows")
    c.send_command(raw.COM_STMT_EXECUTE, raw.encode_execute(sid, [
        (raw.MYSQL_TYPE_NULL, False, None),
        (raw.MYSQL_TYPE_VAR_STRING, False, _long(b"x"))]))
    c.read_result()
    relay.mark("step: COM_STMT_CLOSE (no response)")
    c.send_command(raw.COM_STMT_CLOSE, sid.to_bytes(4, "little"))

    relay.mark("step: COM_STMT_PREPARE of an INSERT: 2 params, no columns")
    pkts, sid = c.prepare("INSERT INTO t_blob (id, data) VALUES (?, ?)")
    relay.mark("step: COM_STMT_SEND_LONG_DATA param 1, chunk 1 (no response)")
    c.send_command(raw.COM_STMT_SEND_LONG_DATA,
                   sid.to_bytes(4, "little") + (1).to_bytes(2, "little") + b"hello, ")
    relay.mark("step: COM_STMT_SEND_LONG_DATA param 1, chunk 2 (no response)")
    c.send_command(raw.COM_STMT_SEND_LONG_DATA,
                   sid.to_bytes(4, "little") + (1).to_bytes(2, "little") + b"long data")
    relay.mark("step: COM_STMT_EXECUTE of the INSERT: OK, 1 row affected")
    c.send_command(raw.COM_STMT_EXECUTE, raw.encode_execute(sid, [
        (raw.MYSQL_TYPE_LONG, False, (42).to_bytes(4, "little")),
        (raw.MYSQL_TYPE_BLOB, False, "long")]))
    c.read_result()
    relay.mark("step: COM_STMT_SEND_LONG_DATA param 1 again, then COM_STMT_RESET discards it")
    c.send_command(raw.COM_STMT_SEND_LONG_DATA,
                   sid.to_bytes(4, "little") + (1).to_bytes(2, "little") + b"discarded")
    relay.mark("step: COM_STMT_RESET: OK")
    c.send_command(raw.COM_STMT_RESET, sid.to_bytes(4, "little"))
    c.read_packet()
    relay.mark("step: COM_STMT_CLOSE of the INSERT statement")
    c.send_command(raw.COM_STMT_CLOSE, sid.to_bytes(4, "little"))

    relay.mark("step: COM_STMT_PREPARE with no params and 4 columns (INT, string, NULL, DATETIME(3))")
    pkts, sid = c.prepare("SELECT 1 AS one, 'abc' AS s, NULL AS nothing, "
                          "CAST('2024-02-29 12:34:56.789' AS DATETIME(3)) AS ts")
    relay.mark("step: COM_STMT_EXECUTE with no params: 1 row")
    c.send_command(raw.COM_STMT_EXECUTE, raw.encode_execute(sid, []))
    c.read_result()
    relay.mark("step: COM_STMT_CLOSE")
    c.send_command(raw.COM_STMT_CLOSE, sid.to_bytes(4, "little"))

    relay.mark("step: COM_STMT_PREPARE error: unknown column")
    c.prepare("SELECT nope FROM t_items")
    relay.mark("step: COM_STMT_EXECUTE of an unknown statement id: ERR 1243")
    c.send_command(raw.COM_STMT_EXECUTE, raw.encode_execute(9999, []))
    c.read_result()
    if c.has_pending_data():
        print("    WARNING: unexpected extra server data")
    relay.mark("step: COM_QUIT")
    c.quit()


@scenario("call_procedure_prepared", CAPCLIENT_DESC % "call_prepared",
          "COM_STMT_PREPARE/EXECUTE of CALL p_two(?): two binary result sets "
          "with SERVER_MORE_RESULTS_EXISTS and the final OK; CALL p_out(?, ?): "
          "the OUT parameter comes back as a one-row binary result set flagged "
          "SERVER_PS_OUT_PARAMS (needs CLIENT_PS_MULTI_RESULTS)")
def sc_call_procedure_prepared(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "call_prepared")


@scenario("cursor_fetch", CAPCLIENT_DESC % "cursor_fetch",
          "COM_STMT_EXECUTE with CURSOR_TYPE_READ_ONLY (metadata + EOF with "
          "SERVER_STATUS_CURSOR_EXISTS, no rows), COM_STMT_FETCH of 2 rows "
          "at a time, last fetch ends with SERVER_STATUS_LAST_ROW_SENT")
def sc_cursor_fetch(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "cursor_fetch")


@scenario("cursor_fetch_deprecate_eof", RAW_DESC,
          "cursor COM_STMT_EXECUTE + COM_STMT_FETCH with CLIENT_DEPRECATE_EOF: "
          "the cursor metadata is still terminated (by a 0xfe OK with "
          "SERVER_STATUS_CURSOR_EXISTS), each fetch ends with a 0xfe OK, a fetch "
          "after LAST_ROW_SENT gets ERR 1421",
          crafted=RAW_CRAFTED)
def sc_cursor_fetch_deprecate_eof(relay, ctx):
    c = raw_connect(relay, db="capdb")
    relay.mark("step: COM_STMT_PREPARE SELECT n, n*10 FROM t_seq (5 rows)")
    pkts, sid = c.prepare("SELECT n, n * 10 AS tens FROM t_seq ORDER BY n")
    relay.mark("step: COM_STMT_EXECUTE flags=CURSOR_TYPE_READ_ONLY")
    c.send_command(raw.COM_STMT_EXECUTE, raw.encode_execute(sid, [], flags=1))
    got = c.read_until_idle()
    print("    execute answered with %d packets" % len(got))
    for i in range(3):
        relay.mark("step: COM_STMT_FETCH 2 rows")
        c.send_command(raw.COM_STMT_FETCH,
                       sid.to_bytes(4, "little") + (2).to_bytes(4, "little"))
        got = c.read_until_idle()
        print("    fetch answered with %d packets" % len(got))
    relay.mark("step: COM_STMT_FETCH after the last row was sent")
    c.send_command(raw.COM_STMT_FETCH,
                   sid.to_bytes(4, "little") + (2).to_bytes(4, "little"))
    got = c.read_until_idle()
    print("    fetch answered with %d packets" % len(got))
    relay.mark("step: COM_STMT_CLOSE")
    c.send_command(raw.COM_STMT_CLOSE, sid.to_bytes(4, "little"))
    relay.mark("step: COM_QUIT")
    c.quit()


@scenario("field_list", CAPCLIENT_DESC % "field_list",
          "COM_FIELD_LIST (mysql_list_fields) of a table, with a wildcard, and "
          "of an unknown table; answer is column definitions (with default "
          "values) then EOF")
def sc_field_list(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "field_list")


@scenario("field_list_deprecate_eof", RAW_DESC,
          "COM_FIELD_LIST with CLIENT_DEPRECATE_EOF: the column list ends with "
          "a 7-byte 0xfe OK instead of the 5-byte EOF", crafted=RAW_CRAFTED)
def sc_field_list_deprecate_eof(relay, ctx):
    c = raw_connect(relay, db="capdb")
    relay.mark("step: COM_FIELD_LIST t_items (all columns)")
    c.send_command(raw.COM_FIELD_LIST, b"t_items\0")
    c.read_until_idle()
    relay.mark("step: COM_FIELD_LIST t_items with wildcard 'n%'")
    c.send_command(raw.COM_FIELD_LIST, b"t_items\0n%")
    c.read_until_idle()
    relay.mark("step: COM_FIELD_LIST of an unknown table: ERR 1146")
    c.send_command(raw.COM_FIELD_LIST, b"no_such_table\0")
    c.read_until_idle()
    relay.mark("step: COM_QUIT")
    c.quit()


@scenario("statistics", CAPCLIENT_DESC % "statistics",
          "COM_STATISTICS: the answer is a bare human-readable string")
def sc_statistics(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "statistics")


@scenario("ping", CAPCLIENT_DESC % "ping", "COM_PING: OK")
def sc_ping(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "ping")


@scenario("init_db", CAPCLIENT_DESC % "init_db",
          "COM_INIT_DB of an existing database (OK) and of a missing one (ERR 1049)")
def sc_init_db(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "init_db")


@scenario("set_option", CAPCLIENT_DESC % "set_option",
          "COM_SET_OPTION multi-statements off (answer is an EOF packet), a "
          "rejected multi-statement, COM_SET_OPTION on")
def sc_set_option(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "set_option")


@scenario("set_option_deprecate_eof", RAW_DESC,
          "COM_SET_OPTION with CLIENT_DEPRECATE_EOF: answered with a 7-byte 0xfe "
          "OK instead of EOF; an invalid option gets ERR 1047 #08S01",
          crafted=RAW_CRAFTED)
def sc_set_option_deprecate_eof(relay, ctx):
    c = raw_connect(relay)
    relay.mark("step: COM_SET_OPTION MYSQL_OPTION_MULTI_STATEMENTS_OFF (1)")
    c.send_command(raw.COM_SET_OPTION, (1).to_bytes(2, "little"))
    c.read_until_idle()
    relay.mark("step: COM_SET_OPTION MYSQL_OPTION_MULTI_STATEMENTS_ON (0)")
    c.send_command(raw.COM_SET_OPTION, (0).to_bytes(2, "little"))
    c.read_until_idle()
    relay.mark("step: COM_SET_OPTION with an invalid option (7): ERR")
    c.send_command(raw.COM_SET_OPTION, (7).to_bytes(2, "little"))
    c.read_until_idle()
    relay.mark("step: COM_QUIT")
    c.quit()


@scenario("change_user", CAPCLIENT_DESC % "change_user",
          "COM_CHANGE_USER to a mysql_native_password user (the server still "
          "answers with an AuthSwitchRequest repeating the greeting nonce, then "
          "OK), to an ed25519 user (AuthSwitchRequest client_ed25519), and with a "
          "wrong password (ERR 1045)")
def sc_change_user(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "change_user")


@scenario("reset_connection", CAPCLIENT_DESC % "reset_connection",
          "COM_RESET_CONNECTION: a plain OK (no session-state data although the "
          "client sets SESSION_TRACK); user variables and autocommit are reset")
def sc_reset_connection(relay, ctx):
    relay.mark("step: handshake")
    run_capture_client(ctx.binary, relay, "reset_connection")


@scenario("local_infile", PYMYSQL_DESC +
          ", pymysql.connect(database='capdb', autocommit=True, local_infile=True)",
          "LOAD DATA LOCAL INFILE: server answers the COM_QUERY with 0xfb + file "
          "name, client sends the file contents then an empty packet, server "
          "sends OK with 'Records: 3  Deleted: 0  Skipped: 0  Warnings: 0'")
def sc_local_infile(relay, ctx):
    direct_sql(["TRUNCATE TABLE capdb.t_load"])
    path = os.path.join(ctx.tmpdir, "load.csv")
    with open(path, "w") as f:
        f.write("1,one\n2,two\n3,three\n")
    conn = pymysql_connect(relay, database="capdb", local_infile=True)
    pymysql_steps(relay, conn, [
        ("LOAD DATA LOCAL INFILE of a 3-line CSV",
         "LOAD DATA LOCAL INFILE '%s' INTO TABLE t_load "
         "FIELDS TERMINATED BY ','" % path)])
    relay.mark("step: COM_QUIT")
    conn.close()


@scenario("local_infile_crafted", RAW_DESC,
          "LOAD DATA LOCAL INFILE from the crafted client: contents split over "
          "two packets, then an empty packet; then a refused transfer where the "
          "client sends only the empty packet", crafted=RAW_CRAFTED)
def sc_local_infile_crafted(relay, ctx):
    direct_sql(["TRUNCATE TABLE capdb.t_load"])
    c = raw_connect(relay, db="capdb")
    relay.mark("step: LOAD DATA LOCAL INFILE; contents in 64-byte packets")
    data = b"".join(b"%d,row number %d\n" % (i, i) for i in range(1, 6))
    c.query("LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE t_load "
            "FIELDS TERMINATED BY ','", local_infile_data=data)
    relay.mark("step: LOAD DATA LOCAL INFILE answered with an empty file")
    c.query("LOAD DATA LOCAL INFILE 'missing.csv' INTO TABLE t_load "
            "FIELDS TERMINATED BY ','", local_infile_data=b"")
    relay.mark("step: COM_QUIT")
    c.quit()


@scenario("session_track", MYSQLDB_DESC +
          " (libmariadb sets CLIENT_SESSION_TRACK), MySQLdb.connect(autocommit=None)",
          "OK packets with SERVER_SESSION_STATE_CHANGED and session-state "
          "info: system variables, schema, state change, transaction "
          "characteristics and state")
def sc_session_track(relay, ctx):
    relay.mark("step: handshake")
    conn = mysqldb_connect(relay)
    cur = conn.cursor()
    for sql in [
        "SET SESSION session_track_system_variables='*'",
        "SET SESSION session_track_state_change=ON",
        "SET SESSION session_track_transaction_info='CHARACTERISTICS'",
        "SET NAMES utf8mb4",
        "USE capdb",
        "SET autocommit=0",
        "SET @@session.sql_mode='ANSI'",
        "BEGIN",
        "SELECT COUNT(*) FROM t_items",
        "INSERT INTO t_log (msg) VALUES ('trx')",
        "COMMIT",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "START TRANSACTION READ ONLY",
        "ROLLBACK",
        "SET @user_var = 1",
    ]:
        relay.mark("step: " + sql)
        cur.execute(sql)
        cur.fetchall()
    relay.mark("step: COM_QUIT")
    conn.close()


# --- main ----------------------------------------------------------------------
class Ctx:
    pass


def build_capture_client(tmpdir):
    out = os.path.join(tmpdir, "capture_client")
    flags = subprocess.run(["mariadb_config", "--cflags", "--libs"],
                           capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O0", "-Wall", "-o", out,
                    os.path.join(HERE, "capture_client.c")] + flags, check=True)
    return out


def main():
    global SERVER
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.join(HERE, "..", "data", "captures"))
    ap.add_argument("--server-port", type=int, default=SERVER[1])
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--no-setup", action="store_true",
                    help="do not recreate capdb / cap2 / cap_ed first")
    args = ap.parse_args()
    SERVER = ("127.0.0.1", args.server_port)
    if args.list:
        for name, _, desc, _, _ in SCENARIOS:
            print("%-36s %s" % (name, desc))
        return 0
    ctx = Ctx()
    ctx.tmpdir = tempfile.mkdtemp(prefix="capture-")
    ctx.binary = build_capture_client(ctx.tmpdir)
    if not args.no_setup:
        direct_sql(USERS + SCHEMA)
    failed = []
    for i, (name, client, desc, crafted, fn) in enumerate(SCENARIOS):
        if args.only and name not in args.only:
            continue
        print("== %s" % name)
        out = os.path.join(args.out_dir, name + ".txt")
        relay = capture_relay.CaptureRelay(RELAY_PORT_BASE + i, SERVER, out,
                                           client=client, scenario=desc,
                                           crafted=crafted)
        relay.start()
        try:
            fn(relay, ctx)
        except Exception as e:  # keep going, report at the end
            print("    FAILED: %r" % (e,))
            failed.append(name)
        relay.close()
        for e in relay.errors:
            print("    relay warning: " + e)
            if name not in failed:
                failed.append(name)
        print("    wrote %s (%d bytes)" % (os.path.relpath(out), os.path.getsize(out)))
    if failed:
        print("FAILED: " + " ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
