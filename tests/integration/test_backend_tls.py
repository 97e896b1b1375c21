"""TLS between the proxy and the servers (--backend-tls, --backend-tls-ca).

The lab servers offer TLS with a certificate from the test CA. A session's
Ssl_cipher status, read through the proxy, is the backend connection's own:
non-empty proves that the proxy's link to MariaDB is encrypted."""
import subprocess

import pytest

from qlhelpers import pymysql_connect


def ssl_cipher(ep):
    conn = pymysql_connect(ep)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            row = cur.fetchone()
            cur.execute("SELECT 41 + 1")
            assert cur.fetchone()[0] == 42
            return row[1] if row else ""
    finally:
        conn.close()


def test_plain_backend_by_default(lab, proxy):
    if not proxy.via_proxy:
        pytest.skip("only meaningful through the proxy")
    assert ssl_cipher(proxy) == ""


def test_backend_tls_verified_with_ca(lab, start_proxy):
    if not lab.tls_ca:
        pytest.skip("lab without TLS (QL_TEST_LAB_TLS=0)")
    ep, _ = start_proxy(["--backend-tls", "--backend-tls-ca", lab.tls_ca])
    assert ssl_cipher(ep) != ""


def test_backend_tls_without_ca_still_encrypts(lab, start_proxy):
    if not lab.tls_ca:
        pytest.skip("lab without TLS (QL_TEST_LAB_TLS=0)")
    ep, _ = start_proxy(["--backend-tls"])
    assert ssl_cipher(ep) != ""


def test_backend_tls_wrong_ca_is_refused_clearly(lab, start_proxy, tmp_path):
    if not lab.tls_ca:
        pytest.skip("lab without TLS (QL_TEST_LAB_TLS=0)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(tmp_path / "other.key"), "-out", str(tmp_path / "other.pem"),
                    "-days", "2", "-subj", "/CN=some other CA"],
                   check=True, capture_output=True, timeout=60)
    ep, proc = start_proxy(["--backend-tls", "--backend-tls-ca", str(tmp_path / "other.pem")])
    with pytest.raises(Exception) as info:
        pymysql_connect(ep)
    code, message = info.value.args[0], str(info.value.args[1])
    assert code == 1429, info.value
    assert "TLS" in message and f":{lab.primary.port}" in message, message
    # The proxy itself keeps serving: a correct configuration works meanwhile.
    assert proc.proc.poll() is None
