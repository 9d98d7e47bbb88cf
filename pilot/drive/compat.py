"""Every override of python-socketio, python-engineio and eventlet internals, in one place.

The Udacity simulator's Socket.IO client is a 2017 one (it speaks Engine.IO 4 frames but
never sends the namespace connect `40`, and pings the server itself), and the
libraries have no public hooks for what it needs. Each override below names the private
API it touches; `WRITTEN_AGAINST` gives the versions they were written and tested against,
and `missing_hooks()` (run by the test suite) says in one sentence per hook what an upgrade
removed or renamed.

- Implicit namespace connect: the simulator never sends `40`; its first event connects it
  (`UdacityCompatibleServer._handle_event`).
- Client pings: the simulator pings every 25 s, Engine.IO 4 servers drop client pings;
  `_PingAnsweringSocket.receive` answers `3` (installed in `_handle_eio_connect`).
- Oversized or unparsable packets are answered with the safe command instead of being
  dropped (`UdacityCompatibleServer._handle_eio_message`).
- Faster WebSocket unmasking: eventlet unmasks client frames a byte at a time in Python
  (about 5 ms for a 25 kB frame); `_NumpyMaskWebSocket._apply_mask` does it with numpy
  (same bytes), installed through engineio's per-mode WebSocket table (`use_fast_websocket`).
"""
from __future__ import annotations

import binascii
import inspect
import warnings
from importlib.metadata import version
from typing import Any, Callable

import numpy as np
import socketio
from engineio import packet as eio_packet
from engineio import socket as eio_socket

with warnings.catch_warnings():  # eventlet warns that it is in maintenance mode: we know
    warnings.simplefilter("ignore")
    import eventlet.websocket
    from engineio.async_drivers.eventlet import WebSocketWSGI as EngineioWebSocketWSGI

WRITTEN_AGAINST = {"python-socketio": "5.18.1", "python-engineio": "4.15.1", "eventlet": "0.41.3"}
TRANSPORT_LIMIT_FACTOR = 4         # above this many times the payload limit, the socket is closed
BINARY_PACKET_TYPES = ("5", "6")   # Socket.IO BINARY_EVENT, BINARY_ACK: attachments follow

# (library, owner, attribute, parameters the override relies on)
HOOKS = (
    ("python-socketio", socketio.Server, "_handle_eio_connect", ("eio_sid", "environ")),
    ("python-socketio", socketio.Server, "_handle_event", ("eio_sid", "namespace", "id", "data")),
    ("python-socketio", socketio.Server, "_handle_eio_message", ("eio_sid", "data")),
    ("python-socketio", socketio.Server, "_trigger_event", ()),
    ("python-socketio", socketio.Server, "_binary_packet", ()),
    ("python-socketio", socketio.Server, "environ", ()),
    ("python-socketio", socketio.base_manager.BaseManager, "pre_connect", ("eio_sid", "namespace")),
    ("python-socketio", socketio.base_manager.BaseManager, "connect", ("sid", "namespace")),
    ("python-socketio", socketio.base_manager.BaseManager, "sid_from_eio_sid", ("eio_sid", "namespace")),
    ("python-engineio", eio_socket.Socket, "receive", ("pkt",)),
    ("python-engineio", EngineioWebSocketWSGI, "_handle_hybi_request", ("environ",)),
    ("eventlet", eventlet.websocket.RFC6455WebSocket, "_apply_mask", ("data", "mask", "length", "offset")),
    ("eventlet", eventlet.websocket.RFC6455WebSocket, "wait", ()),
    ("eventlet", eventlet.websocket.WebSocket, "log", ()),
)


def _has_attribute(owner: type, name: str) -> bool:
    """A class attribute, or an instance attribute set in __init__ (looked up in its source)."""
    if hasattr(owner, name):
        return True
    try:
        return f"self.{name} =" in inspect.getsource(owner.__init__)
    except (OSError, TypeError):
        return False


def missing_hooks() -> list[str]:
    """One sentence per private API an override relies on that the installed libraries lack."""
    problems = []
    for library, owner, name, parameters in HOOKS:
        where = f"{owner.__module__}.{owner.__qualname__}.{name}"
        advice = (f"pilot/drive/compat.py overrides it (written against {library} "
                  f"{WRITTEN_AGAINST[library]}, installed {version(library)}): review the override "
                  f"before upgrading.")
        if not _has_attribute(owner, name):
            problems.append(f"{where} is gone; {advice}")
            continue
        member = getattr(owner, name, None)
        if parameters and callable(member):
            found = tuple(inspect.signature(member).parameters)
            lacking = [p for p in parameters if p not in found]
            if lacking:
                problems.append(f"{where} no longer takes {', '.join(lacking)}; {advice}")
    return problems


# ---------------------------------------------------------------- python-engineio: client pings

class _PingAnsweringSocket(eio_socket.Socket):
    """An Engine.IO socket that answers a client's ping `2` with `3`, as Engine.IO 3 did.

    Engine.IO 4 servers ping and clients pong; the simulator's client pings too (every
    25 s) and python-engineio 4 drops those pings. Answering costs nothing and keeps a
    client that waits for its pong happy.
    """

    def receive(self, pkt: eio_packet.Packet) -> None:
        if pkt.packet_type == eio_packet.PING:
            self.send(eio_packet.Packet(eio_packet.PONG, pkt.data))
        else:
            super().receive(pkt)



