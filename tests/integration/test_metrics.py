"""/metrics on the admin listener: a valid Prometheus exposition (checked by
the real `promtool check metrics`), and scraped by a real Prometheus during a
workload and queried with PromQL. The bound on the number of series is in
test_metrics_bounds.py; no literal value in /metrics, the admin API or the
logs in test_no_literals.py.

Every test starts its own proxy instance so that counts are its own.
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import needs_proxy
from qladmin import http_get, run, scrape, select, value, wait_for

# Families the issue asks for; they must be present after any workload.
REQUIRED_FAMILIES = [
    "querylens_build_info",
    "querylens_statements_total",
    "querylens_statement_duration_seconds",
    "querylens_statement_errors_total",
    "querylens_digest_statements_total",
    "querylens_digest_seconds_total",
    "querylens_digest_info",
    "querylens_client_connections",
    "querylens_client_connections_total",
    "querylens_backend_connections",
    "querylens_backend_connect_failures_total",
    "querylens_backend_up",
    "querylens_pool_wait_seconds",
    "querylens_slow_log_entries_total",
    "querylens_slow_log_dropped_total",
    "querylens_digest_evictions_total",
]


def _families(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[name] = kind
    return out


def _small_workload(ep, n=20):
    stmts = [f"SELECT {i} AS n" for i in range(n)]
    stmts += ["SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app'"]
    stmts += ["SELEC 1"]  # syntax error
    stmts += ["SELECT * FROM qlm_no_such_table"]  # unknown table
    return run(ep, stmts)


def test_metrics_exposition_is_valid_and_counts(start_proxy):
    needs_proxy()
    ep, p = start_proxy()
    results = _small_workload(ep)
    assert isinstance(results[-1], Exception) and isinstance(results[-2], Exception)

    r = http_get(p.admin_port, "/metrics")
    assert r.status == 200
    assert r.content_type.startswith("text/plain; version=0.0.4"), r.content_type
    text, samples = scrape(p.admin_port)
    families = _families(text)
    missing = [f for f in REQUIRED_FAMILIES if f not in families]
    assert not missing, f"families missing from /metrics: {missing}"
    assert families["querylens_statement_duration_seconds"] == "histogram"
    assert families["querylens_pool_wait_seconds"] == "histogram"
    assert families["querylens_statements_total"] == "counter"
    assert families["querylens_client_connections"] == "gauge"

    assert len(select(samples, "querylens_build_info")) == 1
    assert select(samples, "querylens_build_info")[0].label("version")
    # 20 numbered SELECTs + the information_schema one are reads (on the
    # primary, or on the replica once the monitor found it usable).
    reads = value(samples, "querylens_statements_total", **{"class": "read"})
    assert reads >= 21, text
    assert value(samples, "querylens_statement_errors_total", **{"class": "syntax"}) == 1
    assert value(samples, "querylens_statement_errors_total", **{"class": "unknown_object"}) == 1
    # Histogram consistency: +Inf bucket == _count, buckets cumulative.
    for s in select(samples, "querylens_statement_duration_seconds_count"):
        labels = dict(s.labels)
        buckets = [b for b in select(samples, "querylens_statement_duration_seconds_bucket", **labels)]
        by_le = sorted(((float(b.label("le")), b.value) for b in buckets))
        assert by_le[-1] == (math.inf, s.value)
        assert all(a[1] <= b[1] for a, b in zip(by_le, by_le[1:]))
    # Every statement counted once, in the digest families too.
    total = value(samples, "querylens_statements_total")
    assert value(samples, "querylens_digest_statements_total") == total
    assert value(samples, "querylens_client_connections_total") >= 1
    up = select(samples, "querylens_backend_up")
    assert {(s.label("role"), s.value) for s in up} == {("primary", 1.0), ("replica", 1.0)}, up

    # The digest info carries the masked text.
    infos = {s.label("fingerprint") for s in select(samples, "querylens_digest_info")}
    assert "select ? as n" in infos, infos

    # promtool's lint of the exposition.
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus; scripts/setup.sh installs it)")
    cp = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                        timeout=60)
    assert cp.returncode == 0 and not cp.stdout.strip() and not cp.stderr.strip(), (
        f"promtool check metrics (exit {cp.returncode}):\n{cp.stdout}\n{cp.stderr}")


def test_digest_counters_never_go_backwards(start_proxy):
    """With the top 3 digests by time: x1 is pushed out of the top by three
    slower digests, then climbs back. Its earlier statements stay where they
    were counted ("other"), which therefore never shrinks; back in the top,
    x1's series counts from its return."""
    needs_proxy()
    ep, p = start_proxy(["--workers", "1", "--read-write-split", "off",
                         "--metrics-top-digests", "3"])
    fams = ("querylens_digest_statements_total", "querylens_digest_seconds_total")
    scrapes = []
    run(ep, ["SELECT SLEEP(0.05) AS qlm_x1"] * 2)
    scrapes.append(scrape(p.admin_port)[1])
    run(ep, [f"SELECT SLEEP(0.2) AS qlm_y{k}" for k in range(3)])
    scrapes.append(scrape(p.admin_port)[1])
    run(ep, ["SELECT SLEEP(0.1) AS qlm_x1"] * 6)
    scrapes.append(scrape(p.admin_port)[1])
    for fam in fams:
        others = [value(s, fam, digest="other") for s in scrapes]
        assert others == sorted(others), (fam, others)
    infos = {i.label("fingerprint"): i.label("digest")
             for i in select(scrapes[2], "querylens_digest_info")}
    x1 = infos.get("select sleep(?) as qlm_x1")
    assert x1, infos
    assert value(scrapes[2], "querylens_digest_statements_total", digest=x1) == 6


