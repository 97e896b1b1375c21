"""dashboards/: the Grafana dashboard and the Prometheus alerting rules,
checked against the real proxy and a real Prometheus.

- The dashboard JSON is importable in shape: datasource variable and input,
  unique panel ids, a datasource and targets on every panel, a layout that
  fits the grid, every querylens selector filtered by $instance.
- The rules pass `promtool check rules` and carry for/severity/summary/
  description.
- Every querylens_* name used by a dashboard expression or an alert is in the
  proxy's real /metrics after a varied workload through a proxy with a
  replica (reads on the replica, writes, a transaction, a pinned session,
  errors, an N+1 loop, the slow log), so renaming a metric breaks this test.
- A real Prometheus loads the rules and scrapes two proxies: a healthy one
  under that workload and one whose primary and second replica are ports
  nobody listens on. Every rule evaluates with health "ok"; every dashboard
  query (variables substituted as Grafana would) succeeds and returns data,
  with the labels its legend names; the healthy proxy raises only the N+1
  alert; the broken one raises primary-down and replica-down, and not the
  replica-up-but-unusable alert.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import urllib.parse

import pytest
import yaml

from conftest import needs_proxy
from qladmin import PrometheusServer, free_port, run, scrape, wait_for
from qlhelpers import REPO, pymysql_connect
from qlservers import wait_replica_caught_up, wait_replica_usable

DASHBOARD = REPO / "dashboards" / "querylens-overview.json"
ALERTS = REPO / "dashboards" / "querylens-alerts.yml"

# What Grafana would put in place of its variables for these tests.
RATE_INTERVAL = "30s"
RANGE = "5m"

# The metric families the dashboard must show (the operator's checklist).
DASHBOARD_MUST_USE = {
    "querylens_statements_total", "querylens_statement_duration_seconds_bucket",
    "querylens_statement_errors_total", "querylens_digest_seconds_total",
    "querylens_digest_statements_total", "querylens_digest_info", "querylens_client_connections",
    "querylens_backend_connections", "querylens_pool_wait_seconds_bucket",
    "querylens_routing_decisions_total", "querylens_session_pins_total",
    "querylens_replication_lag_seconds", "querylens_backend_up", "querylens_backend_read_only",
    "querylens_backend_usable_for_reads", "querylens_n_plus_one_findings_total",
    "querylens_n_plus_one_seconds_total", "querylens_slow_log_entries_total",
    "querylens_slow_log_dropped_total", "querylens_build_info",
    "querylens_client_login_failures_total",
}
ALERTS_MUST_HAVE = {
    "QuerylensDown", "QuerylensAbsent", "QuerylensPrimaryDown", "QuerylensReplicaDown",
    "QuerylensReplicaNotUsableForReads", "QuerylensReplicationLagHigh",
    "QuerylensErrorRatioHigh", "QuerylensConnectionErrors", "QuerylensP99LatencyHigh",
    "QuerylensSlowLogDropping", "QuerylensNPlusOneFindings", "QuerylensScrapeWorkerTimeouts",
}
SEVERITIES = {"critical", "warning", "info"}

_NAME_RE = re.compile(r"\b(querylens_[A-Za-z0-9_]+)")
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_SELECTOR_RE = re.compile(r"\b(querylens_[A-Za-z0-9_]+)(\{[^}]*\})?")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


# ---------------------------------------------------------------------------
# Reading the files


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _panels(dash: dict) -> list[dict]:
    """All panels, including those inside (collapsed) rows."""
    out = []
    for p in dash["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def _targets(dash: dict) -> list[tuple[dict, dict]]:
    return [(p, t) for p in _panels(dash) if p["type"] != "row" for t in p["targets"]]


def _rules() -> list[dict]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def _metric_names(expr: str) -> set[str]:
    """querylens_* identifiers of a PromQL expression (string literals, i.e.
    label values, left out)."""
    return set(_NAME_RE.findall(_STRING_RE.sub('""', expr)))


def _used_names() -> dict[str, str]:
    """Every querylens_* name used anywhere, with one place it is used."""
    dash = _dashboard()
    used = {}
    for p, t in _targets(dash):
        for n in _metric_names(t["expr"]):
            used.setdefault(n, f"panel {p['title']!r}")
    for v in dash["templating"]["list"]:
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        for n in _metric_names(q):
            used.setdefault(n, f"variable {v['name']}")
    for r in _rules():
        for n in _metric_names(r["expr"]):
            used.setdefault(n, f"alert {r['alert']}")
    return used


def _grafana_expr(expr: str, instance_regex: str) -> str:
    out = (expr.replace("$__rate_interval", RATE_INTERVAL).replace("$__range", RANGE)
           .replace("$instance", instance_regex))
    assert "$" not in out, f"a variable this test does not know in {expr!r}"
    return out


def _assert_filtered_by_instance(title: str, expr: str):
    """Every querylens selector carries instance=~"$instance", so choosing an
    instance narrows every panel."""
    strings = [m.span() for m in _STRING_RE.finditer(expr)]
    for m in _SELECTOR_RE.finditer(expr):
        if any(a <= m.start() < b for a, b in strings):
            continue  # a label value, not a metric
        assert m.group(2) and 'instance=~"$instance"' in m.group(2), (
            f"panel {title!r}: {m.group(1)} not filtered by $instance in {expr!r}")


# ---------------------------------------------------------------------------
# Static checks


def test_dashboard_json_is_well_formed():
    dash = _dashboard()
    assert 36 <= dash["schemaVersion"] <= 41, dash["schemaVersion"]
    assert dash["uid"] and dash["title"]
    assert dash.get("id") is None  # importable into any Grafana
    assert [i["name"] for i in dash["__inputs"]] == ["DS_PROMETHEUS"]
    assert dash["__inputs"][0]["pluginId"] == "prometheus"
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    inst = variables["instance"]
    assert inst["type"] == "query" and inst["includeAll"] and inst["allValue"] == ".*"
    assert inst["datasource"]["uid"] == "${DS_PROMETHEUS}"

    panels = _panels(dash)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(ids)}"
    boxes = []
    for p in panels:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, (p["title"], g)
        for q, h in boxes:
            overlap = (g["x"] < h["x"] + h["w"] and h["x"] < g["x"] + g["w"]
                       and g["y"] < h["y"] + h["h"] and h["y"] < g["y"] + g["h"])
            assert not overlap, f"panels {q!r} and {p['title']!r} overlap"
        boxes.append((p["title"], g))
        if p["type"] == "row":
            continue
        assert p["title"], p
        assert p["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, p["title"]
        assert p.get("targets"), f"panel {p['title']!r} has no targets"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t.get("datasource", p["datasource"]) == p["datasource"], p["title"]
            assert t["expr"].strip(), p["title"]
            _assert_filtered_by_instance(p["title"], t["expr"])
    used = set().union(*(_metric_names(t["expr"]) for _, t in _targets(dash)))
    missing = DASHBOARD_MUST_USE - used
    assert not missing, f"the dashboard shows nothing of {sorted(missing)}"


def test_alert_rules_pass_promtool_and_are_complete():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus; scripts/setup.sh installs it)")
    cp = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True,
                        timeout=60)
    assert cp.returncode == 0, f"promtool check rules:\n{cp.stdout}\n{cp.stderr}"

    rules = _rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names)), names
    assert not ALERTS_MUST_HAVE - set(names), sorted(ALERTS_MUST_HAVE - set(names))
    for r in rules:
        assert "for" in r, f"{r['alert']}: no for:"
        assert r["labels"]["severity"] in SEVERITIES, r["alert"]
        for key in ("summary", "description"):
            assert len(r["annotations"].get(key, "").strip()) > 20, f"{r['alert']}: {key}"
    assert {r["labels"]["severity"] for r in rules if r["alert"] == "QuerylensNPlusOneFindings"} \
        == {"info"}


# ---------------------------------------------------------------------------
# The workload


def _setup_tables(ep, lab):
    run(ep, ["CREATE TABLE IF NOT EXISTS qld_parent (id INT PRIMARY KEY, name VARCHAR(20))",
             "CREATE TABLE IF NOT EXISTS qld_child (id INT PRIMARY KEY AUTO_INCREMENT, "
             "parent_id INT, label VARCHAR(20), KEY (parent_id))",
             "DELETE FROM qld_child", "DELETE FROM qld_parent"]
        + [f"INSERT INTO qld_parent VALUES ({i}, 'p{i}')" for i in range(1, 21)]
        + [f"INSERT INTO qld_child (parent_id, label) VALUES ({i}, 'c{i}')" for i in range(1, 21)])
    wait_replica_caught_up(lab)


def _round(ep, i: int, errors: bool = False):
    """Reads (the replica's), writes and a read after them, a transaction,
    a session pinned by a user variable; with errors=True also a syntax error
    and a duplicate key."""
    stmts = [f"SELECT id, name FROM qld_parent WHERE id = {i % 20 + 1}",
             "SELECT COUNT(*) FROM qld_child",
             f"UPDATE qld_parent SET name = 'r{i}' WHERE id = {i % 20 + 1}",
             f"SELECT name FROM qld_parent WHERE id = {i % 20 + 1}",
             "BEGIN", "SELECT id FROM qld_parent WHERE id = 1 FOR UPDATE",
             f"INSERT INTO qld_child (parent_id, label) VALUES (1, 'round{i}')", "COMMIT",
             f"SET @qld_round = {i}", "SELECT @qld_round"]
    if errors:
        stmts += ["SELEC 1", "INSERT INTO qld_parent VALUES (1, 'dup')"]
    results = run(ep, stmts)
    failed = [(s, r) for s, r in zip(stmts, results) if isinstance(r, Exception)]
    assert len(failed) == (2 if errors else 0), failed


def _n_plus_one(ep):
    """The textbook loop: one lookup per row of the parent query. The
    session's end closes its unit, which reports the finding."""
    conn = pymysql_connect(ep, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, name FROM qld_parent ORDER BY id")
            for (pid, _) in cur.fetchall():
                cur.execute("SELECT label FROM qld_child WHERE parent_id = %s", (pid,))
                cur.fetchall()
    finally:
        conn.close()


def _start_healthy(start_proxy, lab, tmp_path):
    ep, p = start_proxy(["--slow-log", str(tmp_path / "slow.log"), "--slow-query-time", "0"])
    _setup_tables(ep, lab)
    wait_replica_usable(p)
    return ep, p


# ---------------------------------------------------------------------------
# Against the real proxy


def test_every_used_metric_is_exported(start_proxy, lab, tmp_path):
    needs_proxy()
    ep, p = _start_healthy(start_proxy, lab, tmp_path)
    for i in range(3):
        _round(ep, i, errors=(i == 0))
    _n_plus_one(ep)

    def complete():
        _, s = scrape(p.admin_port)
        names = {x.name for x in s}
        found = sum(x.value for x in s if x.name == "querylens_n_plus_one_findings_total")
        return found >= 1 and "querylens_replication_lag_seconds" in names and (names, s)
    names, samples = wait_for(complete, timeout=20, interval=0.2,
                              what="the N+1 finding and the replica's lag in /metrics")
    text, _ = scrape(p.admin_port)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))

    used = _used_names()
    missing = {n: where for n, where in used.items() if n not in names}
    assert not missing, f"used but not in the proxy's /metrics: {missing}"
    for n, where in used.items():
        if n.endswith(_HISTOGRAM_SUFFIXES) and n not in types:
            base = n.rsplit("_", 1)[0]
            assert types.get(base) == "histogram", f"{n} ({where}): {base} is {types.get(base)}"
    # The workload reached the replica, so the replica series are real ones.
    routed = {(x.label("target"), x.label("reason")) for x in samples
              if x.name == "querylens_routing_decisions_total"}
    assert ("replica", "read") in routed, routed
    unused = sorted(set(types) - {n.rsplit("_", 1)[0] if n.endswith(_HISTOGRAM_SUFFIXES)
                                  and n not in types else n for n in used})
    print("families exported but used by neither the dashboard nor the alerts:", unused)


