"""LOAD DATA LOCAL INFILE: the file is read by the client (created here by the
test) and streamed through the proxy; the result (affected rows, info line,
warnings, table contents) must match a direct load."""
import hashlib

import pytest

from qlhelpers import assert_same, cli, mysqldb_connect, pymysql_connect, run_script

TABLE = ("CREATE TABLE ql_load (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET utf8mb4, "
         "amount DECIMAL(10,2), note TEXT CHARACTER SET utf8mb4)")


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("loaddata")
    good = d / "good.tsv"
    lines = []
    for i in range(1, 20001):
        name = f"name {i} caf\u00e9" if i % 7 else "\\N"
        note = "tab\\there, newline\\nthere" if i % 11 == 0 else f"note {i}" * (i % 5)
        lines.append(f"{i}\t{name}\t{i * 1.25:.2f}\t{note}")
    good.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Rows with problems: too many and too few columns, a bad number, a duplicate key.
    bad = d / "bad.tsv"
    bad.write_text("1\ta\t1.00\tx\textra\n2\tb\n3\tc\tnot-a-number\tz\n1\tdup\t1\td\n",
                   encoding="utf-8")
    return {"good": str(good), "bad": str(bad), "missing": str(d / "no-such-file.tsv")}


def _statements(path, ignore=False):
    return [
        TABLE,
        f"LOAD DATA LOCAL INFILE '{path}' {'IGNORE' if ignore else ''} INTO TABLE ql_load "
        "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n'",
        "SELECT COUNT(*), SUM(amount), COUNT(name), MD5(GROUP_CONCAT(id, name, note ORDER BY id)) FROM ql_load",
        "SELECT 'session still usable'",
    ]


def _load(driver, ep, path, ignore=False):
    if driver == "mysqldb":
        conn = mysqldb_connect(ep, local_infile=1, charset="utf8mb4")
    else:
        conn = pymysql_connect(ep, local_infile=True, charset="utf8mb4")
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS ql_load")
        cur.close()
        return run_script(driver, conn, _statements(path, ignore))
    finally:
        conn.close()


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_load_data_local(direct, proxy, data_files, driver):
    a = _load(driver, direct, data_files["good"])
    b = _load(driver, proxy, data_files["good"])
    load = a[1]["sets"][0]
    assert load["rowcount"] == 20000
    assert a[2]["sets"][0]["rows"][0][0] == 20000
    assert_same(a, b)


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_load_data_local_with_warnings(direct, proxy, data_files, driver):
    a = _load(driver, direct, data_files["bad"], ignore=True)
    b = _load(driver, proxy, data_files["bad"], ignore=True)
    assert a[1].get("warnings"), a[1]
    assert_same(a, b)


@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_load_data_local_missing_file(direct, proxy, data_files, driver):
    """The client cannot open the file: what the client reports, and that the
    session stays usable, must not depend on the proxy."""
    a = _load(driver, direct, data_files["missing"])
    b = _load(driver, proxy, data_files["missing"])
    assert a[3]["sets"][0]["rows"] == [("session still usable",)], a
    assert_same(a, b)


def test_load_data_local_cli(direct, proxy, data_files):
    sql = ";\n".join(_statements(data_files["good"])[:3]) + ";\n"
    args = ["--local-infile=1", "--batch", "-vvv", "--default-character-set=utf8mb4"]
    cli(direct, sql="DROP TABLE IF EXISTS ql_load")
    a = cli(direct, *args, stdin=sql)
    cli(direct, sql="DROP TABLE IF EXISTS ql_load")
    b = cli(proxy, *args, stdin=sql)
    assert "Records: 20000  Deleted: 0  Skipped: 0  Warnings: 0" in a.stdout, a.stdout + a.stderr
    import re
    norm = lambda s: re.sub(r"\(\d+\.\d+ sec\)", "", s)  # noqa: E731
    assert norm(a.stdout) == norm(b.stdout)
    assert a.stderr == b.stderr


def test_load_data_local_file_content_reaches_server(proxy, data_files):
    """The table holds exactly the client's file (checked by digest)."""
    conn = pymysql_connect(proxy, local_infile=True, charset="utf8mb4")
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS ql_load_raw")
        cur.execute("CREATE TABLE ql_load_raw (n INT AUTO_INCREMENT PRIMARY KEY, line LONGTEXT CHARACTER SET utf8mb4)")
        cur.execute(f"LOAD DATA LOCAL INFILE '{data_files['good']}' INTO TABLE ql_load_raw "
                    "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\0' ESCAPED BY '' "
                    "LINES TERMINATED BY '\\n' (line)")
        cur.execute("SELECT line FROM ql_load_raw ORDER BY n")
        got = "\n".join(r[0] for r in cur.fetchall()) + "\n"
        cur.execute("DROP TABLE ql_load_raw")
    finally:
        conn.close()
    with open(data_files["good"], encoding="utf-8") as f:
        want = f.read()
    assert hashlib.sha256(got.encode()).hexdigest() == hashlib.sha256(want.encode()).hexdigest()
