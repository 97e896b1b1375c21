#!/usr/bin/python3
"""Plain TCP relay that records every MySQL/MariaDB wire-protocol frame.

The relay listens on 127.0.0.1:LISTEN_PORT, opens one upstream connection
to the real server per accepted client, forwards bytes unchanged in both
directions and, on the side, splits each direction into protocol frames
(3-byte little-endian payload length + 1-byte sequence id + payload).  Every
frame becomes one line of a capture file:

    C <seq> <payload hex>     client -> server
    S <seq> <payload hex>     server -> client

A frame with an empty payload is written as "C <seq>" (no hex field).  A
frame of length 0xffffff is just a line of its own; the continuation frames
follow on the next lines, exactly as they travelled.

Lines beginning with '#' are comments.  The file starts with a header:

    # source: MariaDB <version> (greeting version string "<exact>"), captured <date> with tests/tools/capture_relay.py
    # client: ...
    # scenario: ...
    # client_capabilities: 0x........          (HandshakeResponse41, lower 32 bits)
    # client_mariadb_ext_capabilities: 0x........   (only when present)
    # server_capabilities: 0x........          (greeting, lower+upper 16 bits)
    # server_mariadb_ext_capabilities: 0x........
    # server_auth_plugin: <plugin name from the greeting>

"# step: ..." comments can be interleaved between frames to label the parts
of a scenario.  Nothing is parsed beyond the handshake; the relay does not
support TLS or the compressed protocol (the payloads would be opaque), and
it refuses to record a session in which the client asks for either.

Usage as a program (one connection, then exit):

    capture_relay.py --listen-port 33299 --server-port 33201 \
        --out tests/data/captures/x.txt --client "..." --scenario "..." \
        [--step "first command" --step "second command" ...]

Each --step text is written as "# step: <text>" just before the next
client frame with sequence id 0 after the handshake (i.e. before each
command), in order.

Usage as a library: see CaptureRelay below (capture_scenarios.py uses it).
"""

import argparse
import datetime
import os
import select
import socket
import struct
import sys
import threading
import time

CLIENT_LONG_PASSWORD = 0x00000001  # a.k.a. CLIENT_MYSQL in MariaDB
CLIENT_PROTOCOL_41 = 0x00000200
CLIENT_SSL = 0x00000800
CLIENT_COMPRESS = 0x00000020


