"""Start-up code for the drive server: the only module that touches eventlet.

eventlet is in maintenance mode; keeping it here (listen, serve, stop on a signal) means
another WSGI server that speaks WebSocket can replace it without touching pilot.server.

It also fixes one eventlet cost: its WebSocket reader unmasks client frames one byte at
a time in Python (about 5 ms for one 25 kB telemetry frame, more than the whole model
call). The subclass below unmasks with numpy, for this server's sockets only.
"""
from __future__ import annotations

import signal
import time
import warnings
from typing import Any, Callable

import numpy as np
import socketio

with warnings.catch_warnings():  # eventlet warns that it is in maintenance mode: we know
    warnings.simplefilter("ignore")
    import eventlet
    import eventlet.websocket
    import eventlet.wsgi
    from engineio.async_drivers.eventlet import WebSocketWSGI as EngineioWebSocketWSGI

TICK_S = 1.0            # on_tick period (the per-second summary line)
POLL_S = 0.05           # how often the main loop looks for a stop signal


class _NumpyMaskWebSocket(eventlet.websocket.RFC6455WebSocket):
    """eventlet's RFC 6455 socket, unmasking four bytes at a time with numpy (same bytes)."""

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


def open_listener(host: str, port: int) -> Any:
    """Bind and listen on host:port (0 = any free port); OSError if the address is taken."""
    return eventlet.listen((host, port))


def serve(sio: socketio.Server, app: Callable, listener: Any,
          on_listening: Callable[[str, int], None], on_tick: Callable[[], None]) -> None:
    """Serve `app` on `listener` until SIGINT or SIGTERM, then close every connection.

    `on_listening(host, port)` runs once connections are being accepted; `on_tick()`
    about once a second.
    """
    use_fast_websocket(sio)
    bound_host, bound_port = listener.getsockname()[:2]
    connections = eventlet.GreenPool()
    server = eventlet.spawn(eventlet.wsgi.server, listener, app, log_output=False,
                            custom_pool=connections)
    stop_signals: list[int] = []
    previous = {signum: signal.signal(signum, lambda number, frame: stop_signals.append(number))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        on_listening(bound_host, bound_port)
        next_tick_s = time.monotonic() + TICK_S
        while not stop_signals and not server.dead:
            eventlet.sleep(POLL_S)
            if time.monotonic() >= next_tick_s:
                next_tick_s += TICK_S
                on_tick()
    finally:
        for connection in list(connections.coroutines_running):
            connection.kill()
        server.kill()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
