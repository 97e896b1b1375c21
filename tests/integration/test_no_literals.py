"""No literal value of the workload reaches the proxy's own outputs unless
--log-literals is given: the slow log (--slow-query-time 0, so every
statement is in it), the proxy's log at --log-level debug as text and as
JSON, /metrics, /api/digests, /api/sessions (also while statements run),
/api/n_plus_one and /api/backends.

The values are distinctive and new for every run: zq_secret_<random>_<form>
strings, random 15-digit integers, a random date and random bits. They sit in
text statements of many literal forms (quoting, escapes, hex, bit and date
literals, charset introducers, IN lists, LIKE, LIMIT/OFFSET, comments,
executable comments, an optimizer hint, a multi-statement text, text
PREPARE/EXECUTE, user variables, PyMySQL's interpolated parameters,
unterminated strings and comments, errors the server answers by quoting the
value back) and are bound as parameters of
server-side prepared statements (clients/qlbind.c, libmariadb). N+1-looking
loops of both kinds give /api/n_plus_one findings to look at.

Positive controls, so that the checks can fail: with --log-literals every
value of the text statements is in the slow log, and the bound values did
reach the server (the rows are in the table, the prepared N+1 loop counted
12 distinct value sets).

The session's sql_mode (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) changes where a
string ends; the fingerprint follows it, so a value is never printed as a
name. With --log-literals, /api/digests carries an example as sent.
"""
from __future__ import annotations

import json
import random
import secrets
import threading
import time

import pymysql.constants.CLIENT as PYMYSQL_CLIENT
import pytest

from conftest import needs_proxy
from qladmin import admin_json, http_get, run, scrape, value, wait_for
from qlhelpers import build_qlbind, pymysql_connect, run_qlbind
from qlservers import root_query

IDLE_GAP = 0.3  # N+1 units end after this much idle time
LOOP = 12       # repeats of each N+1-looking loop
PREPARED_LOOP = "select s as bound_s from qlm_secret_n1 where id = ? and s <> ?"


@pytest.fixture(scope="module")
def qlbind(tmp_path_factory) -> str:
    return build_qlbind(tmp_path_factory.mktemp("qlbind"))


class Values:
    """Distinctive literal values, new for every instance. `text` holds the
    ones written into statement text, `bound` the ones only ever bound as
    prepared-statement parameters."""

    def __init__(self):
        self.tag = secrets.token_hex(4)
        self.rng = random.Random(secrets.randbits(64))
        self.text: dict[str, str] = {}
        self.bound: dict[str, str] = {}

    def _keep(self, name, v, bound):
        where = self.bound if bound else self.text
        assert name not in where, name
        where[name] = v
        return v

    def s(self, name: str, bound: bool = False) -> str:
        return self._keep(name, f"zq_secret_{self.tag}_{name}", bound)

    def n(self, name: str, bound: bool = False) -> str:
        return self._keep(name, str(self.rng.randrange(10 ** 14, 10 ** 15)), bound)

    def hex(self, name: str) -> str:
        return self._keep(name, f"zq_secret_{self.tag}_{name}".encode().hex().upper(), False)

    def bits(self, name: str) -> str:
        return self._keep(name, "1" + "".join(self.rng.choice("01") for _ in range(47)), False)

    def date(self, name: str) -> str:
        r = self.rng
        return self._keep(name, f"{r.randrange(2200, 2900)}-{r.randrange(1, 13):02d}-"
                                f"{r.randrange(10, 29):02d}", False)

    def all(self) -> dict[str, str]:
        return {**self.text, **self.bound}


SETUP = [
    "CREATE TABLE IF NOT EXISTS qlm_secret (id BIGINT PRIMARY KEY, s VARCHAR(128), n BIGINT, "
    "d DECIMAL(20,2))",
    "DELETE FROM qlm_secret",
    "CREATE TABLE IF NOT EXISTS qlm_secret_n1 (id INT PRIMARY KEY, s VARCHAR(128))",
    "DELETE FROM qlm_secret_n1",
    "INSERT INTO qlm_secret_n1 VALUES " + ", ".join(f"({i}, 'row')" for i in range(1, LOOP + 1)),
]


