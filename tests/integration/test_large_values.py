"""Values of 16 MiB and more: 64 MiB LONGBLOB round trips (a COM_QUERY of
about 65 MiB split over several frames on the way in, a row of 64 MiB on the
way out), compared by SHA-256."""
import hashlib
import os

import pytest

from qlhelpers import mysqldb_connect, pymysql_connect, pymysql_tls

MIB = 1 << 20


@pytest.fixture(scope="module")
def blob64():
    # Random bytes: about 2.7% of them need escaping in a text query.
    data = os.urandom(64 * MIB)
    return data, hashlib.sha256(data).hexdigest()


def _round_trip(driver, ep, data, table, **kw):
    timeouts = {"read_timeout": 120, "write_timeout": 120}
    if driver == "mysqldb":
        conn = mysqldb_connect(ep, binary_prefix=True, **timeouts, **kw)
    else:
        conn = pymysql_connect(ep, binary_prefix=True, max_allowed_packet=256 * MIB, **timeouts, **kw)
    try:
        cur = conn.cursor()
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, b LONGBLOB)")
        cur.execute(f"INSERT INTO {table} (id, b) VALUES (%s, %s)", (1, data))
        inserted = cur.rowcount
        cur.execute(f"SELECT LENGTH(b), SHA2(b, 256) FROM {table} WHERE id = 1")
        server_len, server_sha = cur.fetchone()
        cur.execute(f"SELECT b FROM {table} WHERE id = 1")
        back = cur.fetchone()[0]
        # The session is still in sync afterwards.
        cur.execute("SELECT 'after'")
        after = cur.fetchone()[0]
        cur.execute(f"DROP TABLE {table}")
        return inserted, server_len, server_sha, len(back), hashlib.sha256(back).hexdigest(), after
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("driver,mib", [("mysqldb", 64), ("pymysql", 32)])
def test_blob_round_trip(direct, proxy, blob64, driver, mib):
    """64 MiB with MySQLdb; PyMySQL escapes in Python and is slow, so 32 MiB."""
    data = blob64[0][:mib * MIB]
    sha = hashlib.sha256(data).hexdigest()
    expect = (1, len(data), sha, len(data), sha, "after")
    assert _round_trip(driver, direct, data, "ql_blob") == expect
    assert _round_trip(driver, proxy, data, "ql_blob") == expect


@pytest.mark.slow
def test_rows_around_the_16mib_frame_size(direct, proxy):
    """Rows whose payload is just under, exactly at (0xFFFFFF: an empty
    frame must follow) and just over the 16 MiB frame size."""
    def get(ep):
        conn = mysqldb_connect(ep, read_timeout=120)
        try:
            cur = conn.cursor()
            cur.execute("SELECT seq, REPEAT('z', seq) FROM seq_16777209_to_16777218 ORDER BY seq")
            rows = []
            for s, v in cur.fetchall():
                v = v.encode() if isinstance(v, str) else v
                rows.append((s, len(v), v.count(b"z")))
            cur.execute("SELECT 'after'")
            return rows, cur.fetchall()
        finally:
            conn.close()

    a = get(direct)
    assert len(a[0]) == 10 and a[0][0] == (16777209, 16777209, 16777209)
    assert a == get(proxy)


@pytest.mark.slow
def test_20mib_blob_over_tls(direct, proxy_tls, blob64):
    data = blob64[0][:20 * MIB]
    sha = hashlib.sha256(data).hexdigest()
    expect = (1, len(data), sha, len(data), sha, "after")
    assert _round_trip("pymysql", proxy_tls, data, "ql_blob_tls", **pymysql_tls(proxy_tls)) == expect