class _Workload:
    """Rounds through the proxy in a thread until stopped, so that rates are
    positive whenever the test queries them. The first round also fails
    twice and runs the N+1 loop."""

    def __init__(self, ep):
        self.ep = ep
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.rounds = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            _round(self.ep, 0, errors=True)
            _n_plus_one(self.ep)
            while not self.stop.is_set():
                self.rounds += 1
                _round(self.ep, self.rounds)
                self.stop.wait(0.05)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.errors.append(e)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)
        assert not self.errors, f"the workload failed: {self.errors!r}"


def _wait_rules_ok(prom, names: set[str]) -> list[dict]:
    def rules():
        return [r for g in prom.api("rules")["groups"] for r in g["rules"]]
    try:
        return wait_for(lambda: {r["name"] for r in rules()} == names
                        and all(r["health"] == "ok" for r in rules()) and rules(),
                        timeout=20, interval=0.5, what="every rule evaluated")
    except AssertionError:
        got = rules()
        bad = [(r["name"], r["health"], r.get("lastError")) for r in got if r["health"] != "ok"]
        raise AssertionError(f"rules loaded: {sorted(r['name'] for r in got)}; expected "
                             f"{sorted(names)}; not healthy: {bad}") from None


def _query_every_target(prom, instance: str) -> dict[tuple[str, str], list]:
    """Every dashboard target, $instance being what the variable's query
    offers; waits until each returns data. Returns the results by (panel
    title, refId)."""
    targets = [(pn["title"], t, _grafana_expr(t["expr"], instance))
               for pn, t in _targets(_dashboard())]
    results: dict[tuple[str, str], list] = {}
    empty: list[str] = []

    def answered():
        empty.clear()
        for title, t, expr in targets:
            res = prom.query(expr)  # asserts status "success"
            results[(title, t["refId"])] = res
            if not res:
                empty.append(f"{title} [{t['refId']}]: {expr}")
        return not empty
    try:
        wait_for(answered, timeout=20, interval=1, what="every dashboard query returning data")
    except AssertionError:
        raise AssertionError("dashboard queries without data:\n" + "\n".join(empty)) from None
    for title, t, _ in targets:
        wanted = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", "")))
        for series in results[(title, t["refId"])]:
            assert wanted <= set(series["metric"]), (
                f"{title}: legend {t['legendFormat']!r} names labels missing from {series}")
    return results


