"""Helpers shared by the querylens integration tests.

The tests run the same workload twice, once directly against the lab's
MariaDB primary and once through the proxy, capture everything a client can
observe, and compare the two captures.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import re
import socket
import struct
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import MySQLdb
import MySQLdb.constants.CLIENT as MYSQLDB_CLIENT
import pymysql
import pymysql.constants.CLIENT as PYMYSQL_CLIENT
import pymysql.err

REPO = Path(__file__).resolve().parents[2]
APP_USER, APP_PASSWORD = "app", "app_pass"
APP2_USER, APP2_PASSWORD = "app2", "app2_pass"
APP_DB = "app"

CONNECT_TIMEOUT = 10
IO_TIMEOUT = 30  # per read or write; the large-value tests pass longer timeouts

# Error text MySQL and MariaDB use for a failed login.
ACCESS_DENIED_RE = re.compile(
    r"^Access denied for user '(?P<user>[^']*)'@'(?P<host>[^']*)' "
    r"\(using password: (?P<pw>YES|NO)\)$"
)


@dataclasses.dataclass
class Endpoint:
    """A host:port a client can connect to."""

    host: str
    port: int
    name: str  # "direct", "proxy", "proxy-tls", ...
    via_proxy: bool
    tls_ca: str | None = None  # CA file that verifies this endpoint's certificate
    requires_tls: bool = False

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"


# ---------------------------------------------------------------------------
# PyMySQL does not keep the SQLSTATE of a server error. Wrap its error
# constructor so that exceptions carry it as .sqlstate.
_orig_raise = pymysql.err.raise_mysql_exception


def _raise_with_sqlstate(data: bytes):
    try:
        _orig_raise(data)
    except pymysql.err.MySQLError as e:  # always raised
        e.sqlstate = data[4:9].decode("ascii", "replace") if data[3:4] == b"#" else None
        raise


pymysql.err.raise_mysql_exception = _raise_with_sqlstate


# ---------------------------------------------------------------------------
# Connections


def mysqldb_connect(ep: Endpoint, user=APP_USER, password=APP_PASSWORD, db=APP_DB, **kw):
    args = dict(
        host=ep.host,
        port=ep.port,
        user=user,
        passwd=password,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=IO_TIMEOUT,
        write_timeout=IO_TIMEOUT,
    )
    if db is not None:
        args["db"] = db
    if ep.requires_tls and "ssl" not in kw:
        kw["ssl"] = {"ca": ep.tls_ca}
    args.update(kw)
    return MySQLdb.connect(**args)


def pymysql_tls(ep: Endpoint) -> dict:
    """PyMySQL keyword arguments for TLS with full verification against ep's CA.
    (PyMySQL 1.0.2 needs ssl_verify_cert together with ssl_verify_identity.)"""
    return {"ssl_ca": ep.tls_ca, "ssl_verify_cert": True, "ssl_verify_identity": True}


def pymysql_connect(ep: Endpoint, user=APP_USER, password=APP_PASSWORD, db=APP_DB, **kw):
    args = dict(
        host=ep.host,
        port=ep.port,
        user=user,
        password=password,
        database=db,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=IO_TIMEOUT,
        write_timeout=IO_TIMEOUT,
    )
    if ep.requires_tls and "ssl" not in kw and "ssl_ca" not in kw:
        kw.update(pymysql_tls(ep))
    args.update(kw)
    return pymysql.connect(**args)


def wait_port(host: str, port: int, timeout: float, alive: Callable[[], bool] | None = None) -> bool:
    """Waits until host:port accepts TCP connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# ---------------------------------------------------------------------------
# Capturing what a Python DB-API client sees


def _norm_value(v: Any) -> Any:
    # Values are compared as they come out of the driver; bytes stay bytes.
    if isinstance(v, (bytes, bytearray)) and len(v) > 4096:
        return ("sha256", len(v), hashlib.sha256(v).hexdigest())
    if isinstance(v, float):
        return repr(v)
    return v


