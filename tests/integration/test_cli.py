"""The mariadb command-line client: same output directly and through the proxy."""
import re

import pytest

import corpus
from qlhelpers import ACCESS_DENIED_RE, cli, normalize_cli


def script(statements):
    parts = []
    for s in statements:
        if ";" in s:  # compound statement: needs another delimiter
            parts.append(f"DELIMITER //\n{s}//\nDELIMITER ;")
        elif s.upper().startswith("USE "):
            parts.append(s + ";")  # the client's own 'use' command: COM_INIT_DB
        else:
            parts.append(s + ";")
    return "\n".join(parts) + "\n"


VERBOSE = ["--batch", "--raw", "--force", "-vvv", "--column-type-info", "--show-warnings"]


def run_both(direct, proxy, *args, **kw):
    a = cli(direct, *args, **kw)
    b = cli(proxy, *args, **kw)
    return a, b


# MariaDB's extended type info (MARIADB_CLIENT_EXTENDED_METADATA), shown by the
# CLI as e.g. "Type:       BLOB (format=json)" or "STRING (type=inet6)".
_EXT_TYPE_RE = re.compile(r"^(Type:\s+\S+) \((?:format|type)=[^)]*\)$", re.M)


def without_extended_type_info(text: str) -> str:
    return _EXT_TYPE_RE.sub(r"\1", text)


def assert_same_cli(a, b, ignore_extended_type_info=False):
    sa, sb = normalize_cli(a.stdout), normalize_cli(b.stdout)
    if ignore_extended_type_info:
        sa, sb = without_extended_type_info(sa), without_extended_type_info(sb)
    assert sa == sb
    assert a.stderr == b.stderr
    assert a.returncode == b.returncode


def test_cli_verbose_script(direct, proxy):
    """Column metadata (--column-type-info), affected rows, info lines,
    warnings and errors for the whole corpus."""
    a, b = run_both(direct, proxy, *VERBOSE, stdin=script(corpus.BASIC))
    assert "Query OK, 3 rows affected" in a.stdout
    assert "Records: 3  Duplicates: 0  Warnings: 0" in a.stdout
    assert "Rows matched: 3  Changed: 0  Warnings: 0" in a.stdout
    assert "Warning (Code 1365): Division by 0" in a.stdout
    assert "Type:       NEWDECIMAL" in a.stdout
    assert "ERROR 1064 (42000) at line" in a.stderr
    assert "ERROR 1644 (45000) at line" in a.stderr
    # Extended type info is checked on its own below.
    assert_same_cli(a, b, ignore_extended_type_info=True)


def test_cli_extended_type_info(direct, proxy):
    """MariaDB sends extended metadata (data type name, format) for JSON,
    INET6 and UUID columns to clients that ask for it; the CLI shows it."""
    sql = ("DROP TABLE IF EXISTS ql_ext; "
           "CREATE TABLE ql_ext (js JSON, ip INET6, uu UUID, g POINT); "
           "INSERT INTO ql_ext VALUES ('{\\\"a\\\": 1}', '::1', '123e4567-e89b-12d3-a456-426614174000', POINT(1, 2)); "
           "SELECT js, ip, uu, ST_AsText(g), g FROM ql_ext; DROP TABLE ql_ext")
    a, b = run_both(direct, proxy, *VERBOSE, sql=sql)
    assert "BLOB (format=json)" in a.stdout and "(type=inet6)" in a.stdout, a.stdout
    assert_same_cli(a, b)


def test_cli_batch_raw(direct, proxy):
    sql = ("SELECT seq, CONCAT('r', seq), seq * 1.5, IF(seq % 3 = 0, NULL, 'x\\ty') "
           "FROM seq_1_to_300; SELECT 'caf\u00e9' AS c, x'00FF' AS b; SELECT * FROM ql_no_such_table")
    a, b = run_both(direct, proxy, "--batch", "--raw", sql=sql)
    assert a.stdout.startswith("seq\tCONCAT('r', seq)")
    assert "ERROR 1146 (42S02)" in a.stderr
    assert a.returncode == 1
    assert_same_cli(a, b)