def _text_statements(v: Values) -> list[tuple[str, tuple | None]]:
    """Text statements with the values in many literal forms; (sql, args)
    where args are PyMySQL's client-side interpolated parameters."""
    long_in = ", ".join(f"'filler{i}'" for i in range(40))
    stmts = [
        f"INSERT INTO qlm_secret (id, s, n) VALUES (1, '{v.s('sq')}', {v.n('int')}), "
        f"(2, \"{v.s('dq')}\", -{v.n('neg')})",
        f"INSERT INTO qlm_secret SET id = 3, s = '{v.s('set')}', n = {v.n('set_n')}, "
        f"d = {v.n('dec')}.25",
        f"SELECT * FROM qlm_secret WHERE s = '{v.s('eq')}' AND n = {v.n('eq_n')}",
        f"SELECT id FROM qlm_secret WHERE s IN ('{v.s('in1')}', '{v.s('in2')}') "
        f"OR n IN ({v.n('in_n1')}, -{v.n('in_n2')})",
        f"SELECT id FROM qlm_secret WHERE s IN ({long_in}, '{v.s('long_in')}')",
        f"SELECT id FROM qlm_secret WHERE s LIKE '{v.s('like')}%'",
        f"UPDATE qlm_secret SET s = '{v.s('upd')}' WHERE n = {v.n('upd_n')}",
        f"DELETE FROM qlm_secret WHERE s = '{v.s('del')}'",
        # Quotes and backslashes inside strings: a tokenizer that ends a
        # string too early or too late would print the next value.
        f"SELECT 'it''s {v.s('quote_quote')}' AS a, 'back\\'slash {v.s('backslash_quote')}' AS b",
        f"SELECT \"x'y\" AS a, '{v.s('after_dq')}' AS b",
        f"SELECT 'ends in a backslash\\\\' AS a, '{v.s('after_backslash')}' AS b",
        f"SELECT 'line\\n{v.s('escaped_newline')}' AS a",
        f"SELECT '{v.s('unicode')}_caf\u00e9_\u2713' AS a",
        f"SELECT X'{v.hex('hex')}' AS a, 0x{v.hex('hex_0x')} AS b",
        f"SELECT b'{v.bits('bits')}' AS a",
        f"SELECT DATE '{v.date('date')}' AS a",
        f"SELECT _utf8mb4'{v.s('introducer')}' COLLATE utf8mb4_bin AS a, N'{v.s('national')}' AS b",
        f"SELECT id FROM qlm_secret ORDER BY id LIMIT 1 OFFSET {v.n('offset')}",
        f"SELECT {v.n('sci')}e2 AS a, {v.n('float')}.5 AS b, -{v.n('neg_select')} AS c",
        # Comments and hints: plain comments are dropped; the server runs an
        # executable comment's content, and the proxy keeps a hint's text.
        f"SELECT 1 AS a /* {v.s('block_comment')} */",
        f"SELECT 1 AS a -- {v.s('dash_comment')}\n",
        f"SELECT 1 AS a # {v.s('hash_comment')}\n",
        f"SELECT /*! '{v.s('executable_comment')}' AS x, */ 1 AS a",
        f"SELECT /*+ '{v.s('hint')}' */ 1 AS a",
        # Session state and text PREPARE (pins the session to the primary).
        f"SET @qlm_secret_v = '{v.s('user_var')}'",
        "SELECT @qlm_secret_v AS a",
        f"PREPARE qlm_secret_ps FROM 'SELECT ? AS a, ''{v.s('text_prepare')}'' AS b'",
        f"SET @qlm_secret_p = {v.n('text_prepare_n')}",
        "EXECUTE qlm_secret_ps USING @qlm_secret_p",
        "DEALLOCATE PREPARE qlm_secret_ps",
        # Errors, some of which the server answers by quoting the text back.
        f"SELEC '{v.s('syntax')}', {v.n('syntax_n')}",
        f"SELECT * FROM qlm_no_such_table WHERE a = '{v.s('unknown_table')}'",
        f"INSERT INTO qlm_secret (id, s, n) VALUES (1, '{v.s('duplicate')}', {v.n('duplicate_n')})",
        f"INSERT INTO qlm_secret (id, s, n) VALUES ({v.n('data_id')}, 'x', '{v.s('bad_integer')}')",
        f"SELECT 1 AS a, '{v.s('unterminated_string')}",
        f"SELECT 1 AS a /* {v.s('unterminated_comment')}",
    ]
    out: list[tuple[str, tuple | None]] = [(s, None) for s in stmts]
    # Values PyMySQL interpolates into the text itself (client-side).
    out.append(("SELECT id FROM qlm_secret WHERE s = %s AND n = %s",
                (v.s("pymysql"), int(v.n("pymysql_n")))))
    return out


