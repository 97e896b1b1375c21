"""Misbehaving clients: malformed packets, unknown commands, clients that
vanish in the middle of a result. The server side must answer like MariaDB
where the protocol allows, never hang, and keep serving other clients."""
import socket
import struct
import time

import pytest

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
