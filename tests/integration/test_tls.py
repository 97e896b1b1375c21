"""Frontend TLS (--tls-cert/--tls-key, --require-tls) with the Python clients.
In direct mode the TLS tests run against the lab's own TLS (MariaDB)."""
import ssl

import MySQLdb
import pymysql
import pytest

import corpus
from qlhelpers import assert_same, mysqldb_connect, pymysql_connect, pymysql_tls, run_script


def test_pymysql_tls_verified(direct, proxy_tls):
    plain = pymysql_connect(direct, charset="utf8mb4")
    try:
        a = run_script("pymysql", plain, corpus.SHORT)
    finally:
        plain.close()
    conn = pymysql_connect(proxy_tls, charset="utf8mb4", **pymysql_tls(proxy_tls))
    try:
        assert isinstance(conn._sock, ssl.SSLSocket)
        assert conn._sock.version() in ("TLSv1.2", "TLSv1.3")
        b = run_script("pymysql", conn, corpus.SHORT)
    finally:
        conn.close()
    assert_same(a, b, "pymysql over TLS")


def test_mysqldb_tls(direct, proxy_tls):
    plain = mysqldb_connect(direct, charset="utf8mb4")
    try:
        a = run_script("mysqldb", plain, corpus.SHORT)
    finally:
        plain.close()
    conn = mysqldb_connect(proxy_tls, charset="utf8mb4", ssl={"ca": proxy_tls.tls_ca})
    try:
        b = run_script("mysqldb", conn, corpus.SHORT)
    finally:
        conn.close()
    assert_same(a, b, "mysqldb over TLS")


def test_plain_client_still_allowed_without_require_tls(proxy_tls):
    conn = pymysql_connect(proxy_tls)
    try:
        assert not isinstance(conn._sock, ssl.SSLSocket)
        cur = conn.cursor()
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    finally:
        conn.close()


def test_wrong_ca_is_rejected_by_client(proxy_tls, tmp_path):
    """Certificate verification is real: a client trusting another CA refuses."""
    import subprocess
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(crt), "-days", "1", "-subj", "/CN=other CA"],
                   check=True, capture_output=True, timeout=60)
    with pytest.raises(pymysql.err.OperationalError) as ei:
        pymysql_connect(proxy_tls, ssl_ca=str(crt), ssl_verify_cert=True, ssl_verify_identity=True)
    assert "CERTIFICATE_VERIFY_FAILED" in str(ei.value), ei.value


def test_require_tls(proxy_require_tls):
    # Without TLS: refused with an error, not a hang.
    with pytest.raises((pymysql.err.OperationalError, pymysql.err.InternalError)) as ei:
        pymysql.connect(host=proxy_require_tls.host, port=proxy_require_tls.port, user="app",
                        password="app_pass", database="app", connect_timeout=10, read_timeout=30)
    print("plain client refused with", ei.value.args)
    with pytest.raises(MySQLdb.OperationalError):
        MySQLdb.connect(host=proxy_require_tls.host, port=proxy_require_tls.port, user="app",
                        passwd="app_pass", db="app", connect_timeout=10)
    # With TLS: fine.
    conn = pymysql_connect(proxy_require_tls, **pymysql_tls(proxy_require_tls))
    try:
        cur = conn.cursor()
        cur.execute("SELECT CURRENT_USER()")
        assert cur.fetchone() == ("app@127.0.0.1",)
    finally:
        conn.close()