def _prepared_script(v: Values) -> list[list[str]]:
    """One qlbind session: server-side prepared statements whose values are
    bound (COM_STMT_EXECUTE), including a duplicate-key execute and prepares
    that fail."""
    b = lambda name: v.s(name, bound=True)  # noqa: E731
    bn = lambda name: v.n(name, bound=True)  # noqa: E731
    return [
        ["P", "INSERT INTO qlm_secret (id, s, n, d) VALUES (?, ?, ?, ?)"],
        ["E", "i:100", f"s:{b('p_insert')}", f"i:{bn('p_insert_n')}", f"d:{bn('p_insert_d')}.5"],
        ["E", "i:101", f"s:{b('p_insert2')}", f"i:{bn('p_insert2_n')}", "n:"],
        ["E", "i:100", f"s:{b('p_duplicate')}", f"i:{bn('p_duplicate_n')}", "n:"],
        ["P", "SELECT id, s FROM qlm_secret WHERE s = ? OR n = ?"],
        ["E", f"s:{b('p_select')}", f"i:{bn('p_select_n')}"],
        ["P", "UPDATE qlm_secret SET s = ? WHERE id = ?"],
        ["E", f"s:{b('p_update')}", "i:101"],
        ["P", f"SELECT id FROM qlm_secret WHERE s <> '{v.s('p_text')}' AND id = ?"],
        ["E", f"i:{bn('p_text_id')}"],
        ["P", "DELETE FROM qlm_secret WHERE s = ?"],
        ["E", f"s:{b('p_delete')}"],
        ["P", f"SELEC ?, '{v.s('p_syntax')}'"],
        ["P", "SELECT * FROM qlm_no_such_table WHERE a = ?"],
        ["C"],
    ]


def _text_loops(ep, v: Values):
    """An N+1 loop (a lookup per parent row, different values) and a
    duplicate loop (the same lookup again and again), on one connection."""
    conn = pymysql_connect(ep, autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute("SELECT id, s FROM qlm_secret_n1 ORDER BY id")
        cur.fetchall()
        for i in range(1, LOOP + 1):
            cur.execute(f"SELECT s FROM qlm_secret_n1 WHERE id = {i} "
                        f"AND s <> '{v.s(f'loop_{i}')}'")
            cur.fetchall()
        dup = v.s("duplicate_loop")
        for _ in range(LOOP):
            cur.execute(f"SELECT id FROM qlm_secret_n1 WHERE s = '{dup}'")
            cur.fetchall()
        time.sleep(IDLE_GAP * 2)  # ends the unit while the connection is open
    finally:
        conn.close()


def _prepared_loop(qlbind, ep, v: Values) -> list[str]:
    script = [["Q", "SELECT id, s FROM qlm_secret_n1 ORDER BY id"],
              ["P", "SELECT s AS bound_s FROM qlm_secret_n1 WHERE id = ? AND s <> ?"]]
    script += [["E", f"i:{i}", f"s:{v.s(f'p_loop_{i}', bound=True)}"] for i in range(1, LOOP + 1)]
    return run_qlbind(qlbind, ep, script)


def _multi_statement(ep, v: Values):
    conn = pymysql_connect(ep, autocommit=True, client_flag=PYMYSQL_CLIENT.MULTI_STATEMENTS)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT '{v.s('multi1')}' AS a; SELECT {v.n('multi2')} AS b")
        while cur.nextset():
            pass
    finally:
        conn.close()


def _sessions_while_running(qlbind, ep, p, v: Values) -> str:
    """Runs a text and a prepared statement that take a while and returns
    /api/sessions as it was while both ran."""
    text_sql = f"SELECT SLEEP(1.5) AS z, '{v.s('running_text')}' AS r"
    script = [["P", "SELECT SLEEP(?) AS z, ? AS r"],
              ["E", "d:1.5", f"s:{v.s('running_bound', bound=True)}"]]
    errors = []

    def text():
        try:
            run(ep, [text_sql])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def prepared():
        try:
            run_qlbind(qlbind, ep, script)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=text), threading.Thread(target=prepared)]
    for t in threads:
        t.start()

    def both_running():
        body = http_get(p.admin_port, "/api/sessions").body
        running = [s for s in json.loads(body)["sessions"]
                   if s["state"] == "statement" and "sleep" in (s["statement"] or {}).get(
                       "fingerprint", "")]
        return body if len(running) == 2 else None
    try:
        body = wait_for(both_running, timeout=10, interval=0.05,
                        what="/api/sessions showing both statements running")
    finally:
        for t in threads:
            t.join(30)
    assert not errors, errors
    return body


