#!/usr/bin/python3
"""Minimal hand-rolled MySQL/MariaDB client over a raw socket.

Used by capture_scenarios.py for the cases no installed client can produce
(chiefly CLIENT_DEPRECATE_EOF, which neither libmariadb 3.3 nor PyMySQL
1.0.2 sets, and explicit COM_* commands).  Every client packet it sends is
hand-crafted; every server packet it reads is real.  It only needs to know
where a response ends so it can send the next command; the capture relay
records the bytes independently of how this module interprets them.
"""

import hashlib
import socket
import struct

CLIENT_LONG_PASSWORD = 0x00000001
CLIENT_FOUND_ROWS = 0x00000002
CLIENT_LONG_FLAG = 0x00000004
CLIENT_CONNECT_WITH_DB = 0x00000008
CLIENT_LOCAL_FILES = 0x00000080
CLIENT_PROTOCOL_41 = 0x00000200
CLIENT_TRANSACTIONS = 0x00002000
CLIENT_SECURE_CONNECTION = 0x00008000
CLIENT_MULTI_STATEMENTS = 0x00010000
CLIENT_MULTI_RESULTS = 0x00020000
CLIENT_PS_MULTI_RESULTS = 0x00040000
CLIENT_PLUGIN_AUTH = 0x00080000
CLIENT_CONNECT_ATTRS = 0x00100000
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x00200000
CLIENT_SESSION_TRACK = 0x00800000
CLIENT_DEPRECATE_EOF = 0x01000000

MARIADB_CLIENT_PROGRESS = 1 << 0
MARIADB_CLIENT_STMT_BULK_OPERATIONS = 1 << 2
MARIADB_CLIENT_EXTENDED_METADATA = 1 << 3
MARIADB_CLIENT_CACHE_METADATA = 1 << 4

SERVER_MORE_RESULTS_EXISTS = 0x0008
SERVER_STATUS_CURSOR_EXISTS = 0x0040
SERVER_STATUS_LAST_ROW_SENT = 0x0080

COM_QUIT = 0x01
COM_INIT_DB = 0x02
COM_QUERY = 0x03
COM_FIELD_LIST = 0x04
COM_STATISTICS = 0x09
COM_PING = 0x0E
COM_CHANGE_USER = 0x11
COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17
COM_STMT_SEND_LONG_DATA = 0x18
COM_STMT_CLOSE = 0x19
COM_STMT_RESET = 0x1A
COM_SET_OPTION = 0x1B
COM_STMT_FETCH = 0x1C
COM_RESET_CONNECTION = 0x1F

# The "base" capability set of the crafted client: what PyMySQL 1.0.2 sends
# plus LOCAL_FILES, MULTI_STATEMENTS, PS_MULTI_RESULTS and SESSION_TRACK.
BASE_CAPS = (CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_LOCAL_FILES |
             CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS |
             CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS |
             CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS |
             CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS |
             CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_SESSION_TRACK)


class ProtocolError(Exception):
    pass


def native_password_scramble(password, nonce):
    if not password:
        return b""
    p1 = hashlib.sha1(password.encode()).digest()
    p2 = hashlib.sha1(p1).digest()
    p3 = hashlib.sha1(nonce + p2).digest()
    return bytes(a ^ b for a, b in zip(p1, p3))