def test_cli_default_charset_utf8mb4(direct, proxy):
    sql = ("SELECT @@character_set_client, @@character_set_results, @@collation_connection, "
           "'\u00e9\u2603\U0001F600' AS s, HEX('\U0001F600')")
    a, b = run_both(direct, proxy, "--batch", "--raw", "--default-character-set=utf8mb4", sql=sql)
    assert "utf8mb4" in a.stdout and "F09F9880" in a.stdout
    assert_same_cli(a, b)


STATUS_KEYS = ("Current database", "Current user", "Server characterset", "Db     characterset",
               "Client characterset", "Conn.  characterset", "Protocol version")


def status_lines(out: str) -> dict:
    d = {}
    for line in out.splitlines():
        k, sep, v = line.partition(":")
        if sep and k.strip() in {s.strip() for s in STATUS_KEYS}:
            d[k.strip()] = v.strip()
        if line.startswith("SSL:"):
            d["SSL"] = v.strip()
    return d


def test_cli_status(direct, proxy):
    a, b = run_both(direct, proxy, "--skip-ssl", sql="status")
    assert a.returncode == 0, a.stderr
    sa, sb = status_lines(a.stdout), status_lines(b.stdout)
    assert sa["Current user"] == "app@127.0.0.1"
    assert sa == sb


@pytest.mark.parametrize("user,password,pw_flag", [
    ("app", "wrong_password", "YES"),
    ("ql_no_such_user", "whatever", "YES"),
    ("app", "", "NO"),
])
def test_cli_login_denied(direct, proxy, user, password, pw_flag):
    a, b = run_both(direct, proxy, user=user, password=password, sql="SELECT 1")
    for r in (a, b):
        assert r.returncode == 1
        m = re.match(r"^ERROR 1045 \(28000\): (.*)$", r.stderr.strip())
        assert m, r.stderr
        mm = ACCESS_DENIED_RE.match(m.group(1))
        assert mm, m.group(1)
        assert mm.group("user") == user and mm.group("pw") == pw_flag
    assert a.stderr == b.stderr


def test_cli_unknown_database(direct, proxy):
    a, b = run_both(direct, proxy, db="ql_no_such_db", sql="SELECT 1")
    assert a.stderr.strip() == "ERROR 1049 (42000): Unknown database 'ql_no_such_db'"
    assert_same_cli(a, b)


def test_cli_no_database_then_use(direct, proxy):
    a, b = run_both(direct, proxy, "--batch", db=None,
                    sql="SELECT DATABASE(); USE app; SELECT DATABASE(); USE ql_no_such_db")
    assert "ERROR 1049" in a.stderr
    assert_same_cli(a, b)


# ---- TLS ---------------------------------------------------------------------


def test_cli_ssl_through_tls_proxy(direct, proxy_tls):
    """--ssl with certificate verification against the TLS proxy; the output
    must equal the plain connection's directly to MariaDB."""
    a = cli(direct, *VERBOSE, stdin=script(corpus.SHORT), tls=False)
    b = cli(proxy_tls, *VERBOSE, stdin=script(corpus.SHORT), tls=True)
    assert_same_cli(a, b)
    st = cli(proxy_tls, sql="status", tls=True)
    assert st.returncode == 0, st.stderr
    assert status_lines(st.stdout)["SSL"].startswith("Cipher in use is"), st.stdout


def test_cli_switches_to_tls_by_itself(proxy_tls):
    """The CLI uses TLS whenever the server offers it, without --ssl."""
    st = cli(proxy_tls, sql="status")
    assert st.returncode == 0, st.stderr
    assert status_lines(st.stdout)["SSL"].startswith("Cipher in use is"), st.stdout


def test_cli_require_tls(proxy_require_tls):
    plain = cli(proxy_require_tls, sql="SELECT 1", tls=False)
    assert plain.returncode != 0
    assert plain.stderr.startswith("ERROR"), plain.stderr
    ok = cli(proxy_require_tls, "--batch", sql="SELECT CURRENT_USER()", tls=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[1] == "app@127.0.0.1"
