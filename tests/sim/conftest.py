"""A small raw WebSocket server written to the simulator's protocol, for the sim tests.

Hand-written handshake and frames (RFC 6455) so the tests depend on no drive server:
`ProtocolServer(reply)` sends the Engine.IO open packet, answers engine pings, and for
each `42["telemetry",...]` calls `reply(data) -> [text frames]`. Everything it receives
is kept in `received` for the tests' assertions.
"""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from typing import Callable

import pytest

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPEN_PACKET = '0{"sid":"test","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'


def _recv_exact(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    return data


def _read_frame(conn: socket.socket) -> tuple[int, bytes]:
    first, second = _recv_exact(conn, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack(">H", _recv_exact(conn, 2))[0]
    elif length == 127:
        length = struct.unpack(">Q", _recv_exact(conn, 8))[0]
    mask = _recv_exact(conn, 4) if second & 0x80 else b"\0\0\0\0"
    payload = _recv_exact(conn, length)
    key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
    unmasked = (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big")
    return first & 0x0F, unmasked


def _write_frame(conn: socket.socket, text: str, opcode: int = 1) -> None:
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack(">BB", 0x80 | opcode, size)
    elif size < 65536:
        header = struct.pack(">BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack(">BBQ", 0x80 | opcode, 127, size)
    conn.sendall(header + payload)


class ProtocolServer:
    """One-connection-at-a-time loopback server speaking Engine.IO 4 text frames."""

    def __init__(self, reply: Callable[[dict], list[str]], ping_first: bool = False) -> None:
        self.reply = reply
        self.ping_first = ping_first
        self.received: list[str] = []
        self.paths: list[str] = []
        self.errors: list[BaseException] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            try:
                with conn:
                    self._session(conn)
            except (ConnectionError, OSError):
                pass
            except Exception as exc:  # surfaced by the tests through self.errors
                self.errors.append(exc)

    def _session(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        lines = request.decode("latin-1").split("\r\n")
        self.paths.append(lines[0].split(" ")[1])
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        key = headers.get("Sec-WebSocket-Key", headers.get("sec-websocket-key", "")).encode()
        accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest()).decode()
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        _write_frame(conn, OPEN_PACKET)
        if self.ping_first:
            _write_frame(conn, "2")
        while True:
            opcode, payload = _read_frame(conn)
            if opcode == 8:
                return
            if opcode == 9:
                _write_frame(conn, payload.decode("latin-1"), opcode=10)
                continue
            text = payload.decode("utf-8")
            self.received.append(text)
            if text == "2":
                _write_frame(conn, "3")
            elif text.startswith('42["telemetry"'):
                for frame in self.reply(json.loads(text[2:])[1]):
                    _write_frame(conn, frame)

    def close(self) -> None:
        self._sock.close()


def steer_packet(steering: str, throttle: str) -> str:
    """A drive server's steer event, both values strings as the simulator requires."""
    return "42" + json.dumps(["steer", {"steering_angle": steering, "throttle": throttle}])


@pytest.fixture
def protocol_server():
    """Factory: protocol_server(reply, ping_first=False) -> a started ProtocolServer."""
    servers: list[ProtocolServer] = []

    def start(reply: Callable[[dict], list[str]], ping_first: bool = False) -> ProtocolServer:
        server = ProtocolServer(reply, ping_first)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
        assert not server.errors, server.errors
