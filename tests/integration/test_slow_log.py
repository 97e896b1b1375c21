"""The slow-query log of a real workload through the proxy, read by the real
pt-query-digest (Debian's percona-toolkit): its report agrees with
/api/digests on the top fingerprints and their counts, and, grouped by the
Digest attribute the proxy writes, on every digest's count. SIGHUP reopens
the file after rotation.

What the log shows as the statement is our fingerprint (literals masked);
pt-query-digest fingerprints it again, and its rules differ from ours in a
few documented ways (shared/research/profiling.md 2.1 and 7(b) case 10, and
the unit test tests/unit/analyzer_stats_slow_log_test.cc): it writes a
collapsed list as "in(?+)" / "values(?+)" without the space, folds
"limit ? offset ?" into "limit ?", and takes the sign of "a + ?" for part of
a number ("a ? ?"). _pt_form() applies exactly those differences to our text.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections import Counter

import pytest

from conftest import needs_proxy
from qladmin import admin_json, run, scrape, value, wait_for


def _pt_form(fingerprint: str) -> str:
    s = re.sub(r"\b(in|values) \(\?\+\)", r"\1(?+)", fingerprint)
    s = re.sub(r" limit \? offset \?", " limit ?", s)
    s = re.sub(r" [+-] \?", " ? ?", s)
    return s


def _pt_query_digest(path, *extra) -> dict:
    pt = shutil.which("pt-query-digest")
    if pt is None:
        pytest.skip("pt-query-digest not installed (Debian package percona-toolkit; "
                    "scripts/setup.sh installs it)")
    cp = subprocess.run([pt, "--output", "json", "--limit", "100000", *extra, str(path)],
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, f"pt-query-digest failed ({cp.returncode}): {cp.stderr}"
    out = cp.stdout
    return json.loads(out[out.index("{"):])


def _wait_logged(p, expected_total):
    """Waits until the writer thread has written every statement."""
    def written():
        _, s = scrape(p.admin_port)
        assert value(s, "querylens_slow_log_dropped_total") == 0
        return value(s, "querylens_slow_log_entries_total") >= expected_total
    wait_for(written, timeout=30, what=f"{expected_total} slow-log entries written")


def _workload(ep) -> list[str]:
    """Runs the workload; returns its distinctive string values (zq_<random>_...),
    which the log must not show without --log-literals."""
    tag = secrets.token_hex(4)
    values = []

    def lit(name):
        values.append(f"zq_{tag}_{name}")
        return values[-1]
    run(ep, ["CREATE TABLE IF NOT EXISTS qlm_slow (id INT PRIMARY KEY, a INT, b VARCHAR(40))",
             "DELETE FROM qlm_slow"])
    stmts = []
    stmts += [f"INSERT INTO qlm_slow (id, a, b) VALUES ({i}, {i % 7}, '{lit(f'b{i}')}')"
              for i in range(40)]
    stmts += [f"SELECT * FROM qlm_slow WHERE id = {i}" for i in range(30)]
    stmts += [f"SELECT a FROM qlm_slow WHERE id IN ({i}, {i + 1}, {i + 2})" for i in range(12)]
    stmts += [f"INSERT INTO qlm_slow (id, a, b) VALUES ({100 + 2 * i}, 1, '{lit(f'x{i}')}'), "
              f"({101 + 2 * i}, 2, '{lit(f'y{i}')}')" for i in range(9)]
    stmts += [f"SELECT id FROM qlm_slow ORDER BY id LIMIT 5 OFFSET {i}" for i in range(6)]
    stmts += [f"UPDATE qlm_slow SET a = a + 1 WHERE id = {i}" for i in range(15)]
    stmts += ["SELECT SLEEP(0.01)"] * 5
    stmts += [f"SELECT COUNT(*) FROM qlm_slow WHERE b = '{lit(f'c{i}')}'" for i in range(8)]
    stmts += [f"SELEC '{lit(f'e{i}')}'" for i in range(2)]  # errors are logged too
    run(ep, stmts)
    run(ep, ["SELECT 1"] * 3, db="qlm_slow_db")
    return values


def test_pt_query_digest_agrees_with_api_digests(start_proxy, tmp_path, lab):
    needs_proxy()
    log = tmp_path / "slow.log"
    ep, p = start_proxy(["--slow-log", str(log), "--slow-query-time", "0"])
    run(ep, ["CREATE DATABASE IF NOT EXISTS qlm_slow_db"])
    values = _workload(ep)
    digests = admin_json(p.admin_port, "/api/digests?order=count&limit=10000")["digests"]
    total = sum(d["count"] for d in digests)
    _wait_logged(p, total)

    # 1. By pt's own fingerprint: the top fingerprints and their counts.
    report = _pt_query_digest(log)
    assert report["global"]["query_count"] == total, (report["global"]["query_count"], total)
    pt_counts = {c["fingerprint"]: int(c["query_count"]) for c in report["classes"]}
    ours = Counter()
    for d in digests:
        ours[_pt_form(d["fingerprint"])] += d["count"]
    top = ours.most_common(10)
    print("top fingerprints:", top)
    for fingerprint, count in top:
        assert fingerprint in pt_counts, (
            f"pt-query-digest has no class {fingerprint!r}; it has {sorted(pt_counts)}")
        assert pt_counts[fingerprint] == count, (fingerprint, pt_counts[fingerprint], count)
    # The workload's own shapes, with pt's spelling of them.
    assert pt_counts.get("select * from qlm_slow where id = ?") == 30
    assert pt_counts.get("select a from qlm_slow where id in(?+)") == 12
    assert pt_counts.get("update qlm_slow set a = a ? ? where id = ?") == 15
    assert pt_counts.get("insert into qlm_slow(id, a, b) values(?+)") == 49  # 1 and 2 rows
    assert pt_counts.get("select id from qlm_slow order by id limit ?") == 6
    # Every class of pt's report is one of ours: nothing was lost or split.
    assert sum(pt_counts.values()) == total
    assert set(pt_counts) == set(ours), set(pt_counts) ^ set(ours)
    for fingerprint, count in ours.items():
        assert pt_counts[fingerprint] == count, fingerprint

    # 2. Grouped by the Digest attribute: exactly our digests and counts.
    by_digest = _pt_query_digest(log, "--group-by", "Digest")
    pt_digests = {c["fingerprint"]: int(c["query_count"]) for c in by_digest["classes"]}
    our_digests = Counter()
    for d in digests:
        our_digests["0x" + d["digest"]] += d["count"]
    assert pt_digests == dict(our_digests)

    # The schemas the log names are the ones the API reports.
    text = log.read_text()
    assert "use qlm_slow_db;" in text and "use app;" in text
    # Without --log-literals none of the workload's values is in the log
    # (test_log_literals_writes_the_values shows that they would be seen).
    leaked = [v for v in values if v in text]
    assert not leaked, leaked
    assert "where b = ?" in text


def test_log_literals_writes_the_values(start_proxy, tmp_path):
    """With --log-literals the statements are logged as sent: every value
    of the workload is in the file, and pt-query-digest, fingerprinting the
    literal text itself, finds the same statement shapes and counts."""
    needs_proxy()
    log = tmp_path / "slow.log"
    ep, p = start_proxy(["--slow-log", str(log), "--slow-query-time", "0", "--log-literals"])
    run(ep, ["CREATE DATABASE IF NOT EXISTS qlm_slow_db"])
    values = _workload(ep)
    digests = admin_json(p.admin_port, "/api/digests?order=count&limit=10000")["digests"]
    total = sum(d["count"] for d in digests)
    _wait_logged(p, total)
    text = log.read_text()
    missing = [v for v in values if v not in text]
    assert not missing, missing
    assert "WHERE b = 'zq_" in text
    report = _pt_query_digest(log)
    assert report["global"]["query_count"] == total
    pt_counts = {c["fingerprint"]: int(c["query_count"]) for c in report["classes"]}
    assert pt_counts.get("select * from qlm_slow where id = ?") == 30
    assert pt_counts.get("select a from qlm_slow where id in(?+)") == 12
    # pt keeps the space before a column list that our fingerprint drops.
    assert pt_counts.get("insert into qlm_slow (id, a, b) values(?+)") == 49
    assert pt_counts.get("select count(*) from qlm_slow where b = ?") == 8


def test_sighup_reopens_the_slow_log(start_proxy, tmp_path):
    needs_proxy()
    log = tmp_path / "slow.log"
    rotated = tmp_path / "slow.log.1"
    ep, p = start_proxy(["--slow-log", str(log), "--slow-query-time", "0"])
    run(ep, ["SELECT 1 AS qlm_before_rotate"] * 3)
    wait_for(lambda: log.exists() and "qlm_before_rotate" in log.read_text(),
             what="the first statements in the slow log")
    os.rename(log, rotated)
    # Still open on the renamed file until SIGHUP.
    run(ep, ["SELECT 1 AS qlm_between"])
    wait_for(lambda: "qlm_between" in rotated.read_text(), what="writes to the renamed file")
    assert not log.exists()
    os.kill(p.proc.pid, signal.SIGHUP)
    wait_for(lambda: "SIGHUP" in p.log_path.read_text(errors="replace"),
             what="the proxy logging the SIGHUP")
    time.sleep(0.2)  # the log line comes just before the reopen request
    # The reopen happens before the next write: statements after the signal
    # land in a new file at the configured path.
    run(ep, ["SELECT 1 AS qlm_after_rotate"] * 2)
    wait_for(lambda: log.exists() and log.read_text().count("qlm_after_rotate") == 2,
             what="statements after SIGHUP in a new file")
    new_text = log.read_text()
    old_text = rotated.read_text()
    assert "qlm_before_rotate" in old_text and "qlm_after_rotate" not in old_text
    assert "qlm_before_rotate" not in new_text
    # The new file starts like a fresh log: pt-query-digest reads it alone.
    report = _pt_query_digest(log)
    fps = {c["fingerprint"]: int(c["query_count"]) for c in report["classes"]}
    assert fps.get("select ? as qlm_after_rotate") == 2, fps
    assert p.alive()
    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_slow_log_entries_total") >= 6