# ---------------------------------------------------------------- python-socketio: the simulator's client

class UdacityCompatibleServer(socketio.Server):
    """python-socketio 5 server that also serves the Udacity simulator's client.

    `unreadable_handler(sid, reason)` is called for a message that is over
    `max_payload_bytes` or is not a Socket.IO packet; it should answer the client.
    """

    def __init__(self, max_payload_bytes: int,
                 unreadable_handler: Callable[[str, str], None], **kwargs: Any) -> None:
        kwargs.setdefault("max_http_buffer_size", TRANSPORT_LIMIT_FACTOR * max_payload_bytes)
        super().__init__(**kwargs)
        self.max_payload_bytes = max_payload_bytes
        self.unreadable_handler = unreadable_handler

    def _handle_eio_connect(self, eio_sid: str, environ: dict) -> Any:
        socket = self.eio.sockets.get(eio_sid)
        if type(socket) is eio_socket.Socket:
            # engineio builds its sockets inline with no class hook; the subclass adds no state
            socket.__class__ = _PingAnsweringSocket
        return super()._handle_eio_connect(eio_sid, environ)

    def _connect_implicitly(self, eio_sid: str, namespace: str) -> None:
        """Connect a client that emits without sending `40` (the simulator), sending nothing."""
        if self.manager.sid_from_eio_sid(eio_sid, namespace) is not None:
            return
        if namespace not in self.handlers and namespace not in self.namespace_handlers:
            return
        sid = self.manager.pre_connect(eio_sid, namespace)
        if sid is None:
            return
        self.manager.connect(sid, namespace)
        self._trigger_event("connect", namespace, sid, self.environ.get(eio_sid, {}), None)

    def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: list) -> None:
        self._connect_implicitly(eio_sid, namespace or "/")
        super()._handle_event(eio_sid, namespace, id, data)

    def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        if eio_sid not in self._binary_packet and len(data) > self.max_payload_bytes:
            self._reject(eio_sid, f"the payload is {len(data)} bytes, over the "
                                  f"{self.max_payload_bytes}-byte limit")
            return
        if isinstance(data, str) and data[:1] in BINARY_PACKET_TYPES:
            # python-socketio would wait for attachments and take the next telemetry for one
            self._reject(eio_sid, "the message is a binary Socket.IO packet, which the simulator never sends")
            return
        try:
            super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, IndexError, KeyError, RecursionError) as exc:
            # the packet did not parse (handlers never raise these: handle_telemetry is total);
            # RecursionError: JSON nested thousands deep
            self._reject(eio_sid, f"the message is not a Socket.IO packet ({exc})")

    def _reject(self, eio_sid: str, reason: str) -> None:
        self._connect_implicitly(eio_sid, "/")
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        if sid is not None:
            self.unreadable_handler(sid, reason)


# ---------------------------------------------------------------- eventlet: faster unmasking

class _NumpyMaskWebSocket(eventlet.websocket.RFC6455WebSocket):
    """eventlet's RFC 6455 socket, unmasking four bytes at a time with numpy (same bytes).

    It also ends a connection cleanly when a frame is not an Engine.IO packet ("x", "",
    "4" + 100,000 brackets): engineio decodes each frame outside its error handling, so
    such a frame escaped its reader loop, skipped its clean-up (the connection's writer
    stayed until the ping timeout) and made eventlet write an HTTP 500 onto the WebSocket.
    """

    def wait(self) -> str | bytes | None:
        message = super().wait()
        if message is None:
            return None
        try:
            eio_packet.Packet(encoded_packet=message)
        except (ValueError, TypeError, IndexError, RecursionError, binascii.Error):
            self.log.write(f"closed a connection whose client sent a frame that is not an Engine.IO "
                           f"packet: {message[:40]!r}\n")
            return None           # as if the client had closed: engineio cleans up
        return message

    @staticmethod
    def _apply_mask(data: bytes, mask: tuple[int, int, int, int], length: int | None = None,
                    offset: int = 0) -> bytes:
        length = len(data) if length is None else length
        key = bytes(mask[(offset + i) % 4] for i in range(4))
        words = length // 4
        head = np.frombuffer(data, np.uint32, count=words) ^ np.frombuffer(key, np.uint32)[0]
        tail = bytes(byte ^ key[i] for i, byte in enumerate(data[4 * words:length]))
        return head.tobytes() + tail


class _NumpyMaskWebSocketWSGI(EngineioWebSocketWSGI):
    def _handle_hybi_request(self, environ: dict) -> Any:
        websocket = super()._handle_hybi_request(environ)
        if type(websocket) is eventlet.websocket.RFC6455WebSocket:
            websocket.__class__ = _NumpyMaskWebSocket   # adds no state, overrides one method
        return websocket


def use_fast_websocket(sio: socketio.Server) -> None:
    """Make `sio` (async_mode 'eventlet') accept WebSockets through the fast unmasking class."""
    if sio.async_mode != "eventlet":
        raise ValueError(f"the fast WebSocket is for async_mode 'eventlet', not '{sio.async_mode}'")
    # engineio looks its WebSocket class up in this per-mode table; copy it, never mutate it
    sio.eio._async = dict(sio.eio._async, websocket=_NumpyMaskWebSocketWSGI)
