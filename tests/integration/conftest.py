"""Fixtures for the querylens integration tests.

Session-scoped: the lab (a MariaDB primary and GTID replica started with
deploy/lab/lab.sh on test ports), the proxy instances, TLS material and the
compiled C test client. Everything started here is stopped by PID at the end.

Environment:
  QL_TEST_PRIMARY_PORT   lab primary port (default 33161)
  QL_TEST_REPLICA_PORT   lab replica port (default 33162)
  QL_TEST_LAB_DIR        lab directory (default /tmp/ql-test-lab-<primary port>)
  QL_TEST_KEEP_LAB=1     keep the lab directory (logs, data) after the run
  QUERYLENS_BIN          proxy binary (default build/proxy/querylens)
  QL_TEST_PROXY_PORT     main proxy port (default 16033); its admin port is
                         QL_TEST_ADMIN_PORT (default 19033). Further instances
                         use the following ports (TLS 16034, require-TLS
                         16035, per-test instances from 16040).
  QL_TEST_PROXY_EXTRA_ARGS  extra arguments for every proxy instance
  QL_TEST_PROXY_DIRECT=1 no proxy: "through the proxy" means the primary
                         itself. Validates the tests against MariaDB; tests
                         that only make sense through the proxy are skipped.
                         In this mode the lab servers offer TLS themselves, so
                         that the TLS tests run against MariaDB's TLS.
  QL_TEST_LAB_TLS=1|0    lab servers offer TLS (default: 1 in direct mode,
                         0 otherwise)
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from qlhelpers import REPO, Endpoint, wait_port  # noqa: E402

DIRECT = os.environ.get("QL_TEST_PROXY_DIRECT") == "1"
PRIMARY_PORT = int(os.environ.get("QL_TEST_PRIMARY_PORT", "33161"))
REPLICA_PORT = int(os.environ.get("QL_TEST_REPLICA_PORT", "33162"))
LAB_DIR = os.environ.get("QL_TEST_LAB_DIR", f"/tmp/ql-test-lab-{PRIMARY_PORT}")
PROXY_PORT = int(os.environ.get("QL_TEST_PROXY_PORT", "16033"))
ADMIN_PORT = int(os.environ.get("QL_TEST_ADMIN_PORT", "19033"))
QUERYLENS_BIN = os.environ.get("QUERYLENS_BIN", str(REPO / "build" / "proxy" / "querylens"))
EXTRA_ARGS = shlex.split(os.environ.get("QL_TEST_PROXY_EXTRA_ARGS", ""))
LAB_SH = REPO / "deploy" / "lab" / "lab.sh"
LAB_TLS = os.environ.get("QL_TEST_LAB_TLS", "1") == "1"  # servers offer TLS: --backend-tls is tested


# ---------------------------------------------------------------------------
# The lab


class Lab:
    def __init__(self, lab_dir: str, primary_port: int, replica_port: int, tls: dict | None = None):
        self.dir = lab_dir
        self.env = dict(os.environ, QL_LAB_DIR=lab_dir, QL_PRIMARY_PORT=str(primary_port),
                        QL_REPLICA_PORT=str(replica_port), QL_LAB_TIMEOUT="60")
        for k in ("QL_LAB_TLS_CERT", "QL_LAB_TLS_KEY", "QL_LAB_TLS_CA"):
            self.env.pop(k, None)
        self.tls_ca = None
        if tls:
            self.env.update(QL_LAB_TLS_CERT=tls["cert"], QL_LAB_TLS_KEY=tls["key"],
                            QL_LAB_TLS_CA=tls["ca"])
            self.tls_ca = tls["ca"]
        self.primary = Endpoint("127.0.0.1", primary_port, "direct", via_proxy=False)
        self.replica = Endpoint("127.0.0.1", replica_port, "replica", via_proxy=False)

    def lab(self, *args: str, timeout: float = 240, check: bool = True) -> subprocess.CompletedProcess:
        cp = subprocess.run(["bash", str(LAB_SH), *args], env=self.env, capture_output=True,
                            text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and cp.returncode != 0:
            raise RuntimeError(f"lab.sh {' '.join(args)} failed (exit {cp.returncode}):\n"
                               f"{cp.stdout}\n{cp.stderr}")
        return cp

    def stop_primary(self):
        self.lab("stop-primary")

    def start_primary(self):
        self.lab("start-primary")

    def root_sql(self, server: str, sql: str, timeout: float = 60) -> str:
        sock = os.path.join(self.dir, server, "mysqld.sock")
        cp = subprocess.run(["mariadb", "--no-defaults", "--protocol=socket", "-S", sock, "-uroot",
                             "--batch", "--skip-column-names", "-e", sql],
                            capture_output=True, text=True, timeout=timeout)
        if cp.returncode != 0:
            raise RuntimeError(f"root_sql on {server} failed: {cp.stderr}")
        return cp.stdout


@pytest.fixture(scope="session")
def lab(request):
    tls = request.getfixturevalue("tls_files") if LAB_TLS else None
    lab = Lab(LAB_DIR, PRIMARY_PORT, REPLICA_PORT, tls)
    # Leftovers of an aborted earlier run are stopped and removed first.
    lab.lab("destroy", check=False)
    try:
        lab.lab("start")
    except Exception:
        lab.lab("stop", check=False)
        raise
    try:
        yield lab
    finally:
        cp = lab.lab("stop", check=False)
        if cp.returncode != 0:
            print(f"lab.sh stop failed:\n{cp.stdout}\n{cp.stderr}", file=sys.stderr)
        if os.environ.get("QL_TEST_KEEP_LAB") != "1":
            shutil.rmtree(lab.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def direct(lab) -> Endpoint:
    """The primary, as a client sees it without the proxy."""
    return lab.primary


# ---------------------------------------------------------------------------
# TLS material: a CA and a server certificate for 127.0.0.1 / localhost.


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")

    def ssl(*args):
        cp = subprocess.run(["openssl", *args], cwd=d, capture_output=True, text=True, timeout=60)
        if cp.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)} failed:\n{cp.stderr}")

    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "30", "-subj", "/CN=querylens test CA")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "30", "-extfile", "ext.cnf")
    return {"ca": str(d / "ca.pem"), "cert": str(d / "server.pem"), "key": str(d / "server.key"),
            "dir": str(d)}


# ---------------------------------------------------------------------------
# Proxy processes

_PROXIES: list["ProxyProcess"] = []


class ProxyProcess:
    def __init__(self, name: str, port: int, admin_port: int, extra: list[str], log_dir: Path,
                 env: dict | None = None, users: list[str] | None = None):
        self.name = name
        self.port = port
        self.admin_port = admin_port
        users = users if users is not None else ["app:app_pass", "app2:app2_pass"]
        self.argv = [QUERYLENS_BIN, "--listen", f"127.0.0.1:{port}",
                     "--primary", f"127.0.0.1:{PRIMARY_PORT}",
                     "--replica", f"127.0.0.1:{REPLICA_PORT}"]
        for u in users:
            self.argv += ["--user", u]
        self.argv += ["--admin-listen", f"127.0.0.1:{admin_port}", *extra, *EXTRA_ARGS]
        self.env = dict(os.environ, **(env or {}))
        self.log_path = log_dir / f"querylens-{name}.log"
        self.proc: subprocess.Popen | None = None
        self.reported_exit = False

    def start(self, timeout: float = 20):
        if not os.access(QUERYLENS_BIN, os.X_OK):
            pytest.fail(f"proxy binary {QUERYLENS_BIN} not found or not executable: build it "
                        f"(bash scripts/build.sh), set QUERYLENS_BIN, or run with "
                        f"QL_TEST_PROXY_DIRECT=1 to test against MariaDB directly", pytrace=False)
        if wait_port("127.0.0.1", self.port, 0.3):
            pytest.fail(f"port {self.port} is already in use; cannot start proxy {self.name}",
                        pytrace=False)
        log = open(self.log_path, "ab")
        log.write(f"=== starting: {shlex.join(self.argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     env=self.env, start_new_session=True)
        log.close()
        self.reported_exit = False
        _PROXIES.append(self)
        if not wait_port("127.0.0.1", self.port, timeout, alive=self.alive):
            rc = self.proc.poll()
            self.stop()
            pytest.fail(f"proxy {self.name} did not accept connections on 127.0.0.1:{self.port} "
                        f"within {timeout}s (exit status {rc}); command: {shlex.join(self.argv)}\n"
                        f"--- its output ---\n{self.log_tail()}", pytrace=False)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    # The drain waits for open transactions (--shutdown-timeout);
                    # a second signal ends it.
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.send_signal(signal.SIGTERM)
                    self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            except ProcessLookupError:
                pass
        if self in _PROXIES:
            _PROXIES.remove(self)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def endpoint(self, name: str, tls_ca: str | None = None, requires_tls: bool = False) -> Endpoint:
        return Endpoint("127.0.0.1", self.port, name, via_proxy=True, tls_ca=tls_ca,
                        requires_tls=requires_tls)


@pytest.fixture(scope="session")
def proxy_log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("proxy-logs")


def _session_proxy(name, port, admin, extra, log_dir):
    p = ProxyProcess(name, port, admin, extra, log_dir)
    p.start()
    return p


@pytest.fixture(scope="session")
def proxy_process(lab, proxy_log_dir):
    if DIRECT:
        yield None
        return
    p = _session_proxy("main", PROXY_PORT, ADMIN_PORT, [], proxy_log_dir)
    yield p
    p.stop()


@pytest.fixture(scope="session")
def proxy(lab, proxy_process) -> Endpoint:
    """The main proxy instance (plain TCP, mysql_native_password). In direct
    mode: the primary itself."""
    if DIRECT:
        return Endpoint(lab.primary.host, lab.primary.port, "proxy(direct)", via_proxy=False)
    return proxy_process.endpoint("proxy")


@pytest.fixture(scope="session")
def proxy_tls(lab, tls_files, proxy_log_dir) -> Endpoint:
    """A proxy instance with frontend TLS (optional for clients)."""
    if DIRECT:
        # Stand-in: MariaDB's own TLS (the lab offers TLS in direct mode).
        if not lab.tls_ca:
            pytest.skip("direct mode without lab TLS (QL_TEST_LAB_TLS=0)")
        yield Endpoint(lab.primary.host, lab.primary.port, "proxy-tls(direct)", via_proxy=False,
                       tls_ca=lab.tls_ca)
        return
    p = _session_proxy("tls", PROXY_PORT + 1, ADMIN_PORT + 1,
                       ["--tls-cert", tls_files["cert"], "--tls-key", tls_files["key"]],
                       proxy_log_dir)
    yield p.endpoint("proxy-tls", tls_ca=tls_files["ca"])
    p.stop()


@pytest.fixture(scope="session")
def proxy_require_tls(lab, tls_files, proxy_log_dir) -> Endpoint:
    """A proxy instance that refuses clients without TLS."""
    if DIRECT:
        pytest.skip("needs the proxy (QL_TEST_PROXY_DIRECT=1)")
    p = _session_proxy("require-tls", PROXY_PORT + 2, ADMIN_PORT + 2,
                       ["--tls-cert", tls_files["cert"], "--tls-key", tls_files["key"],
                        "--require-tls"], proxy_log_dir)
    yield p.endpoint("proxy-require-tls", tls_ca=tls_files["ca"], requires_tls=True)
    p.stop()


_next_port = [PROXY_PORT + 7]


@pytest.fixture
def start_proxy(lab, proxy_log_dir, request):
    """Factory for a fresh proxy instance owned by one test:
    start_proxy(extra_args, users=None, env=None, name=None) -> (Endpoint, ProxyProcess)."""
    if DIRECT:
        pytest.skip("needs the proxy (QL_TEST_PROXY_DIRECT=1)")
    started = []

    def factory(extra=(), users=None, env=None, name=None, tls_ca=None):
        _next_port[0] += 1
        port = _next_port[0]
        admin = ADMIN_PORT + (port - PROXY_PORT)
        nm = name or f"{request.node.name}-{port}"
        nm = "".join(c if c.isalnum() or c in "-_" else "_" for c in nm)[:80]
        p = ProxyProcess(nm, port, admin, list(extra), proxy_log_dir, env=env, users=users)
        p.start()
        started.append(p)
        return p.endpoint(nm, tls_ca=tls_ca), p

    yield factory
    # A per-test proxy that died on its own is a crash even when the test
    # itself failed first (the autouse check runs after this teardown).
    crashed = [p for p in started
               if p in _PROXIES and not p.alive() and not p.reported_exit]
    report = "\n".join(f"proxy {p.name} exited (status {p.proc.poll()}) during this test\n"
                       f"--- its output ---\n{p.log_tail()}" for p in crashed)
    for p in started:
        p.stop()
    if crashed:
        pytest.fail(report, pytrace=False)


@pytest.fixture(autouse=True)
def _proxies_survive(request):
    """Fails a test after which a proxy instance is no longer running (a
    crash), and restarts that instance for the tests that follow."""
    yield
    for p in list(_PROXIES):
        if not p.alive() and not p.reported_exit:
            p.reported_exit = True
            rc = p.proc.poll() if p.proc else None
            tail = p.log_tail()
            _PROXIES.remove(p)
            try:
                p.start()
            except BaseException:  # pytest.fail inside start
                pass
            pytest.fail(f"proxy {p.name} exited (status {rc}) during this test\n--- its output ---\n"
                        f"{tail}", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for p in _PROXIES:
            rep.sections.append((f"querylens {p.name} output (last lines)", p.log_tail(40)))


def needs_proxy():
    if DIRECT:
        pytest.skip("only meaningful through the proxy (QL_TEST_PROXY_DIRECT=1)")


# ---------------------------------------------------------------------------
# The C test client


@pytest.fixture(scope="session")
def qlclient(tmp_path_factory) -> str:
    src = Path(__file__).resolve().parent / "clients" / "qlclient.c"
    out = tmp_path_factory.mktemp("clients") / "qlclient"
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmariadb"], capture_output=True,
                           text=True, timeout=30)
    if flags.returncode != 0:
        pytest.fail("pkg-config libmariadb failed (is libmariadb-dev installed? run scripts/setup.sh): "
                    + flags.stderr, pytrace=False)
    cc = os.environ.get("CC", "cc")
    cp = subprocess.run([cc, "-std=c11", "-O1", "-Wall", "-o", str(out), str(src),
                         *shlex.split(flags.stdout)], capture_output=True, text=True, timeout=120)
    if cp.returncode != 0:
        pytest.fail(f"compiling {src} failed:\n{cp.stderr}", pytrace=False)
    return str(out)
