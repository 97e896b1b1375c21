"""Helpers for the tests of the proxy's admin listener: HTTP GETs, a parser of
the Prometheus text exposition, small workloads run through the proxy, and a
real Prometheus server (PrometheusServer) with a PromQL query helper.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from qlhelpers import pymysql_connect


@dataclass
class HttpReply:
    status: int
    content_type: str
    body: str

    def json(self):
        return json.loads(self.body)


def http_get(port: int, path: str, method: str = "GET", timeout: float = 10) -> HttpReply:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return HttpReply(r.status, r.headers.get("Content-Type", ""),
                             r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        return HttpReply(e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8"))


def admin_json(port: int, path: str):
    r = http_get(port, path)
    assert r.status == 200, f"GET {path}: {r.status} {r.body}"
    assert r.content_type.startswith("application/json"), r.content_type
    return r.json()


# ---------------------------------------------------------------------------
# Prometheus text exposition (format 0.0.4)

_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$")
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*')


def _unescape(v: str) -> str:
    return v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple  # sorted (name, value) pairs
    value: float

    def label(self, name: str, default=None):
        return dict(self.labels).get(name, default)


def parse_metrics(text: str) -> list[Sample]:
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        assert m, f"unparsable exposition line: {line!r}"
        labels = []
        if m.group(3):
            pos = 0
            body = m.group(3)
            while pos < len(body):
                lm = _LABEL_RE.match(body, pos)
                assert lm, f"unparsable labels in: {line!r}"
                labels.append((lm.group(1), _unescape(lm.group(2))))
                pos = lm.end()
        samples.append(Sample(m.group(1), tuple(sorted(labels)), float(m.group(4))))
    return samples


def select(samples: list[Sample], name: str, **labels) -> list[Sample]:
    return [s for s in samples
            if s.name == name and all(s.label(k) == v for k, v in labels.items())]


def value(samples: list[Sample], name: str, **labels) -> float:
    return sum(s.value for s in select(samples, name, **labels))


def scrape(port: int) -> tuple[str, list[Sample]]:
    r = http_get(port, "/metrics")
    assert r.status == 200, f"/metrics: {r.status} {r.body}"
    return r.body, parse_metrics(r.body)


# ---------------------------------------------------------------------------
# Workloads


def run(ep, statements, db="app", args=None, user=None, password=None):
    """Runs statements on one connection; returns the rows of each. Errors
    are returned as the exception instead of rows."""
    kw = {}
    if user is not None:
        kw = {"user": user, "password": password}
    conn = pymysql_connect(ep, db=db, autocommit=True, **kw)
    out = []
    try:
        for i, sql in enumerate(statements):
            cur = conn.cursor()
            try:
                cur.execute(sql, args[i] if args else None)
                out.append(cur.fetchall())
            except Exception as e:  # noqa: BLE001 - errors are part of some workloads
                out.append(e)
            finally:
                cur.close()
    finally:
        conn.close()
    return out


def wait_for(predicate, timeout: float = 20, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


# ---------------------------------------------------------------------------
# A real Prometheus (Debian's package) on loopback, for tests that scrape the
# proxy and query it with PromQL.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def promql(port: int, query: str, path: str = "/api/v1/query"):
    """An instant query; asserts status success and returns data.result."""
    r = http_get(port, f"{path}?{urllib.parse.urlencode({'query': query})}")
    assert r.status == 200, f"PromQL {query!r}: {r.status} {r.body}"
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


class PrometheusServer:
    """prometheus scraping `targets` every second (job "querylens"), with
    optional rule files evaluated every second. Use as a context manager;
    stopped by PID. Its port is QL_TEST_PROMETHEUS_PORT when set, else a free
    one. Skips the test when the binary is not installed."""

    def __init__(self, workdir, targets, rule_files=(), job: str = "querylens"):
        import pytest  # the helpers import without pytest elsewhere
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.skip("prometheus not installed (Debian package prometheus; scripts/setup.sh "
                        "installs it)")
        self.binary = binary
        self.dir = Path(workdir)
        self.port = int(os.environ.get("QL_TEST_PROMETHEUS_PORT", "0")) or free_port()
        self.log_path = self.dir / "prometheus.log"
        config = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s",
                  "  evaluation_interval: 1s"]
        if rule_files:
            config.append("rule_files:")
            config += [f"  - {json.dumps(str(f))}" for f in rule_files]
        config += ["scrape_configs:", f"  - job_name: {job}", "    static_configs:",
                   f"      - targets: {json.dumps(list(targets))}"]
        self.config = self.dir / "prometheus.yml"
        self.config.write_text("\n".join(config) + "\n")
        self.proc = None

    def __enter__(self):
        import pytest
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={self.config}",
             f"--storage.tsdb.path={self.dir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h",
             "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                pytest.fail(f"prometheus exited ({self.proc.returncode}):\n"
                            f"{self.log_path.read_text(errors='replace')}")
            try:
                return http_get(self.port, "/-/ready", timeout=2).status == 200
            except OSError:
                return False
        try:
            wait_for(ready, timeout=60, interval=0.3, what="prometheus ready")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def query(self, expr: str):
        return promql(self.port, expr)

    def api(self, path: str):
        """GET /api/v1/<path>; asserts status success and returns data."""
        r = http_get(self.port, f"/api/v1/{path}")
        assert r.status == 200, f"/api/v1/{path}: {r.status} {r.body}"
        body = r.json()
        assert body["status"] == "success", body
        return body["data"]