def _norm_rows(rows: Iterable[Sequence[Any]] | None):
    if rows is None:
        return None
    return [tuple(_norm_value(v) for v in r) for r in rows]


def error_record(e: Exception, sqlstate: str | None = None) -> dict:
    code = e.args[0] if e.args else None
    msg = e.args[1] if len(e.args) > 1 else str(e)
    return {
        "error": type(e).__name__,
        "code": code,
        "sqlstate": getattr(e, "sqlstate", None) or sqlstate,
        "msg": msg,
    }


def _mysqldb_set(cur, conn) -> dict:
    rec = {
        "description": [tuple(d) for d in cur.description] if cur.description else None,
        "rows": _norm_rows(cur.fetchall()) if cur.description else None,
        "rowcount": cur.rowcount,
        "lastrowid": cur.lastrowid,
        "insert_id": conn.insert_id(),
        "info": conn.info(),
        "warning_count": conn.warning_count(),
    }
    return rec


def _pymysql_set(cur, conn) -> dict:
    res = cur._result
    fields = None
    if res is not None and getattr(res, "fields", None):
        fields = [
            (f.catalog, f.db, f.table_name, f.org_table, f.name, f.org_name,
             f.charsetnr, f.length, f.type_code, f.flags, f.scale)
            for f in res.fields
        ]
    rec = {
        "description": [tuple(d) for d in cur.description] if cur.description else None,
        "fields": fields,
        "rows": _norm_rows(cur.fetchall()) if cur.description else None,
        "rowcount": cur.rowcount,
        "lastrowid": cur.lastrowid,
        "message": res.message if res is not None else None,
        "warning_count": res.warning_count if res is not None else None,
        "server_status": res.server_status if res is not None else None,
        "has_next": res.has_next if res is not None else None,
    }
    return rec


def run_script(driver: str, conn, statements: Sequence[str], args_list=None) -> list[dict]:
    """Runs statements one by one on conn and returns what the client saw:
    every result set of every statement (metadata, rows, counts, info,
    warnings) or the error (code, SQLSTATE, message)."""
    out = []
    for i, sql in enumerate(statements):
        args = args_list[i] if args_list else None
        cur = conn.cursor()
        rec: dict[str, Any] = {"sql": sql}
        try:
            cur.execute(sql, args)
            sets = []
            while True:
                sets.append(_mysqldb_set(cur, conn) if driver == "mysqldb" else _pymysql_set(cur, conn))
                if not cur.nextset():
                    break
            rec["sets"] = sets
        except (MySQLdb.Error, pymysql.err.Error) as e:
            sqlstate = None
            if driver == "mysqldb":
                try:
                    sqlstate = conn.sqlstate()
                except Exception:  # connection gone
                    sqlstate = None
            rec.update(error_record(e, sqlstate))
        except UnicodeError as e:  # the statement cannot be encoded in the connection charset
            rec["client_error"] = f"{type(e).__name__}: {e}"
        finally:
            try:
                cur.close()
            except Exception:
                pass
        # Warnings of the statement, as SHOW WARNINGS lists them.
        wc = None
        if "sets" in rec:
            wc = rec["sets"][-1].get("warning_count")
        if wc:
            c2 = conn.cursor()
            c2.execute("SHOW WARNINGS")
            rec["warnings"] = [tuple(r) for r in c2.fetchall()]
            c2.close()
        out.append(rec)
    return out


def diff_captures(direct: list, proxied: list, label: str = "") -> str | None:
    """Returns a readable description of the first differences, or None."""
    if direct == proxied:
        return None
    lines = []
    for i, (a, b) in enumerate(zip(direct, proxied)):
        if a != b:
            sql = a.get("sql") if isinstance(a, dict) else None
            lines.append(f"{label} item {i} differs" + (f" (sql: {sql!r})" if sql else ""))
            da = pretty(a).splitlines()
            db = pretty(b).splitlines()
            lines.extend(difflib.unified_diff(da, db, "direct", "proxy", lineterm="", n=2))
            if len(lines) > 200:
                break
    if len(direct) != len(proxied):
        lines.append(f"{label} lengths differ: direct {len(direct)}, proxy {len(proxied)}")
    return "\n".join(lines[:400])


