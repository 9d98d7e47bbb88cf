"""The Udacity simulator's socket client, on the wire, byte for byte.

The simulator is a raw WebSocket client of a drive server: it opens
`ws://host:port/socket.io/?EIO=4&transport=websocket`, never sends the Socket.IO
namespace connect `40`, emits `42["telemetry",{...}]` with every value an N4-formatted
string in its machine's culture, answers server pings `2` with `3`, and sends its own
engine pings `2` every 25 s. `SimulatorWire` does exactly
that and nothing more; the closed loop (physics, lock-step) lives in `client.py`.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import websocket

from pilot.udacity.numbers import format_n4

SOCKET_PATH = "/socket.io/?EIO=4&transport=websocket"


class WireError(ConnectionError):
    """The drive server could not be reached, closed the connection, or broke the protocol."""


class WireTimeout(WireError):
    """The drive server sent nothing within the wire's timeout."""


def event_packet(name: object, *data: object) -> str:
    """A Socket.IO event as a text frame: `42["name"]` or `42["name",data]` (compact JSON, as the simulator's)."""
    return "42" + json.dumps([name, *data], separators=(",", ":"))


def telemetry_packet(steering_deg: float, throttle: float, speed_mph: float,
                     jpeg_bytes: bytes, decimal_comma: bool = False) -> str:
    """The text frame the simulator sends in autonomous mode."""
    data = {
        "steering_angle": format_n4(steering_deg, decimal_comma),
        "throttle": format_n4(throttle, decimal_comma),
        "speed": format_n4(speed_mph, decimal_comma),
        "image": base64.b64encode(jpeg_bytes).decode("ascii"),
    }
    return event_packet("telemetry", data)


MANUAL_PACKET = event_packet("telemetry", {})


def parse_event(payload: str) -> tuple[str, dict[str, Any] | None]:
    """Parse the JSON of a `42` packet (without the `42`) as the simulator's parser does.

    The simulator accepts only `["name"]` or `["name", {object}]`; anything else is a
    WireError here, where the real client would throw and stop driving.
    """
    try:
        event = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise WireError(f"the drive server sent an event that is not JSON: {payload[:80]!r}") from exc
    if (not isinstance(event, list) or not 1 <= len(event) <= 2 or not isinstance(event[0], str)
            or (len(event) == 2 and not isinstance(event[1], dict))):
        raise WireError("the drive server sent an event the simulator cannot read "
                        f"(it accepts only [\"name\"] or [\"name\", {{...}}]): {payload[:80]!r}")
    return event[0], (event[1] if len(event) == 2 else None)


class SimulatorWire:
    """One simulator-like connection to a drive server (autonomous-mode client)."""

    def __init__(self, host: str, port: int, decimal_comma: bool = False, timeout_s: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.decimal_comma = decimal_comma
        self.timeout_s = timeout_s
        self.open_info: dict[str, Any] | None = None
        self.pings_answered = 0
        self._ws: websocket.WebSocket | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}{SOCKET_PATH}"

    def open_socket(self) -> None:
        """Open the raw WebSocket (the simulator's first "open": it may emit right away)."""
        try:
            self._ws = websocket.create_connection(self.url, timeout=self.timeout_s)
        except (OSError, websocket.WebSocketException) as exc:
            raise WireError(f"cannot connect to a drive server at {self.url}: {exc}") from exc

    def read_open_packet(self) -> dict[str, Any]:
        """Wait for the server's Engine.IO `0{...}` open packet (the simulator's second "open")."""
        while True:
            message = self._recv_text()
            if message.startswith("0"):
                try:
                    self.open_info = json.loads(message[1:] or "{}")
                except json.JSONDecodeError as exc:
                    raise WireError(f"the drive server's open packet is not JSON: {message[:80]!r}") from exc
                return self.open_info
            self._handle_engine_packet(message)

    def connect(self) -> dict[str, Any]:
        """Open the socket and read the open packet; never sends `40`. Returns the open info."""
        self.open_socket()
        return self.read_open_packet()

    def send_telemetry(self, steering_deg: float, throttle: float, speed_mph: float, jpeg_bytes: bytes) -> None:
        """Emit one autonomous-mode telemetry (N4 strings, steering in degrees, speed in mph)."""
        self._send(telemetry_packet(steering_deg, throttle, speed_mph, jpeg_bytes, self.decimal_comma))

    def send_manual(self) -> None:
        """Emit the manual-mode telemetry `{}` (the user is holding W or S)."""
        self._send(MANUAL_PACKET)

    def ping(self) -> None:
        """Send the client's own engine ping `2`, as the simulator does every 25 s."""
        self._send("2")

    def receive_event(self) -> tuple[str, dict[str, Any] | None]:
        """Wait for the next Socket.IO event; answers pings, skips other engine packets."""
        while True:
            message = self._recv_text()
            if message.startswith("42"):
                body = message[2:]
                if body.startswith("/"):      # an event for another namespace: not ours
                    continue
                return parse_event(body.lstrip("0123456789"))  # drop an ack id if any
            self._handle_engine_packet(message)

    def next_message(self) -> str:
        """The next raw message that is not a server ping (those are answered).

        Messages arrive in the order the server sent them, so `ping()` then `next_message() == "3"`
        proves nothing else was in flight, without waiting for a timeout.
        """
        while True:
            message = self._recv_text()
            if not message.startswith("2"):
                return message
            self._handle_engine_packet(message)

    def close(self) -> None:
        """Close the WebSocket (no Engine.IO close packet: the simulator just drops it)."""
        if self._ws is not None:
            try:
                self._ws.close()
            except (OSError, websocket.WebSocketException):
                pass
            self._ws = None

    def drop(self) -> None:
        """Drop the TCP connection with no WebSocket close, as a simulator that was killed."""
        if self._ws is not None and self._ws.sock is not None:
            try:
                self._ws.sock.close()
            except OSError:
                pass
        self._ws = None

    def __enter__(self) -> "SimulatorWire":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _handle_engine_packet(self, message: str) -> None:
        kind = message[:1]
        if kind == "2":
            self._send("3" + message[1:])
            self.pings_answered += 1
        elif kind == "1":
            raise WireError("the drive server closed the Engine.IO session")
        elif message.startswith("41"):
            raise WireError("the drive server disconnected the Socket.IO namespace")
        elif message.startswith("44"):
            raise WireError(f"the drive server refused the connection: {message[2:200]}")
        # "0" (a late open), "3" (pong to our ping), "40" (namespace ack), "43", "6": nothing to do

    def _send(self, text: str) -> None:
        if self._ws is None:
            raise WireError("not connected: call connect() first")
        try:
            self._ws.send(text)
        except (OSError, websocket.WebSocketException) as exc:
            raise WireError(f"the drive server at {self.url} dropped the connection: {exc}") from exc

    def _recv_text(self) -> str:
        if self._ws is None:
            raise WireError("not connected: call connect() first")
        while True:
            try:
                message = self._ws.recv()
            except websocket.WebSocketTimeoutException as exc:
                raise WireTimeout(f"the drive server at {self.url} sent nothing for {self.timeout_s:g} s") from exc
            except (OSError, websocket.WebSocketException) as exc:
                raise WireError(f"the drive server at {self.url} dropped the connection: {exc}") from exc
            if isinstance(message, str) and message:
                return message
