"""The querylens command line: --help, --version, --check-config, and the
configuration file's error messages (file, line, key)."""
import os
import subprocess

import pytest

from conftest import DIRECT, QUERYLENS_BIN
from qlhelpers import pymysql_connect

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the proxy binary (QL_TEST_PROXY_DIRECT=1)")


def ql(*args, timeout=30, env=None):
    if not os.access(QUERYLENS_BIN, os.X_OK):
        pytest.fail(f"proxy binary {QUERYLENS_BIN} not found; build it or set QUERYLENS_BIN",
                    pytrace=False)
    return subprocess.run([QUERYLENS_BIN, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)


def test_version():
    cp = ql("--version")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.startswith("querylens "), cp.stdout


def test_help_lists_the_flags():
    cp = ql("--help")
    assert cp.returncode == 0, cp.stderr
    for flag in ("--listen", "--primary", "--replica", "--user", "--config", "--admin-listen",
                 "--help", "--version", "--check-config"):
        assert flag in cp.stdout, flag


def test_unknown_flag_is_an_error():
    cp = ql("--no-such-flag")
    assert cp.returncode != 0
    assert "--no-such-flag" in cp.stderr


def test_check_config_good(tmp_path):
    f = tmp_path / "good.yaml"
    f.write_text("listen: 127.0.0.1:6033\nprimary: 127.0.0.1:33061\nreplicas:\n  - 127.0.0.1:33062\n"
                 "users:\n  - app:app_pass\n")
    cp = ql("--check-config", str(f))
    assert cp.returncode == 0, cp.stdout + cp.stderr


@pytest.mark.parametrize("body,line,key", [
    ("listen: 127.0.0.1:6033\nprimary: 127.0.0.1:33061\nbogus_key: 1\nusers: [app:app_pass]\n", 3, "bogus_key"),
    ("listen: 127.0.0.1:6033\nprimary: nonsense\nusers: [app:app_pass]\n", 2, "primary"),
])
def test_check_config_errors_name_key_and_line(tmp_path, body, line, key):
    f = tmp_path / "bad.yaml"
    f.write_text(body)
    cp = ql("--check-config", str(f))
    assert cp.returncode != 0
    assert f"{f}:{line}" in cp.stderr, cp.stderr
    assert key in cp.stderr, cp.stderr


def test_config_file_with_flag_override(start_proxy, lab, tmp_path):
    """A --config file supplies the users; the --primary flag (which the
    fixture always passes) overrides the file's unreachable primary."""
    f = tmp_path / "ql.yaml"
    f.write_text("primary: 127.0.0.1:1\nusers:\n  - app:app_pass\nlog-level: info\n")
    ep, _ = start_proxy(["--config", str(f)], users=[])
    c = pymysql_connect(ep)
    try:
        cur = c.cursor()
        cur.execute("SELECT CURRENT_USER()")
        assert cur.fetchone() == ("app@127.0.0.1",)
    finally:
        c.close()


def test_admin_api_is_up_once_the_client_port_accepts(lab, proxy_log_dir):
    """Start-up order: the client port listens last, so whoever got a client
    connection in (a test, a load balancer's check) also finds the admin
    API. Polled tightly over several starts, as the race was milliseconds."""
    import socket
    import signal
    import time
    from conftest import ADMIN_PORT, PRIMARY_PORT, PROXY_PORT, _next_port
    for attempt in range(8):
        _next_port[0] += 1
        port = _next_port[0]
        admin = ADMIN_PORT + (port - PROXY_PORT)
        log = open(proxy_log_dir / f"querylens-startup-order-{attempt}.log", "wb")
        proc = subprocess.Popen([QUERYLENS_BIN, "--listen", f"127.0.0.1:{port}",
                                 "--primary", f"127.0.0.1:{PRIMARY_PORT}", "--user", "app:app_pass",
                                 "--admin-listen", f"127.0.0.1:{admin}"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        log.close()
        try:
            deadline = time.monotonic() + 20
            while True:
                assert proc.poll() is None, f"proxy exited with {proc.returncode} at start-up"
                assert time.monotonic() < deadline, "client port never accepted"
                try:
                    socket.create_connection(("127.0.0.1", port), 0.5).close()
                    break
                except OSError:
                    time.sleep(0.001)
            try:
                s = socket.create_connection(("127.0.0.1", admin), 2)
            except ConnectionRefusedError:
                pytest.fail(f"start {attempt}: client port {port} accepted before the admin API "
                            f"on {admin} listened")
            with s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                s.settimeout(5)
                assert s.recv(64).startswith(b"HTTP/1.1 200")
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