def test_connection_gauges(start_proxy):
    needs_proxy()
    from qlhelpers import pymysql_connect

    ep, p = start_proxy()
    _, before = scrape(p.admin_port)  # start_proxy's port check was one connection
    conns = [pymysql_connect(ep) for _ in range(3)]
    try:
        for c in conns:
            with c.cursor() as cur:
                cur.execute("SELECT 1")
        _, samples = scrape(p.admin_port)
        assert value(samples, "querylens_client_connections") == 3
        assert value(samples, "querylens_client_connections_total") == \
            value(before, "querylens_client_connections_total") + 3
        assert value(samples, "querylens_backend_connections", role="primary") == 3
    finally:
        for c in conns:
            c.close()

    # Backend connections go back to the pool: open ones are then all idle.
    def gone():
        _, s = scrape(p.admin_port)
        return value(s, "querylens_client_connections") == 0 and \
            value(s, "querylens_backend_connections") == value(s, "querylens_pool_idle_connections")
    wait_for(gone, what="client gauge back to 0 and every backend connection idle in the pool")


def test_login_failures_by_reason(start_proxy):
    """Failed logins are counted by reason: a wrong password, a client that
    is not speaking MySQL, and a database the server refuses."""
    needs_proxy()
    import pymysql
    from qlhelpers import pymysql_connect

    ep, p = start_proxy()
    name = "querylens_client_login_failures_total"
    _, before = scrape(p.admin_port)
    for _ in range(3):
        with pytest.raises(pymysql.err.OperationalError) as e:
            pymysql_connect(ep, password="wrong")
        assert e.value.args[0] == 1045
    with socket.create_connection((ep.host, ep.port), timeout=10) as s:
        s.recv(4096)                              # the greeting
        s.sendall(b"\x03\x00\x00\x01abc")         # not a handshake response
        s.recv(4096)
    with pytest.raises(pymysql.err.OperationalError) as e:
        pymysql_connect(ep, db="qlm_no_such_db")
    assert e.value.args[0] == 1049

    def counted():
        _, s = scrape(p.admin_port)
        grew = {r: value(s, name, reason=r) - value(before, name, reason=r)
                for r in ("access_denied", "handshake", "backend")}
        return grew if grew == {"access_denied": 3, "handshake": 1, "backend": 1} else None
    wait_for(counted, what="3 access_denied, 1 handshake and 1 backend login failures")


