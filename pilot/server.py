"""The drive server's Socket.IO app: telemetry in, steering and throttle out.

Three layers, each testable alone:

- `handle_telemetry`: a pure function from one telemetry payload to one reply (`steer`
  or `manual`). Bad input of any kind gives the safe command (steering 0, throttle 0)
  and a reason; it never raises, so the simulator's lock-step chain never stops.
- `UdacityCompatibleServer`: python-socketio 5 with the three things the Udacity
  simulator's client needs (see udacity-simulator.md §1): events from a client that never
  sent the namespace connect `40` are accepted (the server connects it implicitly, sending
  nothing), the client's own engine pings `2` are answered with `3`, and a packet that is
  oversized or unparsable is answered with the safe command instead of being dropped.
- `create_app`: thin handlers that tie both together with per-second statistics and an
  optional recorder. Start-up (eventlet, the listening socket) lives in pilot/serving.py.
"""
from __future__ import annotations

import base64
import binascii
import io
import logging
import math
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol
from urllib.parse import urlsplit

import flask
import numpy as np
import socketio
from PIL import Image
from engineio import packet as eio_packet
from engineio import socket as eio_socket

from pilot.control import ThrottleController
from pilot.culture_numbers import read_culture_number
from pilot.drive_log import DriveRecorder
from pilot.imaging import CAMERA_HEIGHT_PX, CAMERA_WIDTH_PX, decode_jpeg_rgb

LOG = logging.getLogger("pilot.server")

SAFE_STEERING = 0.0
SAFE_THROTTLE = 0.0
JPEG_MAGIC = b"\xff\xd8\xff"
REQUIRED_FIELDS = ("speed", "image")
LATENCY_WINDOW = 100_000          # latencies kept between two summary lines, at most
WARNING_INTERVAL_S = 5.0           # at most one malformed-input warning per interval
TRANSPORT_LIMIT_FACTOR = 4         # above this many times the payload limit, the socket is closed
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
BINARY_PACKET_TYPES = ("5", "6")   # Socket.IO BINARY_EVENT, BINARY_ACK: attachments follow


class SteeringPredictor(Protocol):
    def predict_rgb(self, rgb: np.ndarray) -> float: ...


class MalformedTelemetry(ValueError):
    """A telemetry payload the server cannot act on; the message says why."""


# ---------------------------------------------------------------- numbers in the client's culture

def read_client_number(text: object) -> tuple[float, str | None]:
    """Read a simulator number string in any culture; return (value, decimal mark).

    See pilot.culture_numbers.read_culture_number; raises MalformedTelemetry instead.
    """
    try:
        return read_culture_number(text)
    except ValueError as error:
        raise MalformedTelemetry(str(error)) from None


def format_for_client(value: float, decimal_comma: bool) -> str:
    """A command value as the client's float.Parse reads it in its culture."""
    text = f"{value:.6f}"
    return text.replace(".", ",") if decimal_comma else text


# ---------------------------------------------------------------- telemetry -> command

@dataclass
class ClientState:
    """What the server remembers about one connected client."""
    controller: ThrottleController
    decimal_comma: bool = False
    last_frame_s: float | None = None
    frame_dt_s: float | None = None   # fixed controller dt (a simulator stepping fixed time); None: clock


@dataclass(frozen=True)
class Frame:
    """A frame the server acted on (what the recorder keeps)."""
    jpeg_bytes: bytes
    steering: float
    throttle: float
    speed_mph: float


@dataclass(frozen=True)
class Reply:
    event: str                        # "steer" or "manual"
    data: dict[str, str]
    frame: Frame | None = None        # set when a frame was driven
    malformed: str | None = None      # why the safe command was sent


def steer_reply(steering: float, throttle: float, decimal_comma: bool) -> dict[str, str]:
    """The `steer` payload: both values as strings (the client reads field.str)."""
    return {
        "steering_angle": format_for_client(steering, decimal_comma),
        "throttle": format_for_client(throttle, decimal_comma),
    }


def safe_reply(reason: str, decimal_comma: bool) -> Reply:
    return Reply("steer", steer_reply(SAFE_STEERING, SAFE_THROTTLE, decimal_comma), malformed=reason)


def image_size_px(image_bytes: bytes) -> tuple[int, int]:
    """(width, height) from an image's header, without decoding it: cheap whatever size it claims.

    Raises ValueError if the bytes are not an image PIL can open, or claim a decompression bomb.
    """
    try:
        with warnings.catch_warnings():     # a large claimed size warns; the caller judges the size
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image_bytes)) as image:
                return image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not an image: {exc}") from exc