def _active_alerts(prom) -> list[dict]:
    return [a for a in prom.api("alerts")["alerts"] if a["state"] in ("pending", "firing")]


@pytest.mark.slow
def test_prometheus_evaluates_rules_and_dashboard_queries(start_proxy, lab, tmp_path):
    needs_proxy()
    ep, p = _start_healthy(start_proxy, lab, tmp_path)
    dead_primary, dead_replica = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    _, broken = start_proxy(["--primary", dead_primary, "--replica", dead_replica])
    healthy = f"127.0.0.1:{p.admin_port}"
    broken_instance = f"127.0.0.1:{broken.admin_port}"

    with PrometheusServer(tmp_path, [healthy, broken_instance], rule_files=[ALERTS]) as prom:
        wait_for(lambda: len(prom.query('up{job="querylens"} == 1')) == 2, timeout=30,
                 interval=0.3, what="both proxies scraped (up == 1)")
        # The workload starts after the first scrape, so its first counts
        # are increases that rate() and increase() see.
        with _Workload(ep) as workload:
            rules = _wait_rules_ok(prom, {r["alert"] for r in _rules()})
            assert all(r["type"] == "alerting" for r in rules)

            instances = prom.api("label/instance/values?"
                                 + urllib.parse.urlencode({"match[]": "querylens_build_info"}))
            assert sorted(instances) == sorted([healthy, broken_instance]), instances
            results = _query_every_target(prom, healthy)

            def panel(prefix):
                return next(v for (title, _), v in results.items() if title.startswith(prefix))

            # A series that first appeared after the workload started (replica
            # reads) has a rate only from its second scrape on: ask again
            # until it has one, rather than judging the first answer.
            rate_expr = next(_grafana_expr(t["expr"], healthy) for pn, t in _targets(_dashboard())
                             if pn["title"].startswith("Statements/s by role and class"))

            def both_rates():
                assert not workload.errors, f"the workload failed: {workload.errors!r}"
                seen = {(s["metric"]["role"], s["metric"]["class"])
                        for s in prom.query(rate_expr) if float(s["value"][1]) > 0}
                return {("replica", "read"), ("primary", "write")} <= seen and seen
            wait_for(both_rates, timeout=20, interval=0.5,
                     what="replica reads and primary writes in 'Statements/s by role and class'")
            top = panel("Top digests by total time")
            assert any("qld_parent" in s["metric"]["fingerprint"] for s in top), top

            # The healthy proxy raises only the N+1 alert; the broken one
            # raises primary-down and replica-down, and its dead replica is
            # not also reported as up-but-unusable.
            want = {("QuerylensNPlusOneFindings", healthy, None),
                    ("QuerylensPrimaryDown", broken_instance, dead_primary),
                    ("QuerylensReplicaDown", broken_instance, dead_replica)}

            def raised():
                active = _active_alerts(prom)
                keys = {(a["labels"]["alertname"], a["labels"].get("instance"),
                         a["labels"].get("backend")) for a in active}
                return want <= keys and active
            active = wait_for(raised, timeout=20, interval=0.5, what=f"the alerts {want}")

    assert {a["labels"]["alertname"] for a in active
            if a["labels"].get("instance") == healthy} == {"QuerylensNPlusOneFindings"}, active
    n1 = [a for a in active if a["labels"]["alertname"] == "QuerylensNPlusOneFindings"]
    assert {(a["labels"]["kind"], a["labels"]["severity"]) for a in n1} == \
        {("n_plus_one", "info")}, n1
    assert "n_plus_one" in n1[0]["annotations"]["summary"], n1
    assert not [a for a in active if a["labels"]["alertname"] == "QuerylensReplicaNotUsableForReads"
                and a["labels"].get("backend") == dead_replica], active