class FrameSplitter:
    """Accumulates a byte stream and yields complete (seq, payload) frames."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= 4:
            length = self.buf[0] | (self.buf[1] << 8) | (self.buf[2] << 16)
            if len(self.buf) < 4 + length:
                break
            seq = self.buf[3]
            payload = bytes(self.buf[4:4 + length])
            del self.buf[:4 + length]
            out.append((seq, payload))
        return out


def parse_greeting(payload):
    """Returns dict with server version, capabilities and auth plugin."""
    info = {}
    if not payload or payload[0] != 10:
        return info
    pos = 1
    end = payload.index(b"\0", pos)
    info["server_version"] = payload[pos:end].decode("latin1")
    pos = end + 1
    pos += 4  # connection id
    pos += 8 + 1  # auth data part 1 + filler
    cap_low = struct.unpack_from("<H", payload, pos)[0]
    pos += 2
    if pos >= len(payload):
        info["server_capabilities"] = cap_low
        return info
    pos += 1  # charset
    pos += 2  # status flags
    cap_high = struct.unpack_from("<H", payload, pos)[0]
    pos += 2
    caps = cap_low | (cap_high << 16)
    info["server_capabilities"] = caps
    auth_len = payload[pos]
    pos += 1
    pos += 6  # filler
    ext = struct.unpack_from("<I", payload, pos)[0]
    pos += 4
    if not (caps & CLIENT_LONG_PASSWORD):
        info["server_mariadb_ext_capabilities"] = ext
    if caps & 0x00008000:  # CLIENT_SECURE_CONNECTION
        pos += max(13, auth_len - 8)
    if caps & 0x00080000 and pos < len(payload):  # CLIENT_PLUGIN_AUTH
        end = payload.find(b"\0", pos)
        if end < 0:
            end = len(payload)
        info["server_auth_plugin"] = payload[pos:end].decode("latin1")
    return info


def parse_handshake_response(payload):
    info = {}
    if len(payload) < 4:
        return info
    caps = struct.unpack_from("<I", payload, 0)[0]
    if not (caps & CLIENT_PROTOCOL_41):
        info["client_capabilities"] = struct.unpack_from("<H", payload, 0)[0]
        return info
    info["client_capabilities"] = caps
    if len(payload) >= 32 and not (caps & CLIENT_LONG_PASSWORD):
        info["client_mariadb_ext_capabilities"] = struct.unpack_from(
            "<I", payload, 28)[0]
    return info


class CaptureRelay:
    """Relay for one or more sequential client connections into one file.

    relay = CaptureRelay(33299, ("127.0.0.1", 33201), path, client=..., scenario=...)
    relay.start()
    ... connect a client to 127.0.0.1:33299 ...
    relay.mark("step: something")     # comment at the current position
    relay.queue_steps([...])          # comments placed before next commands
    relay.close()                     # waits for the connection(s), writes file
    """

    def __init__(self, listen_port, upstream, out_path, client, scenario,
                 crafted=None, extra_header=None, max_connections=1):
        self.listen_port = listen_port
        self.upstream = upstream
        self.out_path = out_path
        self.client = client
        self.scenario = scenario
        self.crafted = crafted
        self.extra_header = list(extra_header or [])
        self.max_connections = max_connections
        self.lines = []
        self.lock = threading.Lock()
        self.info = {}
        self.pending_steps = []
        self.threads = []
        self.errors = []
        self.connections = 0
        self.active_socks = []
        self.busy = False
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", listen_port))
        self.listener.listen(4)
        self.accept_thread = None

    # -- public API ---------------------------------------------------
    def start(self):
        self.accept_thread = threading.Thread(target=self._accept_loop,
                                              daemon=True)
        self.accept_thread.start()

    def mark(self, text, settle_timeout=2.0):
        """Appends "# <text>" after every frame already sent by either peer.

        Waits until the relay has consumed and logged all bytes currently
        queued on its sockets, so a mark placed right after a command that
        has no response (COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE) still
        lands after that command's frame.  On loopback a completed send()
        is immediately readable on the peer socket (for senders that set
        TCP_NODELAY, as libmariadb, PyMySQL and raw_mysql_client.py do).
        """
        deadline = time.monotonic() + settle_timeout
        quiet_checks = 0
        while True:
            with self.lock:
                socks = [s for s in self.active_socks if s.fileno() >= 0]
                pending = False
                if self.busy:
                    pending = True
                elif socks:
                    try:
                        readable, _, _ = select.select(socks, [], [], 0)
                        pending = bool(readable)
                    except (OSError, ValueError):
                        pending = False
                quiet_checks = 0 if pending else quiet_checks + 1
                # Two quiet looks 5 ms apart, in case a sender without
                # TCP_NODELAY still has a small segment in flight.
                if quiet_checks >= 2 or time.monotonic() > deadline:
                    self.lines.append("# " + text)
                    return
            time.sleep(0.005)

    def queue_steps(self, steps):
        with self.lock:
            self.pending_steps.extend(steps)

    def close(self, timeout=10.0):
        if self.accept_thread:
            self.accept_thread.join(timeout)
        for t in list(self.threads):
            t.join(timeout)
        try:
            self.listener.close()
        except OSError:
            pass
        self._write()

    # -- internals ----------------------------------------------------
    def _accept_loop(self):
        while self.connections < self.max_connections:
            try:
                client_sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            server_sock = socket.create_connection(self.upstream)
            for sk in (client_sock, server_sock):
                sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.max_connections > 1:
                self.mark("connection: %d" % self.connections)
            t = threading.Thread(target=self._pump,
                                 args=(client_sock, server_sock), daemon=True)
            self.threads.append(t)
            t.start()
            # Sequential connections only: wait for this one to finish so
            # frames of different connections never interleave.
            t.join()

    def _record(self, direction, seq, payload, state):
        with self.lock:
            if direction == "S" and not state["greeting_seen"]:
                state["greeting_seen"] = True
                g = parse_greeting(payload)
                for k, v in g.items():
                    self.info.setdefault(k, v)
            elif direction == "C" and not state["response_seen"]:
                state["response_seen"] = True
                r = parse_handshake_response(payload)
                caps = r.get("client_capabilities", 0)
                if caps & (CLIENT_SSL | CLIENT_COMPRESS):
                    self.errors.append(
                        "client requested TLS or compression (caps 0x%08x)"
                        % caps)
                for k, v in r.items():
                    self.info.setdefault(k, v)
            elif direction == "C" and seq == 0 and self.pending_steps:
                self.lines.append("# step: " + self.pending_steps.pop(0))
            if payload:
                self.lines.append("%s %d %s" % (direction, seq, payload.hex()))
            else:
                self.lines.append("%s %d" % (direction, seq))

    def _pump(self, client_sock, server_sock):
        splitters = {client_sock: FrameSplitter(), server_sock: FrameSplitter()}
        peer = {client_sock: server_sock, server_sock: client_sock}
        direction = {client_sock: "C", server_sock: "S"}
        state = {"greeting_seen": False, "response_seen": False}
        open_socks = [client_sock, server_sock]
        with self.lock:
            self.active_socks = [client_sock, server_sock]
        try:
            while open_socks:
                readable, _, _ = select.select(open_socks, [], [], 30.0)
                if not readable:
                    self.errors.append("relay idle for 30 s, giving up")
                    break
                with self.lock:
                    self.busy = True
                try:
                    self._pump_once(readable, open_socks, splitters, peer,
                                    direction, state, server_sock)
                finally:
                    with self.lock:
                        self.busy = False
                if server_sock not in open_socks:
                    open_socks = []
        except OSError as e:
            self.errors.append("relay socket error: %s" % e)
        finally:
            with self.lock:
                self.active_socks = []
            for s in (client_sock, server_sock):
                leftover = splitters[s].buf
                if leftover:
                    self.errors.append("%d trailing bytes from %s not a full frame"
                                       % (len(leftover), direction[s]))
                try:
                    s.close()
                except OSError:
                    pass

    def _pump_once(self, readable, open_socks, splitters, peer, direction,
                   state, server_sock):
        for s in readable:
            data = s.recv(65536)
            if not data:
                # Half-close: propagate EOF and stop reading this side.
                open_socks.remove(s)
                with self.lock:
                    if s in self.active_socks:
                        self.active_socks.remove(s)
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            # Log before forwarding so that by the time the peer has seen a
            # frame it is already in self.lines.
            for seq, payload in splitters[s].feed(data):
                self._record(direction[s], seq, payload, state)
            peer[s].sendall(data)

    def header_lines(self):
        today = datetime.date.today().isoformat()
        version = self.info.get("server_version", "unknown")
        short = version
        if short.startswith("5.5.5-"):  # MariaDB's replication-compat prefix
            short = short[len("5.5.5-"):]
        short = short.split("-")[0]
        h = ["# source: MariaDB %s (greeting version string \"%s\"), captured %s"
             " with tests/tools/capture_relay.py" % (short, version, today),
             "# client: " + self.client,
             "# scenario: " + self.scenario]
        if self.crafted:
            h.append("# crafted: " + self.crafted)
        if "client_capabilities" in self.info:
            h.append("# client_capabilities: 0x%08x" % self.info["client_capabilities"])
        if "client_mariadb_ext_capabilities" in self.info:
            h.append("# client_mariadb_ext_capabilities: 0x%08x"
                     % self.info["client_mariadb_ext_capabilities"])
        if "server_capabilities" in self.info:
            h.append("# server_capabilities: 0x%08x" % self.info["server_capabilities"])
        if "server_mariadb_ext_capabilities" in self.info:
            h.append("# server_mariadb_ext_capabilities: 0x%08x"
                     % self.info["server_mariadb_ext_capabilities"])
        if "server_auth_plugin" in self.info:
            h.append("# server_auth_plugin: " + self.info["server_auth_plugin"])
        for e in self.extra_header:
            h.append("# " + e)
        for e in self.errors:
            h.append("# relay-warning: " + e)
        return h

    def _write(self):
        with self.lock:
            text = "\n".join(self.header_lines() + self.lines) + "\n"
        tmp = self.out_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.out_path)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--server-host", default="127.0.0.1")
    ap.add_argument("--server-port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--crafted", default=None)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--step", action="append", default=[])
    args = ap.parse_args()
    relay = CaptureRelay(args.listen_port, (args.server_host, args.server_port),
                         args.out, args.client, args.scenario,
                         crafted=args.crafted,
                         max_connections=args.connections)
    relay.queue_steps(args.step)
    relay.start()
    print("relay listening on 127.0.0.1:%d" % args.listen_port, flush=True)
    relay.close(timeout=None)
    for e in relay.errors:
        print("warning: " + e, file=sys.stderr)
    return 1 if relay.errors else 0


if __name__ == "__main__":
    sys.exit(main())