def _decode_camera_frame(image_field: object) -> tuple[bytes, np.ndarray]:
    if not isinstance(image_field, str):
        raise MalformedTelemetry(f"the image arrived as {type(image_field).__name__}, not base64 text")
    try:
        jpeg_bytes = base64.b64decode(image_field, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedTelemetry("the image is not valid base64") from exc
    if not jpeg_bytes.startswith(JPEG_MAGIC):
        raise MalformedTelemetry("the image is not a JPEG")
    try:
        width_px, height_px = image_size_px(jpeg_bytes)
    except ValueError as exc:
        raise MalformedTelemetry("the image is a broken JPEG") from exc
    if (width_px, height_px) != (CAMERA_WIDTH_PX, CAMERA_HEIGHT_PX):   # before decoding: a header may
        raise MalformedTelemetry(                                       # claim 65500x65500 pixels
            f"the image is {width_px}x{height_px}, not the camera's {CAMERA_WIDTH_PX}x{CAMERA_HEIGHT_PX}"
        )
    try:
        rgb = decode_jpeg_rgb(jpeg_bytes)
    except ValueError as exc:
        raise MalformedTelemetry("the image is a broken JPEG") from exc
    return jpeg_bytes, rgb


def handle_telemetry(data: object, client: ClientState, predictor: SteeringPredictor,
                     now_s: float) -> Reply:
    """One telemetry payload -> the reply the simulator needs to send its next frame.

    `{}` (manual mode) -> `manual`; a valid frame -> `steer` with the model's steering
    clipped to -1..1 and the controller's throttle, in the client's decimal form; anything
    else -> the safe command with the reason. `now_s` is a monotonic clock for the
    controller's dt, unless the client has a fixed `frame_dt_s`. Never raises for bad input.
    """
    if isinstance(data, dict) and not data:
        return Reply("manual", {})
    try:
        if not isinstance(data, dict):
            raise MalformedTelemetry(f"the payload is {type(data).__name__}, not an object")
        missing = [name for name in REQUIRED_FIELDS if name not in data]
        if missing:
            raise MalformedTelemetry(f"the telemetry has no {' or '.join(missing)}")
        speed_mph, mark = read_client_number(data["speed"])
        marks = {mark} | {read_client_number(data[name])[1]
                          for name in ("steering_angle", "throttle") if name in data}
        if "," in marks or "." in marks:     # answer in the form the client writes
            client.decimal_comma = "," in marks
        jpeg_bytes, rgb = _decode_camera_frame(data["image"])
    except MalformedTelemetry as exc:
        return safe_reply(str(exc), client.decimal_comma)
    raw_steering = predictor.predict_rgb(rgb)
    if not math.isfinite(raw_steering):
        return safe_reply("the model returned a non-finite steering value", client.decimal_comma)
    steering = min(1.0, max(-1.0, raw_steering))
    if client.frame_dt_s is not None:
        dt_s = client.frame_dt_s
    else:
        dt_s = 0.0 if client.last_frame_s is None else now_s - client.last_frame_s
    client.last_frame_s = now_s
    throttle = client.controller.step(speed_mph, steering, dt_s)
    return Reply(
        "steer", steer_reply(steering, throttle, client.decimal_comma),
        frame=Frame(jpeg_bytes, steering, throttle, speed_mph),
    )


# ---------------------------------------------------------------- statistics

@dataclass
class DriveStats:
    """Counters for the per-second summary line and the rate-limited warning."""
    frames: int = 0
    manual: int = 0
    malformed: int = 0
    total_frames: int = 0
    total_malformed: int = 0
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    window_start_s: float | None = None
    last_warning_s: float | None = None
    malformed_since_warning: int = 0

    def record(self, reply: Reply, latency_s: float, now_s: float) -> str | None:
        """Count one answered telemetry; returns a warning line when one is due."""
        if self.window_start_s is None:
            self.window_start_s = now_s
        self.latencies_s.append(latency_s)
        if reply.event == "manual":
            self.manual += 1
        elif reply.malformed is not None:
            return self.record_malformed(reply.malformed, now_s)
        else:
            self.frames += 1
            self.total_frames += 1
        return None

    def record_malformed(self, reason: str, now_s: float) -> str | None:
        if self.window_start_s is None:
            self.window_start_s = now_s
        self.malformed += 1
        self.total_malformed += 1
        self.malformed_since_warning += 1
        if self.last_warning_s is not None and now_s - self.last_warning_s < WARNING_INTERVAL_S:
            return None
        count, self.malformed_since_warning = self.malformed_since_warning, 0
        self.last_warning_s = now_s
        return (f"answered {count} malformed telemetry with the safe command "
                f"(steering 0, throttle 0); latest: {reason}")

    def summary(self, now_s: float) -> str | None:
        """The per-second line (None when nothing arrived), and a fresh window."""
        if self.window_start_s is None:
            return None
        elapsed_s = max(now_s - self.window_start_s, 1e-9)
        latencies_ms = np.asarray(self.latencies_s) * 1000.0
        p50, p99 = (np.percentile(latencies_ms, [50, 99]) if latencies_ms.size else (0.0, 0.0))
        line = (f"{self.frames / elapsed_s:5.1f} frames/s | server latency p50 {p50:.2f} ms "
                f"p99 {p99:.2f} ms | malformed {self.malformed} | manual {self.manual} "
                f"| total frames {self.total_frames}")
        self.frames = self.manual = self.malformed = 0
        self.latencies_s.clear()
        self.window_start_s = None
        return line


# ---------------------------------------------------------------- Socket.IO server

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


def local_origin(origin: str, environ: dict | None = None) -> bool:
    """CORS: accept only pages served from this machine (any port)."""
    try:
        return urlsplit(origin).hostname in LOCAL_HOSTS
    except ValueError:
        return False


def create_app(predictor: SteeringPredictor, make_controller: Callable[[], ThrottleController],
               max_payload_bytes: int, recorder: DriveRecorder | None = None,
               stats: DriveStats | None = None, model_name: str = "",
               async_mode: str = "eventlet",
               clock: Callable[[], float] = time.perf_counter,
               frame_dt_s: float | None = None) -> tuple[socketio.Server, Any]:
    """Build the Socket.IO server and the WSGI app (Flask behind python-socketio).

    `frame_dt_s`: the controller's time step per frame for a simulator that advances a fixed
    time per reply (the headless one); None times frames with `clock`, as the real one needs.
    """
    stats = stats if stats is not None else DriveStats()
    clients: dict[str, ClientState] = {}
    recorders = [recorder] if recorder is not None else []      # emptied if the disk fails

    def client_state(sid: str) -> ClientState:
        if sid not in clients:
            clients[sid] = ClientState(controller=make_controller(), frame_dt_s=frame_dt_s)
        return clients[sid]

    def answer_unreadable(sid: str, reason: str) -> None:
        reply = safe_reply(reason, client_state(sid).decimal_comma)
        sio.emit(reply.event, reply.data, to=sid)
        warning = stats.record_malformed(reason, clock())
        if warning:
            LOG.warning(warning)

    sio = UdacityCompatibleServer(
        max_payload_bytes=max_payload_bytes, unreadable_handler=answer_unreadable,
        async_mode=async_mode, async_handlers=False, cors_allowed_origins=local_origin,
        # loggers of our own: python-socketio and engineio add a raw stderr handler to theirs
        logger=logging.getLogger("pilot.server.socketio"),
        engineio_logger=logging.getLogger("pilot.server.engineio"),
    )

    @sio.on("connect")
    def connect(sid: str, environ: dict, auth: object = None) -> None:
        client_state(sid)

    @sio.on("disconnect")
    def disconnect(sid: str, reason: object = None) -> None:
        clients.pop(sid, None)

    @sio.on("telemetry")
    def telemetry(sid: str, *args: object) -> None:
        started_s = clock()
        data = args[0] if len(args) == 1 else args
        try:
            reply = handle_telemetry(data, client_state(sid), predictor, started_s)
        except Exception:  # noqa: BLE001 - the chain must survive even a bug; logged in full
            LOG.exception("telemetry handler failed; answered the safe command")
            reply = safe_reply("internal error", client_state(sid).decimal_comma)
        sio.emit(reply.event, reply.data, to=sid)
        latency_s = clock() - started_s
        warning = stats.record(reply, latency_s, started_s)
        if warning:
            LOG.warning(warning)
        if recorders and reply.frame is not None:
            frame = reply.frame
            try:
                recorders[0].write(started_s, frame.jpeg_bytes, frame.steering, frame.throttle,
                                   frame.speed_mph, latency_s * 1000.0)
            except OSError as error:
                LOG.error("recording stopped, driving goes on: %s", error)
                recorders.clear()

    flask_app = flask.Flask("pilot.drive")

    @flask_app.get("/")
    def index() -> flask.Response:
        text = (f"pilot drive server: model {model_name or '?'}, {len(clients)} client(s), "
                f"{stats.total_frames} frames driven, {stats.total_malformed} malformed "
                f"answered safely.\n")
        return flask.Response(text, mimetype="text/plain")

    return sio, socketio.WSGIApp(sio, flask_app)
