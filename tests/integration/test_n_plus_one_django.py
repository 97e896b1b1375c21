"""The N+1 detector end to end, with a real Django app: the test shop in
tests/django_project serves pages through Django's test client
(`manage.py n1_requests`), its queries go through a proxy started with
`--log-format json`, and the findings are read from /api/n_plus_one, the
proxy's JSON log and /metrics.

The pages (shop/views.py): /products/ reads product.category.name per
product without select_related (30 lookups of shop_category), /orders/
reads order.items.all() per order without prefetch_related (10 lookups of
shop_orderitem); /products-fast/ and /orders-fast/ are the fixed forms. A
sqlcommenter middleware (shop/sqlcommenter.py) tags every statement with
the request's route, controller, framework and a fresh traceparent, so each
request is its own unit of work and each finding names its route.

The data (5 categories, 30 products, 10 orders of 3 items) is migrated and
seeded directly on the primary, so that only the pages' statements pass
through the proxy; the tests wait until the replica has it, because the
proxy sends the pages' reads there.

Findings are reported when a unit closes (next request, idle gap, end of
the session), so the tests poll with a deadline. Where a test asserts that
something was NOT reported, the same run ends with a slow page whose finding
must appear: the detector evaluated the earlier units of that session
before it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from qladmin import http_get, scrape, select
from qlhelpers import REPO, mysqldb_connect, run
from conftest import QUERYLENS_BIN

pytest.importorskip("django")

PROJECT = REPO / "tests" / "django_project"
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
SETTINGS = "shopsite.settings_n1"
FRAMEWORK_PREFIX = "django:"
JSON_LOG = ["--log-format", "json"]
DEADLINE = 10  # seconds to wait for a finding after the driver finished
QUIET = 1.5    # seconds after the driver finished before "nothing was reported" counts

# What n1_seed creates (shop/management/commands/n1_seed.py).
PRODUCTS, CATEGORIES, ORDERS, ITEMS_PER_ORDER = 30, 5, 10, 3
DETAIL_REQUESTS = 12  # one product page per request; distinct from 30 and 10 on purpose


# ---------------------------------------------------------------------------
# The Django side


def _env(host: str, port: int, db: str, **extra) -> dict:
    env = dict(os.environ, QL_DJANGO_HOST=host, QL_DJANGO_PORT=str(port),
               QL_DJANGO_USER="app", QL_DJANGO_PASSWORD="app_pass", QL_DJANGO_NAME=db,
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def _manage(env: dict, *args: str, timeout: float = 120):
    cp = run([PYTHON, "manage.py", *args], timeout=timeout, cwd=PROJECT, env=env,
             stdin=subprocess.DEVNULL)
    out = (f"$ manage.py {' '.join(args)} (exit {cp.returncode})\n"
           f"--- stdout ---\n{cp.stdout[-6000:]}\n--- stderr ---\n{cp.stderr[-6000:]}")
    assert cp.returncode == 0, out
    return cp


@pytest.fixture(scope="module")
def shop_db(lab, direct):
    """A fresh database with the seeded shop, on the primary and the replica."""
    db = f"ql_n1_shop_{direct.port}_{os.getpid()}"
    conn = mysqldb_connect(direct, db=None)
    cur = conn.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {db}")
    cur.execute(f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
    try:
        cp = _manage(_env(direct.host, direct.port, db), "n1_seed")
        assert json.loads(cp.stdout) == {"categories": CATEGORIES, "products": PRODUCTS,
                                         "orders": ORDERS, "items": ORDERS * ITEMS_PER_ORDER}
        _wait_replica_has_shop(lab.replica, db)
        yield db
    finally:
        cur.execute(f"DROP DATABASE IF EXISTS {db}")
        conn.close()


def _wait_replica_has_shop(replica, db, timeout: float = 30):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            rconn = mysqldb_connect(replica, db=db)
            try:
                rcur = rconn.cursor()
                rcur.execute("SELECT (SELECT COUNT(*) FROM shop_product), "
                             "(SELECT COUNT(*) FROM shop_orderitem)")
                last = rcur.fetchone()
                if last == (PRODUCTS, ORDERS * ITEMS_PER_ORDER):
                    return
            finally:
                rconn.close()
        except Exception as e:  # noqa: BLE001 - schema not replicated yet
            last = e
        time.sleep(0.2)
    raise AssertionError(f"the replica did not catch up with the seeded shop: {last!r}")


def drive(ep, db: str, paths, sleep: float = 0.0, commenter: bool = True) -> list[dict]:
    """Requests `paths` in one Django process over one database connection
    to `ep`; returns the per-request reports of n1_requests (status,
    traceparent, queries, sql as sent, body)."""
    env = _env(ep.host, ep.port, db, QL_SHOP_SQLCOMMENTER="1" if commenter else "0")
    cp = _manage(env, "n1_requests", "--settings", SETTINGS, "--sleep", str(sleep), *paths)
    reqs = json.loads(cp.stdout)["requests"]
    assert [r["path"] for r in reqs] == list(paths)
    for r in reqs:
        if commenter:
            # Every statement of the request carries the request's comment.
            assert r["traceparent"] and len(r["traceparent"]) == 55, r
            for sql in r["sql"]:
                assert sql.endswith(f"traceparent='{r['traceparent']}'*/"), sql
                assert "route='" in sql and "controller='" in sql, sql
        else:
            assert all("/*" not in sql for sql in r["sql"]), r["sql"]
    return reqs


def _trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]


# ---------------------------------------------------------------------------
# The proxy side


def _findings(proc) -> list[dict]:
    r = http_get(proc.admin_port, "/api/n_plus_one")
    assert r.status == 200, (f"GET /api/n_plus_one on the admin port: {r.status} {r.body[:500]} "
                             f"(is the N+1 detector wired into this querylens build?)")
    assert r.content_type.startswith("application/json"), r.content_type
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("findings"), list), body
    for f in body["findings"]:
        assert f.get("event") == "n_plus_one", f
    return body["findings"]


def wait_finding(proc, what: str, **match) -> tuple[dict, list[dict]]:
    """Polls /api/n_plus_one until a finding has all the `match` values;
    returns it and every finding seen in that poll."""
    deadline = time.monotonic() + DEADLINE
    seen: list[dict] = []
    while True:
        seen = _findings(proc)
        hits = [f for f in seen if all(f.get(k) == v for k, v in match.items())]
        if hits:
            return hits[0], seen
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    pytest.fail(f"no finding {what} ({match}) within {DEADLINE}s; findings:\n"
                f"{json.dumps(seen, indent=1)[:6000]}\n--- proxy log ---\n{proc.log_tail(30)}")


def _log_findings(proc) -> list[dict]:
    """The n_plus_one objects in the proxy's JSON log, whether a line is the
    finding itself (merged with the logger's ts/level), carries it under a
    key, or as a JSON text in its msg."""
    out = []
    for line in proc.log_path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        candidates = [obj] + [v for v in obj.values() if isinstance(v, dict)]
        msg = obj.get("msg")
        if isinstance(msg, str) and msg.startswith("{"):
            try:
                candidates.append(json.loads(msg))
            except ValueError:
                pass
        candidates = [c for c in candidates if isinstance(c, dict)]
        out += [c for c in candidates if c.get("event") == "n_plus_one" and "kind" in c]
    return out


def wait_logged(proc, finding: dict) -> dict:
    keys = ("kind", "fingerprint_id", "trace_id", "route", "count", "suggestion")
    want = {k: finding[k] for k in keys}
    deadline = time.monotonic() + DEADLINE
    logged: list[dict] = []
    while time.monotonic() < deadline:
        logged = _log_findings(proc)
        for f in logged:
            if all(f.get(k) == v for k, v in want.items()):
                return f
        time.sleep(0.1)
    pytest.fail(f"the proxy's JSON log has no line for the finding {want}; n_plus_one objects "
                f"in the log: {logged}\n--- log tail ---\n{proc.log_tail(30)}")


def _finding_metric(proc, **labels) -> float:
    samples = scrape(proc.admin_port)[1]
    return sum(s.value for s in select(samples, "querylens_n_plus_one_findings_total", **labels))


def _check_call_site(f: dict, req: dict, route: str, controller: str, db: str):
    assert f["route"] == route, f
    assert f["controller"] == controller, f
    assert f["framework"].startswith(FRAMEWORK_PREFIX), f
    assert f["traceparent"] == req["traceparent"], f
    assert f["trace_id"] == _trace_id(req["traceparent"]), f
    assert f["schema"] == db and f["user"] == "app", f


# ---------------------------------------------------------------------------
# Slow pages are reported, with the fix


def test_products_without_select_related_reported(start_proxy, shop_db):
    ep, proc = start_proxy(JSON_LOG)
    [req] = drive(ep, shop_db, ["/products/"])
    # The Django side really runs the N+1: one product query, one category
    # query per product.
    assert req["queries"] == 1 + PRODUCTS, req["sql"]
    assert len(req["body"]["products"]) == PRODUCTS

    f, _ = wait_finding(proc, "for products/", kind="n_plus_one", route="products/")
    _check_call_site(f, req, "products/", "product_list", shop_db)
    assert "select_related('category')" in f["suggestion"], f["suggestion"]
    assert f["count"] == PRODUCTS and f["distinct_values"] == CATEGORIES, f
    assert "shop_category" in f["fingerprint"] and f["tables"] == ["shop_category"], f
    assert "shop_product" in f["parent_fingerprint"] and f["parent_rows"] == PRODUCTS, f
    assert f["confidence"] == "high", f
    assert f["fingerprint_id"] and f["parent_id"] and f["fingerprint_id"] != f["parent_id"], f
    # Comments are not part of the fingerprint.
    assert "/*" not in f["fingerprint"] and "traceparent" not in f["fingerprint"], f

    logged = wait_logged(proc, f)
    assert logged["parent_id"] == f["parent_id"] and logged["controller"] == "product_list"
    assert _finding_metric(proc, kind="n_plus_one", confidence="high") >= 1


def test_orders_without_prefetch_related_reported(start_proxy, shop_db):
    ep, proc = start_proxy(JSON_LOG)
    [req] = drive(ep, shop_db, ["/orders/"])
    assert req["queries"] == 1 + ORDERS, req["sql"]
    assert [len(o["items"]) for o in req["body"]["orders"]] == [ITEMS_PER_ORDER] * ORDERS

    f, _ = wait_finding(proc, "for orders/", kind="n_plus_one", route="orders/")
    _check_call_site(f, req, "orders/", "order_list", shop_db)
    s = f["suggestion"]
    # The proxy sees SQL only: it names the reverse relation by Django's
    # default accessor (the model sets related_name="items", and the text
    # says to use the related_name when there is one).
    assert "prefetch_related(" in s, s
    assert "prefetch_related('orderitem_set')" in s or "prefetch_related('items')" in s, s
    assert "shop_order" in s, s
    assert f["count"] == ORDERS and f["distinct_values"] == ORDERS, f
    assert "shop_orderitem" in f["fingerprint"] and "order_id" in f["fingerprint"], f
    assert "shop_order" in f["parent_fingerprint"] and f["parent_rows"] == ORDERS, f
    assert f["confidence"] == "high", f
    wait_logged(proc, f)


# ---------------------------------------------------------------------------
# What must not be reported


def test_fixed_pages_not_reported(start_proxy, shop_db):
    ep, proc = start_proxy(JSON_LOG)
    reqs = drive(ep, shop_db, ["/products-fast/", "/orders-fast/", "/products/"])
    fast_products, fast_orders, slow = reqs
    assert fast_products["queries"] == 1, fast_products["sql"]
    assert " JOIN `shop_category`" in fast_products["sql"][0]
    assert len(fast_products["body"]["products"]) == PRODUCTS
    assert fast_orders["queries"] == 2, fast_orders["sql"]
    assert " IN (" in fast_orders["sql"][1]
    assert sum(len(o["items"]) for o in fast_orders["body"]["orders"]) == ORDERS * ITEMS_PER_ORDER

    # The last page's finding: the units before it were evaluated.
    _, seen = wait_finding(proc, "for the slow page after the fast ones", kind="n_plus_one",
                           route="products/", trace_id=_trace_id(slow["traceparent"]))
    time.sleep(QUIET)
    seen = _findings(proc)
    fast_traces = {_trace_id(r["traceparent"]) for r in (fast_products, fast_orders)}
    wrong = [f for f in seen if f.get("route") in ("products-fast/", "orders-fast/")
             or f.get("trace_id") in fast_traces]
    assert not wrong, json.dumps(wrong, indent=1)


def test_one_lookup_per_request_is_not_a_loop(start_proxy, shop_db):
    """A client looping over products with one request each, on one
    persistent connection and without pauses: each request has its own
    traceparent, so each is its own unit with one category lookup."""
    ep, proc = start_proxy(JSON_LOG)
    paths = [f"/products/product-{i:02d}/" for i in range(DETAIL_REQUESTS)]
    reqs = drive(ep, shop_db, [*paths, "/products/"])
    for r in reqs[:-1]:
        assert r["queries"] == 2, r["sql"]
    assert len({_trace_id(r["traceparent"]) for r in reqs}) == len(reqs)

    wait_finding(proc, "for the slow page after the loop", kind="n_plus_one",
                 route="products/", trace_id=_trace_id(reqs[-1]["traceparent"]))
    time.sleep(QUIET)
    seen = _findings(proc)
    loop_traces = {_trace_id(r["traceparent"]) for r in reqs[:-1]}
    wrong = [f for f in seen if f.get("route") == "products/<slug:slug>/"
             or f.get("trace_id") in loop_traces or f.get("count") == DETAIL_REQUESTS]
    assert not wrong, json.dumps(wrong, indent=1)


def _untagged_loop_findings(seen: list[dict]) -> list[dict]:
    """Findings that could only come from DETAIL_REQUESTS product pages
    merged into one unit: the product-by-slug lookup, or DETAIL_REQUESTS
    repeats (the slow list page repeats its lookup PRODUCTS times)."""
    return [f for f in seen
            if f.get("count") == DETAIL_REQUESTS
            or "shop_product.slug = ?" in (f.get("fingerprint") or "")]


@pytest.mark.slow
def test_requests_apart_by_idle_gap_are_not_a_loop(start_proxy, shop_db):
    """The same loop without sqlcommenter comments: requests 0.7 s apart
    (more than the 0.5 s idle gap) are separate units."""
    ep, proc = start_proxy(JSON_LOG)
    paths = [f"/products/product-{i:02d}/" for i in range(DETAIL_REQUESTS)]
    reqs = drive(ep, shop_db, [*paths, "/products/"], sleep=0.7, commenter=False)
    assert [r["queries"] for r in reqs] == [2] * DETAIL_REQUESTS + [1 + PRODUCTS]

    # The list page's finding (no route: nothing tagged it).
    f, _ = wait_finding(proc, "for the untagged slow page", kind="n_plus_one", count=PRODUCTS)
    assert f["route"] is None and f["traceparent"] is None, f
    time.sleep(QUIET)
    wrong = _untagged_loop_findings(_findings(proc))
    assert not wrong, json.dumps(wrong, indent=1)


def test_control_requests_within_idle_gap_form_one_loop(start_proxy, shop_db):
    """Control for the two tests above: the same untagged requests, back to
    back, with an idle gap they never reach, are one unit, and the detector
    reports the loop. So the absence of findings above comes from the unit
    boundaries, not from a detector that does not see these statements."""
    ep, proc = start_proxy([*JSON_LOG, "--n-plus-one-unit-idle-gap", "5"])
    paths = [f"/products/product-{i:02d}/" for i in range(DETAIL_REQUESTS)]
    drive(ep, shop_db, paths, commenter=False)
    deadline = time.monotonic() + DEADLINE
    seen = []
    while time.monotonic() < deadline and not _untagged_loop_findings(seen):
        seen = _findings(proc)
        time.sleep(0.1)
    hits = _untagged_loop_findings(seen)
    assert any(f["kind"] in ("n_plus_one", "repeated_cycle") for f in hits), \
        json.dumps(seen, indent=1)[:6000]


# ---------------------------------------------------------------------------
# The test can fail: with the detector off, the slow page yields nothing


def test_detector_off_reports_nothing(start_proxy, shop_db):
    help_text = subprocess.run([QUERYLENS_BIN, "--help"], capture_output=True, text=True,
                               timeout=30, stdin=subprocess.DEVNULL)
    if "--n-plus-one" not in help_text.stdout + help_text.stderr:
        pytest.skip("this querylens build has no --n-plus-one flag")
    ep, proc = start_proxy([*JSON_LOG, "--n-plus-one", "off"])
    [req] = drive(ep, shop_db, ["/products/"])
    assert req["queries"] == 1 + PRODUCTS
    time.sleep(QUIET)
    r = http_get(proc.admin_port, "/api/n_plus_one")
    if r.status == 200:
        assert r.json()["findings"] == [], r.body
    else:
        assert r.status == 404, (r.status, r.body)
    assert _log_findings(proc) == []
    assert _finding_metric(proc) == 0
