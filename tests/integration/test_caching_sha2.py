"""caching_sha2_password offered by the proxy to its clients
(--frontend-auth caching_sha2_password); MariaDB itself does not have it, so
these tests run only through the proxy.

Paths (as in MySQL's server): the first login of a user after the proxy starts
needs full authentication (the cache is empty): over TLS the client sends the
password in clear, without TLS it asks for the RSA public key (0x02) and
sends the password RSA-encrypted. Later logins take the fast path (scramble
only, then 0x03 and OK). Each test gets a fresh proxy, hence an empty cache.
The proxy keeps that cache per worker thread, so these proxies run with
--workers 1 to make the path of each login predictable.
"""
import subprocess

import MySQLdb
import pymysql
import pymysql._auth
import pytest

import corpus
from qlhelpers import (ACCESS_DENIED_RE, assert_same, mysqldb_connect, pymysql_connect,
                       pymysql_tls, run_script)


@pytest.fixture
def sha2_proxy(start_proxy, tls_files):
    ep, _ = start_proxy(["--frontend-auth", "caching_sha2_password", "--workers", "1",
                         "--tls-cert", tls_files["cert"], "--tls-key", tls_files["key"]],
                        tls_ca=tls_files["ca"])
    return ep


@pytest.fixture
def auth_trace(monkeypatch):
    """Records what PyMySQL sends during the caching_sha2 exchange after its
    handshake response."""
    sent = []
    orig = pymysql._auth._roundtrip

    def roundtrip(conn, data):
        sent.append(bytes(data))
        return orig(conn, data)

    monkeypatch.setattr(pymysql._auth, "_roundtrip", roundtrip)
    return sent


def _path(sent, password=b"app_pass"):
    if not sent:
        return "fast"
    if sent[0] == b"\x02" and len(sent) == 2 and len(sent[1]) >= 128:
        return "full-rsa"
    if sent == [password + b"\0"]:
        return "full-tls"
    return f"unexpected: {sent!r}"


def _check_session(conn):
    cur = conn.cursor()
    cur.execute("SELECT CURRENT_USER(), DATABASE()")
    assert cur.fetchone() == ("app@127.0.0.1", "app")


def test_handshake_offers_caching_sha2(sha2_proxy):
    conn = pymysql_connect(sha2_proxy)
    try:
        assert conn._auth_plugin_name == "caching_sha2_password"
    finally:
        conn.close()


def test_rsa_full_auth_then_fast_path(sha2_proxy, auth_trace):
    conn = pymysql_connect(sha2_proxy)
    try:
        assert _path(auth_trace) == "full-rsa"
        assert conn.server_public_key.startswith(b"-----BEGIN PUBLIC KEY-----"), conn.server_public_key
        _check_session(conn)
    finally:
        conn.close()
    auth_trace.clear()
    conn = pymysql_connect(sha2_proxy)
    try:
        assert _path(auth_trace) == "fast"
        _check_session(conn)
    finally:
        conn.close()


def test_tls_full_auth_then_fast_path(sha2_proxy, auth_trace):
    conn = pymysql_connect(sha2_proxy, **pymysql_tls(sha2_proxy))
    try:
        assert _path(auth_trace) == "full-tls"
        _check_session(conn)
    finally:
        conn.close()
    auth_trace.clear()
    conn = pymysql_connect(sha2_proxy, **pymysql_tls(sha2_proxy))
    try:
        assert _path(auth_trace) == "fast"
        _check_session(conn)
    finally:
        conn.close()
    # The cache is per user, not per transport: a plain client takes the fast path now.
    auth_trace.clear()
    conn = pymysql_connect(sha2_proxy)
    try:
        assert _path(auth_trace) == "fast"
    finally:
        conn.close()


@pytest.mark.parametrize("tls", [False, True])
@pytest.mark.parametrize("user,password", [("app", "wrong_password"), ("ql_no_such_user", "x")])
def test_wrong_password(sha2_proxy, tls, user, password):
    kw = pymysql_tls(sha2_proxy) if tls else {}
    # Once with an empty cache (full authentication), once after a good login (fast path).
    for _ in range(2):
        with pytest.raises(pymysql.err.OperationalError) as ei:
            pymysql_connect(sha2_proxy, user=user, password=password, **kw)
        code, msg = ei.value.args
        assert code == 1045 and ei.value.sqlstate == "28000"
        m = ACCESS_DENIED_RE.match(msg)
        assert m and m.group("user") == user and m.group("pw") == "YES", msg
        pymysql_connect(sha2_proxy, **kw).close()


def test_corpus_after_sha2_login(direct, sha2_proxy):
    c = pymysql_connect(direct, charset="utf8mb4")
    try:
        a = run_script("pymysql", c, corpus.SHORT)
    finally:
        c.close()
    c = pymysql_connect(sha2_proxy, charset="utf8mb4")
    try:
        b = run_script("pymysql", c, corpus.SHORT)
    finally:
        c.close()
    assert_same(a, b, "after caching_sha2 login")


def test_mysqldb_and_cli_over_tls(sha2_proxy):
    """MariaDB Connector/C speaks caching_sha2_password too."""
    conn = mysqldb_connect(sha2_proxy, ssl={"ca": sha2_proxy.tls_ca})
    try:
        _check_session(conn)
    finally:
        conn.close()
    conn = mysqldb_connect(sha2_proxy, ssl={"ca": sha2_proxy.tls_ca})  # now the fast path
    conn.close()
    cp = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{sha2_proxy.port}", "-uapp",
                         "-papp_pass", "--ssl", f"--ssl-ca={sha2_proxy.tls_ca}", "--batch",
                         "-e", "SELECT CURRENT_USER()", "app"],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.splitlines()[1] == "app@127.0.0.1"
    with pytest.raises(MySQLdb.OperationalError) as ei:
        mysqldb_connect(sha2_proxy, password="nope", ssl={"ca": sha2_proxy.tls_ca})
    assert ei.value.args[0] == 1045
