"""Start-up code for the drive server: listen, serve, stop on a signal.

eventlet is in maintenance mode; keeping its public API here and its internals in
pilot.drive.compat means another WSGI server that speaks WebSocket can replace it without
touching pilot.drive.app.
"""
from __future__ import annotations

import signal
import time
import warnings
from typing import Any, Callable

import socketio

with warnings.catch_warnings():  # eventlet warns that it is in maintenance mode: we know
    warnings.simplefilter("ignore")
    import eventlet
    import eventlet.wsgi

from pilot.drive.compat import use_fast_websocket

TICK_S = 1.0            # on_tick period (the per-second summary line)
POLL_S = 0.05           # how often the main loop looks for a stop signal


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