def test_backend_down_and_connect_failures(start_proxy, lab):
    needs_proxy()
    # A replica nobody listens on: probed down; the primary stays up.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    ep, p = start_proxy(["--replica", f"127.0.0.1:{dead}"])
    run(ep, ["SELECT 1"])
    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_backend_up", backend=f"127.0.0.1:{dead}", role="replica") == 0
    assert value(samples, "querylens_backend_up", backend=f"127.0.0.1:{lab.primary.port}",
                 role="primary") == 1
    failures = select(samples, "querylens_backend_connect_failures_total")
    assert {s.label("backend") for s in failures} >= {f"127.0.0.1:{lab.primary.port}",
                                                      f"127.0.0.1:{dead}"}


def _prometheus_free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _promql(port: int, query: str):
    q = urllib.parse.urlencode({"query": query})
    r = http_get(port, f"/api/v1/query?{q}")
    assert r.status == 200, f"PromQL {query!r}: {r.status} {r.body}"
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


@pytest.mark.slow
def test_real_prometheus_scrapes_and_answers_promql(start_proxy, tmp_path):
    needs_proxy()
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus not installed (Debian package prometheus; scripts/setup.sh installs it)")
    ep, p = start_proxy()
    web_port = _prometheus_free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: querylens\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{p.admin_port}']\n")
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen(
        [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{web_port}", "--storage.tsdb.retention.time=1h",
         "--log.level=warn"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()
    stop = threading.Event()
    errors = []

    def workload():
        i = 0
        while not stop.is_set():
            try:
                run(ep, [f"SELECT {i} AS n", "SELECT SLEEP(0.002)",
                         "SELECT COUNT(*) FROM information_schema.schemata"])
            except Exception as e:  # noqa: BLE001
                errors.append(e)
                return
            i += 1
            time.sleep(0.02)

    worker = threading.Thread(target=workload, daemon=True)
    def ready():
        if proc.poll() is not None:
            pytest.fail(f"prometheus exited ({proc.returncode}):\n"
                        f"{(tmp_path / 'prometheus.log').read_text()}")
        try:
            return http_get(web_port, "/-/ready", timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_for(ready, timeout=60, interval=0.3, what="prometheus ready")
        worker.start()

        def scraped():
            res = _promql(web_port, 'up{job="querylens"}')
            return res and res[0]["value"][1] == "1"
        wait_for(scraped, timeout=30, interval=0.5, what="prometheus scraping the proxy (up == 1)")

        def statements():
            # Reads go to the primary or, once the monitor finds it usable, the replica.
            res = _promql(web_port, 'sum(querylens_statements_total{class="read"})')
            return res and float(res[0]["value"][1]) > 50 and res
        res = wait_for(statements, timeout=30, interval=0.5,
                       what="querylens_statements_total in PromQL")
        print("statements_total:", res)

        quantile = ("histogram_quantile(0.95, sum(rate("
                    "querylens_statement_duration_seconds_bucket[1m])) by (le))")

        def p95():
            res = _promql(web_port, quantile)
            if not res:
                return None
            v = float(res[0]["value"][1])
            return v if math.isfinite(v) and v > 0 else None
        v = wait_for(p95, timeout=30, interval=0.5, what="a finite p95 from the latency histogram")
        print("p95 seconds:", v)
        # The workload's statements take a few milliseconds at most on a local lab.
        assert v < 5, v
        rate = _promql(web_port, "sum(rate(querylens_statements_total[30s]))")
        assert rate and float(rate[0]["value"][1]) > 0, rate
        assert not errors, errors
    finally:
        stop.set()
        if worker.is_alive():
            worker.join(10)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
