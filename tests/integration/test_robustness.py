"""Misbehaving clients: malformed packets, unknown commands, clients that
vanish in the middle of a result. The server side must answer like MariaDB
where the protocol allows, never hang, and keep serving other clients."""
import socket
import struct
import time

import pytest

from conftest import DIRECT
from qladmin import admin_json, scrape, value
from qlhelpers import RawConn, parse_err, pymysql_connect


def _still_serving(ep):
    c = pymysql_connect(ep)
    try:
        cur = c.cursor()
        cur.execute("SELECT 'alive'")
        assert cur.fetchone() == ("alive",)
    finally:
        c.close()


def _read_until_closed(rc: RawConn, limit=10) -> list[bytes]:
    got = []
    try:
        for _ in range(limit):
            got.append(rc.read_packet())
    except (ConnectionError, OSError):
        pass
    return got


def test_garbage_instead_of_handshake_response(direct, proxy):
    def attempt(ep):
        rc = RawConn(ep.host, ep.port)
        try:
            rc.read_handshake()
            rc.write_packet(b"\x01\x02garbage", seq=1)
            return [parse_err(p) for p in _read_until_closed(rc)]
        finally:
            rc.close()

    a, b = attempt(direct), attempt(proxy)
    # MariaDB: ERR 1043 (08S01) Bad handshake, then it closes the connection.
    assert a and a[0] and a[0][0] == 1043, a
    assert all(x is not None for x in b), b   # only ERR packets, then closed
    _still_serving(proxy)


def test_truncated_packet_then_close(proxy):
    rc = RawConn(proxy.host, proxy.port)
    rc.read_handshake()
    rc.send_raw(b"\xff\x00\x00\x01abc")  # announces 255 bytes, sends 3, closes
    rc.close()
    _still_serving(proxy)


def test_oversized_length_announced(proxy):
    rc = RawConn(proxy.host, proxy.port)
    try:
        assert rc.login()[0] == 0x00
        # A 16 MiB - 1 frame header followed by only a few bytes, then silence:
        # the server side must not crash; the connection may wait or close.
        rc.send_raw(b"\xff\xff\xff\x00\x03SELECT 1")
    finally:
        rc.close()
    _still_serving(proxy)


def test_unknown_command_and_bad_statement_id(direct, proxy):
    def attempt(ep):
        rc = RawConn(ep.host, ep.port)
        try:
            ok = rc.login()
            assert ok[0] == 0x00, parse_err(ok)
            out = []
            out.append(parse_err(rc.command(b"\x99whatever")))                       # unknown command
            out.append(parse_err(rc.command(b"\x17" + struct.pack("<IBI", 424242, 0, 1))))  # EXECUTE bad id
            out.append(parse_err(rc.command(b"\x1c" + struct.pack("<I", 424242))))   # FETCH bad id
            p = rc.command(b"\x03SELECT 'after'")                                   # still in sync?
            out.append(p[:1])
            return out
        finally:
            rc.close()

    a, b = attempt(direct), attempt(proxy)
    assert a[0][0] == 1047, a       # ER_UNKNOWN_COM_ERROR
    assert a[1][0] == 1243, a       # ER_UNKNOWN_STMT_HANDLER
    assert a == b


