"""Start-up code for the drive server: the only module that touches eventlet.

eventlet is in maintenance mode; keeping it here (listen, serve, stop on a signal) means
another WSGI server that speaks WebSocket can replace it without touching pilot.server.

It also fixes one eventlet cost: its WebSocket reader unmasks client frames one byte at
a time in Python (about 5 ms for one 25 kB telemetry frame, more than the whole model
call). The subclass below unmasks with numpy, for this server's sockets only.

And it keeps the log one line per event: eventlet writes its own messages straight to
stderr without a newline ("... socket shutdown error: [Errno 9] Bad file descriptor"),
gluing them onto the next summary line. `EventletLog` takes eventlet.wsgi's log and every
request's `wsgi.errors` stream into Python logging, and `configure_logging` prints every
record (third parties' included) as one `prefix: message` line.
"""
from __future__ import annotations

import binascii
import logging
import signal
import socket
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import socketio
from engineio import packet as eio_packet

with warnings.catch_warnings():  # eventlet warns that it is in maintenance mode: we know
    warnings.simplefilter("ignore")
    import eventlet
    import eventlet.websocket
    import eventlet.wsgi
    from engineio.async_drivers.eventlet import WebSocketWSGI as EngineioWebSocketWSGI

TICK_S = 1.0            # on_tick period (the per-second summary line)
POLL_S = 0.05           # how often the main loop looks for a stop signal
WSGI_LOG = logging.getLogger("pilot.serving.eventlet")
LOG_INTERVAL_S = 5.0    # at most one eventlet warning or error line per interval; the rest at DEBUG
# what eventlet reports when a client has gone away: routine, kept at DEBUG
CLIENT_GONE = ("socket shutdown error", "connection reset by peer", "Broken pipe", "timed out")


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


class OneLineFormatter(logging.Formatter):
    """`prefix` + the message on one line; an exception adds its type, text and where it was raised."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            where = traceback.extract_tb(record.exc_info[2])[-1:] if record.exc_info[2] else []
            place = "".join(f"; raised at {Path(frame.filename).name}:{frame.lineno} in {frame.name}"
                            for frame in where)
            message += f" ({type(error).__name__}: {error}{place})"
        return self.prefix + _one_line(message)


def configure_logging(prefix: str, level: int = logging.WARNING) -> None:
    """Every log record, Python warnings included, as one `prefix` line on stderr from `level` up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(prefix))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)


class EventletLog:
    """eventlet.wsgi's `log` and each request's `wsgi.errors` stream, as Python logging records.

    A write or a call is one record: what eventlet says when a client went away at DEBUG,
    a failed request (a client's garbage that broke a connection) as one ERROR line with the
    exception, anything else at WARNING; at most one of those per `interval_s`, with a count
    of the ones held back (a client reconnecting to send garbage cannot flood the log).
    """

    def __init__(self, logger: logging.Logger = WSGI_LOG, interval_s: float = LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self.clock = clock
        self._last_line_s: float | None = None
        self._held_back = 0

    def _emit(self, level: int, text: str) -> None:
        now_s = self.clock()
        if level < logging.WARNING:
            self.logger.log(level, "eventlet: %s", text)
        elif self._last_line_s is not None and now_s - self._last_line_s < self.interval_s:
            self._held_back += 1
            self.logger.debug("eventlet: %s", text)
        else:
            held_back, self._held_back, self._last_line_s = self._held_back, 0, now_s
            more = f" (and {held_back} more since the last such line)" if held_back else ""
            self.logger.log(level, "eventlet: %s%s", text, more)

    def _record(self, text: str, args: tuple, routine_level: int) -> None:
        text = text % args if args else text
        if not text.strip():
            return
        if text.lstrip().startswith("Traceback"):
            lines = [line for line in text.splitlines() if line.strip()]
            self.logger.debug("eventlet: %s", _one_line(text))
            self._emit(logging.ERROR, f"a connection failed: {lines[-1].strip()}")
        elif any(marker in text for marker in CLIENT_GONE):
            self._emit(logging.DEBUG, _one_line(text))
        else:
            self._emit(routine_level, _one_line(text))

    # the wsgi.errors stream (file-like)
    def write(self, text: str, *args: object) -> None:
        self._record(text, args, logging.WARNING)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    # eventlet.wsgi.server's log (logger-like): info is its access log and start/stop lines
    def info(self, message: str, *args: object, **kwargs: object) -> None:
        self._record(message, args, logging.DEBUG)

    def debug(self, message: str, *args: object, **kwargs: object) -> None:
        self._emit(logging.DEBUG, _one_line(message % args if args else message))

    def error(self, message: str, *args: object, **kwargs: object) -> None:
        self._record(message, args, logging.WARNING)


def with_error_stream(app: Callable, stream: Any) -> Callable:
    """`app` with `wsgi.errors` replaced by `stream` (eventlet's WebSocket logs there)."""
    def app_with_error_stream(environ: dict, start_response: Callable) -> Any:
        environ["wsgi.errors"] = stream
        return app(environ, start_response)
    return app_with_error_stream


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


def open_listener(host: str, port: int) -> Any:
    """Bind and listen on host:port (0 = any free port); OSError if the address is taken.

    Accepted sockets inherit TCP_NODELAY: two small frames in a row (an answer, then a pong)
    would otherwise wait for the client's delayed ACK, up to 40 ms.
    """
    listener = eventlet.listen((host, port))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def serve(sio: socketio.Server, app: Callable, listener: Any,
          on_listening: Callable[[str, int], None], on_tick: Callable[[], None]) -> None:
    """Serve `app` on `listener` until SIGINT or SIGTERM, then close every connection.

    `on_listening(host, port)` runs once connections are being accepted; `on_tick()`
    about once a second.
    """
    use_fast_websocket(sio)
    bound_host, bound_port = listener.getsockname()[:2]
    connections = eventlet.GreenPool()
    eventlet_log = EventletLog()
    # debug=False: a failed request gets an empty 500, never a traceback; the log gets one line
    server = eventlet.spawn(eventlet.wsgi.server, listener, with_error_stream(app, eventlet_log),
                            log=eventlet_log, log_output=True, debug=False, custom_pool=connections)
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