def lenenc_int(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def lenenc_str(b):
    return lenenc_int(len(b)) + b


def read_lenenc(buf, pos):
    first = buf[pos]
    if first < 251:
        return first, pos + 1
    if first == 0xFC:
        return struct.unpack_from("<H", buf, pos + 1)[0], pos + 3
    if first == 0xFD:
        return int.from_bytes(buf[pos + 1:pos + 4], "little"), pos + 4
    if first == 0xFE:
        return struct.unpack_from("<Q", buf, pos + 1)[0], pos + 9
    raise ProtocolError("bad lenenc prefix 0x%02x" % first)


class RawClient:
    def __init__(self, host, port, caps=BASE_CAPS | CLIENT_DEPRECATE_EOF,
                 ext_caps=None, timeout=5.0):
        """ext_caps: MariaDB extended capabilities; when not None the client
        clears CLIENT_LONG_PASSWORD (= CLIENT_MYSQL) and sends them in the
        last 4 filler bytes of the HandshakeResponse41."""
        self.sock = socket.create_connection((host, port), timeout=timeout)
        # Like libmariadb: no Nagle, so each packet leaves at once (and the
        # capture relay can place its step comments deterministically).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.caps = caps
        self.ext_caps = ext_caps
        if ext_caps is not None:
            self.caps &= ~CLIENT_LONG_PASSWORD
        self.seq = 0
        self.rbuf = bytearray()
        self.nonce = b""
        self.server_caps = 0
        self.log = []  # human-readable trace, for debugging only

    # -- framing --------------------------------------------------------
    def _recv_exact(self, n):
        while len(self.rbuf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProtocolError("server closed the connection")
            self.rbuf += chunk
        out = bytes(self.rbuf[:n])
        del self.rbuf[:n]
        return out

    def read_packet(self):
        hdr = self._recv_exact(4)
        length = hdr[0] | (hdr[1] << 8) | (hdr[2] << 16)
        self.seq = (hdr[3] + 1) & 0xFF
        return self._recv_exact(length)

    def write_packet(self, payload):
        # Splits at 0xffffff like every real client does.
        while True:
            chunk = payload[:0xFFFFFF]
            payload = payload[0xFFFFFF:]
            self.sock.sendall(struct.pack("<I", len(chunk))[:3] +
                              bytes([self.seq]) + chunk)
            self.seq = (self.seq + 1) & 0xFF
            if len(chunk) < 0xFFFFFF:
                break

    def has_pending_data(self, wait=0.3):
        """True if the server sent something we did not expect."""
        if self.rbuf:
            return True
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(5.0)
        if chunk:
            self.rbuf += chunk
            return True
        return False

    @property
    def deprecate_eof(self):
        return bool(self.caps & CLIENT_DEPRECATE_EOF)

    @property
    def cache_metadata(self):
        return bool(self.ext_caps and self.ext_caps & MARIADB_CLIENT_CACHE_METADATA
                    and not (self.server_caps & CLIENT_LONG_PASSWORD))

    # -- connection phase ---------------------------------------------------
    def connect(self, user, password, db=None, plugin="mysql_native_password",
                auth_data=None, attrs=None, charset=0x21):
        greeting = self.read_packet()
        if greeting[0] == 0xFF:
            raise ProtocolError("server refused: %r" % greeting)
        pos = greeting.index(b"\0", 1) + 1 + 4
        part1 = greeting[pos:pos + 8]
        pos += 9
        cap_low = struct.unpack_from("<H", greeting, pos)[0]
        pos += 2 + 1 + 2
        cap_high = struct.unpack_from("<H", greeting, pos)[0]
        pos += 2
        self.server_caps = cap_low | (cap_high << 16)
        auth_len = greeting[pos]
        pos += 1 + 10
        part2_len = max(13, auth_len - 8)
        part2 = greeting[pos:pos + part2_len].rstrip(b"\0")
        self.nonce = part1 + part2
        if db:
            self.caps |= CLIENT_CONNECT_WITH_DB
        if auth_data is None:
            auth_data = native_password_scramble(password, self.nonce) \
                if plugin == "mysql_native_password" else b""
        self.password = password
        resp = struct.pack("<IIB", self.caps, 0x01000000, charset)
        if self.ext_caps is not None:
            resp += b"\0" * 19 + struct.pack("<I", self.ext_caps)
        else:
            resp += b"\0" * 23
        resp += user.encode() + b"\0"
        if self.caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
            resp += lenenc_str(auth_data)
        else:
            resp += bytes([len(auth_data)]) + auth_data
        if db:
            resp += db.encode() + b"\0"
        if self.caps & CLIENT_PLUGIN_AUTH:
            resp += plugin.encode() + b"\0"
        if self.caps & CLIENT_CONNECT_ATTRS:
            if attrs is None:
                attrs = {"_client_name": "querylens-capture-raw",
                         "_client_version": "1.0"}
            blob = b"".join(lenenc_str(k.encode()) + lenenc_str(v.encode())
                            for k, v in attrs.items())
            resp += lenenc_str(blob)
        self.seq = 1
        self.write_packet(resp)
        return self._auth_loop()

    def _auth_loop(self):
        while True:
            pkt = self.read_packet()
            if pkt[0] in (0x00, 0xFF):
                return pkt
            if pkt[0] == 0xFE:  # AuthSwitchRequest
                end = pkt.index(b"\0", 1)
                plugin = pkt[1:end].decode()
                data = pkt[end + 1:]
                if plugin != "mysql_native_password":
                    raise ProtocolError("cannot do plugin %s" % plugin)
                self.nonce = data.rstrip(b"\0")
                self.write_packet(native_password_scramble(self.password,
                                                           self.nonce))
                continue
            raise ProtocolError("unexpected auth packet %r" % pkt[:16])

    # -- command phase ------------------------------------------------------
    def send_command(self, cmd, body=b""):
        self.seq = 0
        self.write_packet(bytes([cmd]) + body)

    def _terminator_status(self, pkt):
        """Status flags of an EOF packet or an OK-with-0xfe terminator."""
        if self.deprecate_eof:
            pos = 1
            _, pos = read_lenenc(pkt, pos)
            _, pos = read_lenenc(pkt, pos)
            return struct.unpack_from("<H", pkt, pos)[0]
        return struct.unpack_from("<H", pkt, 3)[0]

    @staticmethod
    def ok_status(pkt):
        pos = 1
        _, pos = read_lenenc(pkt, pos)
        _, pos = read_lenenc(pkt, pos)
        return struct.unpack_from("<H", pkt, pos)[0]

    def _is_terminator(self, pkt):
        if not pkt or pkt[0] != 0xFE:
            return False
        if self.deprecate_eof:
            return len(pkt) < 0xFFFFFF
        return len(pkt) < 9

    def read_result(self, local_infile_data=None):
        """Reads everything a COM_QUERY / COM_STMT_EXECUTE returns,
        following SERVER_MORE_RESULTS_EXISTS.  Returns a list of
        (kind, packets) tuples."""
        results = []
        while True:
            first = self.read_packet()
            if first[0] == 0x00:
                results.append(("ok", [first]))
                if self.ok_status(first) & SERVER_MORE_RESULTS_EXISTS:
                    continue
                return results
            if first[0] == 0xFF:
                results.append(("err", [first]))
                return results
            if first[0] == 0xFB:
                data = local_infile_data if local_infile_data is not None else b""
                # File contents may go in several packets; then an empty one.
                for i in range(0, len(data), 64):
                    self.write_packet(data[i:i + 64])
                self.write_packet(b"")
                continue
            count, pos = read_lenenc(first, 0)
            pkts = [first]
            ndefs = count
            # MARIADB_CLIENT_CACHE_METADATA: one extra byte "metadata follows".
            if self.cache_metadata and pos < len(first) and first[pos] == 0:
                ndefs = 0
            for _ in range(ndefs):
                pkts.append(self.read_packet())
            status = 0
            if not self.deprecate_eof:
                eof = self.read_packet()
                pkts.append(eof)
                status = self._terminator_status(eof)
                if status & SERVER_STATUS_CURSOR_EXISTS:
                    results.append(("cursor", pkts))
                    return results
            while True:
                row = self.read_packet()
                pkts.append(row)
                if row[0] == 0xFF:
                    results.append(("rows-err", pkts))
                    return results
                if self._is_terminator(row):
                    status = self._terminator_status(row)
                    break
            results.append(("rows", pkts))
            if not status & SERVER_MORE_RESULTS_EXISTS:
                return results

    def read_prepare(self):
        first = self.read_packet()
        if first[0] == 0xFF:
            return first, None
        stmt_id, ncols, nparams = struct.unpack_from("<IHH", first, 1)
        pkts = [first]
        for n in (nparams, ncols):
            for _ in range(n):
                pkts.append(self.read_packet())
            if n and not self.deprecate_eof:
                pkts.append(self.read_packet())
        return pkts, stmt_id

    def read_until_eof_or_err(self):
        """COM_FIELD_LIST / COM_STMT_FETCH style: packets until EOF/ERR."""
        pkts = []
        while True:
            p = self.read_packet()
            pkts.append(p)
            if p[0] == 0xFF or self._is_terminator(p):
                return pkts

    def read_until_idle(self, idle=0.5, first_timeout=5.0):
        """Reads whole packets until the server has been quiet for `idle`
        seconds.  Used where the point of the capture is to find out what
        the server sends, so the reader must not assume a shape."""
        pkts = []
        self.sock.settimeout(first_timeout)
        try:
            while True:
                try:
                    pkts.append(self.read_packet())
                except socket.timeout:
                    break
                self.sock.settimeout(idle)
        finally:
            self.sock.settimeout(5.0)
        return pkts

    # -- conveniences -------------------------------------------------------
    def query(self, sql, **kw):
        self.send_command(COM_QUERY, sql.encode())
        return self.read_result(**kw)

    def prepare(self, sql):
        self.send_command(COM_STMT_PREPARE, sql.encode())
        return self.read_prepare()

    def quit(self):
        self.send_command(COM_QUIT)
        try:
            self.sock.shutdown(socket.SHUT_WR)
            while self.sock.recv(4096):
                pass
        except OSError:
            pass
        self.sock.close()


# Binary-protocol helpers -----------------------------------------------------
MYSQL_TYPE_LONG = 0x03
MYSQL_TYPE_LONGLONG = 0x08
MYSQL_TYPE_DOUBLE = 0x05
MYSQL_TYPE_VAR_STRING = 0xFD
MYSQL_TYPE_STRING = 0xFE
MYSQL_TYPE_BLOB = 0xFC
MYSQL_TYPE_NULL = 0x06
MYSQL_TYPE_DATETIME = 0x0C


def encode_execute(stmt_id, params, flags=0, send_types=True):
    """params: list of (type, unsigned, value-bytes or None).  value bytes
    already in binary-protocol encoding; None means SQL NULL; the special
    value 'long' means the value was sent with COM_STMT_SEND_LONG_DATA."""
    body = struct.pack("<IBI", stmt_id, flags, 1)
    if params:
        bitmap = bytearray((len(params) + 7) // 8)
        for i, (_, _, v) in enumerate(params):
            if v is None:
                bitmap[i // 8] |= 1 << (i % 8)
        body += bytes(bitmap)
        body += b"\x01" if send_types else b"\x00"
        if send_types:
            for t, unsigned, _ in params:
                body += bytes([t, 0x80 if unsigned else 0])
        for _, _, v in params:
            if v is not None and v != "long":
                body += v
    return body