@pytest.mark.slow
def test_client_vanishes_mid_result(lab, proxy):
    """A client that closes its socket in the middle of a large result: the
    backend query is not left running, and the proxy keeps serving."""
    marker = f"ql_vanish_{int(time.time() * 1000)}"
    rc = RawConn(proxy.host, proxy.port, timeout=30)
    assert rc.login()[0] == 0x00
    # About 2 GB of result if read to the end.
    rc.write_packet(f"SELECT /* {marker} */ seq, REPEAT('v', 1000) FROM seq_1_to_2000000".encode(), seq=0)
    rc.read_packet()             # column count: the result has started
    rc.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rc.close()                   # RST
    deadline = time.monotonic() + 30
    while True:
        running = lab.root_sql("primary", "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                          f"WHERE INFO LIKE '%{marker}%' AND ID <> CONNECTION_ID()")
        if running.strip() == "0":
            break
        if time.monotonic() > deadline:
            pytest.fail("the abandoned query is still running on the primary after 30 s")
        time.sleep(0.5)
    _still_serving(proxy)


def _read_until_eof(rc: RawConn) -> list[bytes]:
    """Packets up to and including an EOF packet (no CLIENT_DEPRECATE_EOF)."""
    out = []
    while True:
        p = rc.read_packet()
        out.append(p)
        if p[0] == 0xFE and len(p) < 9:
            return out


def _pipelined_prepare_execute(ep, sql: bytes) -> tuple[list[bytes], list[bytes]]:
    """COM_STMT_PREPARE and COM_STMT_EXECUTE sent together, the EXECUTE with
    statement id 0xFFFFFFFF ("the statement prepared last"), as MariaDB's
    Node.js connector pipelines them. Returns both responses, the statement
    id masked (it is the proxy's own through the proxy)."""
    rc = RawConn(ep.host, ep.port)
    try:
        ok = rc.login()
        assert ok[0] == 0x00, parse_err(ok)
        prepare = b"\x16" + sql
        # id, flags, iterations, NULL bitmap, new-params-bound, type LONGLONG, value 41
        execute = (b"\x17" + struct.pack("<IBI", 0xFFFFFFFF, 0, 1) + b"\x00\x01"
                   + struct.pack("<BBq", 8, 0, 41))
        frame = lambda p: struct.pack("<I", len(p))[:3] + b"\x00" + p  # noqa: E731
        rc.send_raw(frame(prepare) + frame(execute))
        first = rc.read_packet()
        prepared = [first]
        if first[0] == 0x00:
            prepared[0] = first[:1] + b"\0\0\0\0" + first[5:]
            columns, params = struct.unpack_from("<HH", first, 5)
            for n in (params, columns):
                if n:
                    prepared += _read_until_eof(rc)
        executed = [rc.read_packet()]
        if executed[0][0] not in (0x00, 0xFF):
            executed += _read_until_eof(rc)  # column definitions
            executed += _read_until_eof(rc)  # rows
        return prepared, executed
    finally:
        rc.close()


def test_pipelined_execute_of_the_last_prepared_statement(direct, proxy):
    for sql in (b"SELECT ? + 1 AS v", b"SELEC ? + 1"):
        want = _pipelined_prepare_execute(direct, sql)
        got = _pipelined_prepare_execute(proxy, sql)
        assert got == want, (sql, want, got)
    # The good statement really ran: 41 + 1 in the binary row.
    rows = _pipelined_prepare_execute(proxy, b"SELECT ? + 1 AS v")[1]
    assert parse_err(rows[0]) is None and struct.pack("<q", 42) in rows[-2], rows


@pytest.mark.skipif(DIRECT, reason="the proxy's own accounting")
def test_refused_prepare_is_counted(proxy, proxy_process):
    """A COM_STMT_PREPARE the server refuses never executes: the refusal is
    its only trace, so it counts as a failed statement (digest and errors)."""
    def syntax_errors():
        return value(scrape(proxy_process.admin_port)[1], "querylens_statement_errors_total",
                     **{"class": "syntax"})

    before = syntax_errors()
    rc = RawConn(proxy.host, proxy.port)
    try:
        assert rc.login()[0] == 0x00
        err = parse_err(rc.command(b"\x16SELEC id FROM refused_prepare_t WHERE id = ?"))
        assert err and err[0] == 1064, err
    finally:
        rc.close()
    entries = [d for d in admin_json(proxy_process.admin_port, "/api/digests?limit=1000")["digests"]
               if "refused_prepare_t" in d["fingerprint"]]
    assert [(d["count"], d["errors"]) for d in entries] == [(1, 1)], entries
    assert syntax_errors() - before == 1