def _run_workload(qlbind, ep, p, v: Values) -> dict:
    """The whole workload; returns what it produced that the checks need."""
    run(ep, SETUP)
    time.sleep(IDLE_GAP * 2)  # the set-up's N+1 unit is over
    running_sessions = _sessions_while_running(qlbind, ep, p, v)
    text = _text_statements(v)
    results = run(ep, [s for s, _ in text], args=[a for _, a in text])
    prepared_out = run_qlbind(qlbind, ep, _prepared_script(v))
    _multi_statement(ep, v)
    _text_loops(ep, v)
    loop_out = _prepared_loop(qlbind, ep, v)
    return {"running_sessions": running_sessions, "text_results": results,
            "prepared_out": prepared_out, "loop_out": loop_out}


def _wait_quiet(p, findings: int):
    """Waits for the N+1 findings and for the slow-log writer to catch up."""
    if findings:
        def reported():
            return len(admin_json(p.admin_port, "/api/n_plus_one")["findings"]) >= findings
        wait_for(reported, timeout=15, what=f"{findings} N+1 findings on /api/n_plus_one")

    def written():
        _, s = scrape(p.admin_port)
        assert value(s, "querylens_slow_log_dropped_total") == 0
        n = value(s, "querylens_slow_log_entries_total")
        time.sleep(0.3)
        _, s2 = scrape(p.admin_port)
        return n > 0 and value(s2, "querylens_slow_log_entries_total") == n
    wait_for(written, timeout=15, what="the slow-log writer to catch up")


def _leaks(haystack: str, values: dict[str, str]) -> list[str]:
    # The fingerprint lower-cases what it does not mask: compare without case.
    low = haystack.lower()
    return sorted(name for name, val in values.items() if val.lower() in low)


def _start(start_proxy, tmp_path, *extra):
    slow = tmp_path / "slow.log"
    ep, p = start_proxy(["--slow-log", str(slow), "--slow-query-time", "0",
                         "--n-plus-one-unit-idle-gap", str(IDLE_GAP), *extra])
    return ep, p, slow


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_literal_in_logs_metrics_or_api(start_proxy, tmp_path, qlbind, lab, log_format):
    needs_proxy()
    ep, p, slow = _start(start_proxy, tmp_path, "--log-level", "debug", "--log-format", log_format)
    v = Values()
    out = _run_workload(qlbind, ep, p, v)
    _wait_quiet(p, findings=3)

    where = {
        "slow log": slow.read_text(errors="replace"),
        "proxy log": p.log_path.read_text(errors="replace"),
        "/metrics": http_get(p.admin_port, "/metrics").body,
        "/api/digests": http_get(p.admin_port, "/api/digests?limit=10000").body,
        "/api/sessions (while running)": out["running_sessions"],
        "/api/sessions": http_get(p.admin_port, "/api/sessions").body,
        "/api/n_plus_one": http_get(p.admin_port, "/api/n_plus_one").body,
        "/api/backends": http_get(p.admin_port, "/api/backends").body,
    }
    leaks = {w: _leaks(body, v.all()) for w, body in where.items()}
    leaks = {w: names for w, names in leaks.items() if names}
    assert not leaks, f"literal values found (by form name): {leaks}; values: {v.all()}"

    # The places looked at do hold the workload, so the absence means something.
    slow_text = where["slow log"]
    for shape in [PREPARED_LOOP, "select * from qlm_secret where s = ? and n = ?",
                  "select s from qlm_secret_n1 where id = ? and s <> ?",
                  "insert into qlm_secret(id, s, n, d) values (?+)", "selec ?, ?"]:
        assert shape in slow_text, shape
    _, samples = scrape(p.admin_port)
    assert value(samples, "querylens_slow_log_entries_total") >= \
        value(samples, "querylens_statements_total")
    assert value(samples, "querylens_statement_errors_total", **{"class": "syntax"}) >= 1
    assert value(samples, "querylens_statement_errors_total", **{"class": "duplicate_key"}) >= 2
    assert value(samples, "querylens_statement_errors_total", **{"class": "unknown_object"}) >= 1
    digests = admin_json(p.admin_port, "/api/digests?limit=10000")["digests"]
    assert sum(d["prepared"] for d in digests) >= LOOP + 6
    assert not any("example" in d for d in digests)
    running = [s for s in json.loads(out["running_sessions"])["sessions"] if s["statement"]]
    assert len(running) >= 2, out["running_sessions"]
    findings = admin_json(p.admin_port, "/api/n_plus_one")["findings"]
    kinds = {f["kind"] for f in findings}
    assert {"n_plus_one", "duplicate"} <= kinds, findings

    # The bound values did reach the server: the rows hold them, and the
    # prepared loop's 12 executions had 12 distinct value sets.
    stored = {r[0] for r in root_query(lab, "primary", "SELECT s FROM app.qlm_secret")}
    assert v.bound["p_insert"] in stored and v.bound["p_update"] in stored, stored
    assert any(line.startswith("ERR 1062") for line in out["prepared_out"]), out["prepared_out"]
    prepared_loop = [f for f in findings
                     if f["fingerprint"] == PREPARED_LOOP and f["kind"] == "n_plus_one"]
    assert prepared_loop and max(f["distinct_values"] for f in prepared_loop) == LOOP, findings

    # The log really was at debug level, in the format asked for.
    log_lines = [line for line in where["proxy log"].splitlines()
                 if line and not line.startswith("=== starting:")]
    assert any("logged in" in line for line in log_lines), log_lines[:20]
    if log_format == "json":
        parsed = [json.loads(line) for line in log_lines]
        assert any(o.get("level") == "debug" for o in parsed)
        assert any(o.get("event") == "n_plus_one" for o in parsed)


