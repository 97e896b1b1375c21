"""The Django project in tests/django_project run through the proxy: its own
test suite (`manage.py test`, which creates, migrates, uses and drops a test
database), and `migrate` plus `check` against a fresh database. The suite
also runs directly against the primary, so a failure only through the proxy
points at the proxy."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from qladmin import scrape, value
from qlhelpers import REPO, mysqldb_connect, run

pytest.importorskip("django")

PROJECT = REPO / "tests" / "django_project"
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
SUITE_TIMEOUT = 240  # seconds for one `manage.py test`; it takes a few seconds normally


def _expected_tests() -> list[str]:
    """Names of the test methods in shop/tests.py, so that the expected count
    follows the suite when tests are added."""
    src = (PROJECT / "shop" / "tests.py").read_text()
    return re.findall(r"^    def (test_\w+)\(", src, re.M)


def _env(ep, **extra) -> dict:
    env = dict(os.environ, QL_DJANGO_HOST=ep.host, QL_DJANGO_PORT=str(ep.port),
               QL_DJANGO_USER="app", QL_DJANGO_PASSWORD="app_pass", QL_DJANGO_NAME="app",
               PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _manage(ep, *args, timeout=SUITE_TIMEOUT, **env):
    cp = run([PYTHON, "manage.py", *args], timeout=timeout, cwd=PROJECT, env=_env(ep, **env),
             stdin=subprocess.DEVNULL)
    return cp, f"$ manage.py {' '.join(args)} (exit {cp.returncode})\n" \
               f"--- stdout ---\n{cp.stdout}\n--- stderr ---\n{cp.stderr}"


def _databases(direct) -> set[str]:
    conn = mysqldb_connect(direct, db=None)
    try:
        cur = conn.cursor()
        cur.execute("SHOW DATABASES")
        return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def _statements(proxy_process) -> float:
    if proxy_process is None:
        return 0.0
    return value(scrape(proxy_process.admin_port)[1], "querylens_statements_total")


@pytest.fixture(params=["direct", "proxy"])
def target(request, direct, proxy, proxy_process):
    """The suite's server: the primary itself, then the proxy."""
    if request.param == "direct":
        return direct, None
    return proxy, proxy_process


@pytest.mark.slow
def test_shop_suite(target, direct):
    ep, proc = target
    # Unique per endpoint and per pytest process: runs in parallel cannot collide.
    test_db = f"test_shop_{ep.port}_{os.getpid()}"
    expected = _expected_tests()
    assert len(expected) >= 20, expected
    before = _statements(proc)
    cp, out = _manage(ep, "test", "--noinput", "-v", "2", QL_DJANGO_TEST_NAME=test_db)
    assert cp.returncode == 0, out
    # unittest reports on stderr: one "... ok" line per test, then the summary.
    for name in expected:
        assert re.search(rf"^{name} \(shop\.tests\.\w+(\.{name})?\) \.\.\. ok$", cp.stderr,
                         re.M), f"{name} not reported ok\n{out}"
    assert re.search(rf"^Ran {len(expected)} tests? in [0-9.]+s\n\nOK\s*$", cp.stderr, re.M), out
    assert f"Creating test database for alias 'default' ('{test_db}')" in cp.stderr, out
    assert f"Destroying test database for alias 'default' ('{test_db}')" in cp.stderr, out
    assert test_db not in _databases(direct), "the test run left its database behind"
    if proc is not None:
        # Migrations plus 30-odd tests: hundreds of statements went through the proxy.
        assert _statements(proc) - before >= 200, out


@pytest.mark.slow
def test_migrate_then_check_on_fresh_database(target, direct):
    ep, _ = target
    db = f"ql_django_migrate_{ep.port}_{os.getpid()}"
    conn = mysqldb_connect(ep, db=None)
    try:
        cur = conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS {db}")
        cur.execute(f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
        try:
            cp, out = _manage(ep, "migrate", "--noinput", "-v", "1", QL_DJANGO_NAME=db)
            assert cp.returncode == 0, out
            assert "Applying shop.0001_initial... OK" in cp.stdout, out
            # A second migrate has nothing to do; --check agrees.
            cp, out = _manage(ep, "migrate", "--noinput", "--check", QL_DJANGO_NAME=db)
            assert cp.returncode == 0, out
            cp, out = _manage(ep, "showmigrations", "shop", QL_DJANGO_NAME=db)
            assert cp.returncode == 0 and "[X] 0001_initial" in cp.stdout, out
            cp, out = _manage(ep, "check", "--database", "default", QL_DJANGO_NAME=db)
            assert cp.returncode == 0, out
            assert "System check identified no issues" in cp.stdout, out
            # The schema is really there, seen on the primary itself.
            dconn = mysqldb_connect(direct, db=db)
            try:
                dcur = dconn.cursor()
                dcur.execute("SELECT table_name FROM information_schema.tables "
                             "WHERE table_schema = %s AND table_name LIKE 'shop\\_%%' "
                             "ORDER BY table_name", (db,))
                assert [r[0] for r in dcur.fetchall()] == [
                    "shop_category", "shop_order", "shop_orderitem", "shop_product"]
                dcur.execute("SELECT app, name FROM django_migrations WHERE app = 'shop'")
                assert dcur.fetchall() == (("shop", "0001_initial"),)
            finally:
                dconn.close()
        finally:
            cur.execute(f"DROP DATABASE IF EXISTS {db}")
    finally:
        conn.close()
