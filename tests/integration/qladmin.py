"""Helpers for the tests of the proxy's admin listener: HTTP GETs, a parser of
the Prometheus text exposition, and small workloads run through the proxy.
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

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