def test_log_literals_puts_the_values_in_the_slow_log(start_proxy, tmp_path, qlbind):
    """The positive control: the same workload with --log-literals. Every
    value written in a text statement is then in the slow log, so the test
    above would see one that leaked."""
    needs_proxy()
    ep, p, slow = _start(start_proxy, tmp_path, "--log-literals")
    v = Values()
    _run_workload(qlbind, ep, p, v)
    _wait_quiet(p, findings=3)
    text = slow.read_text(errors="replace")
    # Values in statements sent as COM_QUERY (not the text of prepares).
    text_values = {k: val for k, val in v.text.items() if not k.startswith("p_")}
    missing = sorted(set(text_values) - set(_leaks(text, text_values)))
    assert not missing, f"with --log-literals these values are not in the slow log: {missing}"


def test_log_literals_gives_api_digests_an_example(start_proxy):
    needs_proxy()
    ep, p = start_proxy(["--log-literals", "--read-write-split", "off"])
    v = Values()
    run(ep, [f"SELECT '{v.s('example')}' AS qlm_example"])
    digests = admin_json(p.admin_port, "/api/digests?limit=10000")["digests"]
    mine = [d for d in digests if "qlm_example" in d["fingerprint"]]
    assert len(mine) == 1, digests
    assert v.text["example"] in mine[0].get("example", {}).get("text", ""), mine[0]


# sql_mode changes where a string ends; the proxy's tokenizer must follow
# the session's mode, or text the server reads as a string value is
# printed as if it were a name.
SQL_MODE_CASES = {
    # 'a\' is a whole string: the value is the next string.
    "no_backslash_escapes": ("NO_BACKSLASH_ESCAPES", "SELECT 'a\\', '{secret}', 'b'"),
    # "a\" is a whole name; what follows up to the last ' is one string.
    "ansi_quotes": ("ANSI_QUOTES", "SELECT \"a\\\" AS x, 'q\" , {secret}, x' FROM DUAL"),
}


@pytest.mark.parametrize("case", sorted(SQL_MODE_CASES))
def test_no_literal_under_sql_mode(start_proxy, tmp_path, case):
    needs_proxy()
    ep, p, slow = _start(start_proxy, tmp_path, "--read-write-split", "off")
    mode, template = SQL_MODE_CASES[case]
    v = Values()
    sql = template.format(secret=v.s(case))
    conn = pymysql_connect(ep, autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute(f"SET SESSION sql_mode = CONCAT(@@sql_mode, ',{mode}')")
        try:
            cur.execute(sql)
            rows = cur.fetchall()
        except Exception as e:  # noqa: BLE001 - ansi_quotes: the name is unknown
            rows = e
    finally:
        conn.close()
    # The server did read the value as a string (the statement's meaning).
    if case == "no_backslash_escapes":
        assert rows == (("a\\", v.text[case], "b"),), rows
    else:
        assert "Unknown column" in str(rows), rows
    _wait_quiet(p, findings=0)
    where = {"slow log": slow.read_text(errors="replace"),
             "/api/digests": http_get(p.admin_port, "/api/digests?limit=10000").body,
             "/metrics": http_get(p.admin_port, "/metrics").body}
    leaks = {w: _leaks(body, v.all()) for w, body in where.items()}
    leaks = {w: names for w, names in leaks.items() if names}
    assert not leaks, f"literal value found in {sorted(leaks)}:\n{where['slow log'][-600:]}"