def pretty(x: Any) -> str:
    import pprint

    return pprint.pformat(x, width=110)


def assert_same(direct, proxied, label=""):
    d = diff_captures(direct, proxied, label)
    assert d is None, d


# ---------------------------------------------------------------------------
# The mariadb command-line client

MARIADB_CLI = "mariadb"
_TIMING_RE = re.compile(r" \(\d+\.\d+ sec\)")


def cli(ep: Endpoint, *args: str, user=APP_USER, password=APP_PASSWORD, db=APP_DB,
        sql: str | None = None, stdin: str | None = None, timeout: float = 120,
        tls: bool | None = None, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs the mariadb CLI against ep with deterministic options."""
    cmd = [MARIADB_CLI, "--no-defaults", f"-h{ep.host}", f"-P{ep.port}", "--protocol=tcp",
           f"-u{user}", "--connect-timeout=10"]
    if password is not None:
        cmd.append(f"--password={password}")
    if tls is True:
        cmd.append("--ssl")
        if ep.tls_ca:
            cmd += [f"--ssl-ca={ep.tls_ca}", "--ssl-verify-server-cert"]
    elif tls is False:
        cmd.append("--skip-ssl")
    elif ep.requires_tls:
        cmd += ["--ssl", f"--ssl-ca={ep.tls_ca}"]
    cmd += list(args)
    if db is not None:
        cmd.append(db)
    if sql is not None:
        cmd += ["-e", sql]
    env = dict(os.environ)
    env.pop("MYSQL_PWD", None)
    env.pop("MYSQL_HOST", None)
    env.pop("MYSQL_TCP_PORT", None)
    if extra_env:
        env.update(extra_env)
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=env, errors="backslashreplace")


def normalize_cli(text: str) -> str:
    return _TIMING_RE.sub(" (T sec)", text)


# ---------------------------------------------------------------------------
# Raw protocol (for malformed-input tests)


class RawConn:
    """A minimal MySQL protocol client: just enough to log in with
    mysql_native_password and send arbitrary packets."""

    def __init__(self, host: str, port: int, timeout: float = 10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.seq = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by peer")
            buf += chunk
        return buf

    def read_packet(self) -> bytes:
        payload = b""
        while True:
            hdr = self._recv_exact(4)
            length = hdr[0] | (hdr[1] << 8) | (hdr[2] << 16)
            self.seq = (hdr[3] + 1) & 0xFF
            payload += self._recv_exact(length)
            if length < 0xFFFFFF:
                return payload

    def write_packet(self, payload: bytes, seq: int | None = None):
        s = self.seq if seq is None else seq
        self.sock.sendall(struct.pack("<I", len(payload))[:3] + bytes([s & 0xFF]) + payload)
        self.seq = (s + 1) & 0xFF

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def read_handshake(self) -> dict:
        p = self.read_packet()
        if p[0] == 0xFF:
            raise ConnectionError(f"server sent an error instead of a handshake: {p!r}")
        i = 1
        end = p.index(b"\0", i)
        version = p[i:end].decode()
        i = end + 1
        i += 4  # connection id
        salt1 = p[i:i + 8]
        i += 9
        cap_lo = struct.unpack_from("<H", p, i)[0]
        i += 2
        charset = p[i]
        i += 1
        i += 2  # status
        cap_hi = struct.unpack_from("<H", p, i)[0]
        i += 2
        auth_len = p[i]
        i += 1
        i += 10  # reserved (6) + MariaDB extended capabilities (4)
        salt2_len = max(13, auth_len - 8)
        salt2 = p[i:i + salt2_len].rstrip(b"\0")
        i += salt2_len
        plugin = p[i:].split(b"\0")[0].decode() if i < len(p) else ""
        return {"version": version, "caps": cap_lo | (cap_hi << 16), "charset": charset,
                "salt": salt1 + salt2, "plugin": plugin}

    @staticmethod
    def native_scramble(password: str, salt: bytes) -> bytes:
        h1 = hashlib.sha1(password.encode()).digest()
        h2 = hashlib.sha1(h1).digest()
        h3 = hashlib.sha1(salt[:20] + h2).digest()
        return bytes(a ^ b for a, b in zip(h1, h3))

    def login(self, user=APP_USER, password=APP_PASSWORD, db=APP_DB) -> bytes:
        hs = self.read_handshake()
        caps = (0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00080000
                | 0x00020000)  # LONG_PASSWORD, LONG_FLAG, PROTOCOL_41, SECURE_CONN, PLUGIN_AUTH, MULTI_RESULTS
        if db:
            caps |= 0x00000008  # CONNECT_WITH_DB
        auth = self.native_scramble(password, hs["salt"])
        payload = struct.pack("<IIB23s", caps, 1 << 24, 45, b"")
        payload += user.encode() + b"\0" + bytes([len(auth)]) + auth
        if db:
            payload += db.encode() + b"\0"
        payload += b"mysql_native_password\0"
        self.write_packet(payload)
        resp = self.read_packet()
        if resp[0] == 0xFE:  # auth switch
            rest = resp[1:]
            name, _, data = rest.partition(b"\0")
            if name == b"mysql_native_password":
                self.write_packet(self.native_scramble(password, data.rstrip(b"\0")))
                resp = self.read_packet()
        return resp

    def command(self, payload: bytes) -> bytes:
        self.write_packet(payload, seq=0)
        return self.read_packet()


def parse_err(p: bytes) -> tuple[int, str | None, str] | None:
    if not p or p[0] != 0xFF:
        return None
    code = struct.unpack_from("<H", p, 1)[0]
    if p[3:4] == b"#":
        return code, p[4:9].decode(), p[9:].decode("utf-8", "replace")
    return code, None, p[3:].decode("utf-8", "replace")


# ---------------------------------------------------------------------------


def run(cmd: Sequence[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)


# ---------------------------------------------------------------------------
# clients/qlbind.c: server-side prepared statements with the test's own values


def build_qlbind(out_dir: Path) -> str:
    """Compiles clients/qlbind.c against libmariadb; returns the binary's path."""
    src = Path(__file__).resolve().parent / "clients" / "qlbind.c"
    out = Path(out_dir) / "qlbind"
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmariadb"], capture_output=True,
                           text=True, timeout=30)
    if flags.returncode != 0:
        raise RuntimeError("pkg-config libmariadb failed (is libmariadb-dev installed?): "
                           + flags.stderr)
    cc = os.environ.get("CC", "cc")
    cp = subprocess.run([cc, "-std=c11", "-O1", "-Wall", "-o", str(out), str(src),
                         *flags.stdout.split()], capture_output=True, text=True, timeout=120)
    if cp.returncode != 0:
        raise RuntimeError(f"compiling {src} failed:\n{cp.stderr}")
    return str(out)


def run_qlbind(binary: str, ep: Endpoint, script: Sequence[Sequence[str]], user=APP_USER,
               password=APP_PASSWORD, db=APP_DB, timeout: float = 60) -> list[str]:
    """Runs one qlbind session: `script` is a list of commands, each a list
    of fields (["P", sql], ["E", "s:text", "i:42"], ["Q", sql], ["C"]).
    Returns the output lines; a connection failure or a bad script fails."""
    text = "".join("\t".join(fields) + "\n" for fields in script)
    cp = subprocess.run([binary, ep.host, str(ep.port), user, password, db or ""], input=text,
                        capture_output=True, text=True, timeout=timeout)
    if cp.returncode != 0:
        raise AssertionError(f"qlbind exited {cp.returncode}:\n{cp.stdout}\n{cp.stderr}")
    return cp.stdout.splitlines()
