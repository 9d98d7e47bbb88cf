"""The drive server's Socket.IO app: telemetry in, steering and throttle out.

`create_app` ties the pure `handle_telemetry` (pilot.drive.telemetry) to a
`UdacityCompatibleServer` (pilot.drive.compat: what the simulator's old client needs)
with per-second statistics and an optional recorder. Start-up (eventlet, the listening
socket) lives in pilot.drive.serve.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable
from urllib.parse import urlsplit

import flask
import socketio

from pilot.drive.compat import UdacityCompatibleServer
from pilot.drive.control import ThrottleController
from pilot.drive.record import DriveRecorder
from pilot.drive.telemetry import ClientState, DriveStats, SteeringPredictor, handle_telemetry, safe_reply

LOG = logging.getLogger("pilot.drive.app")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


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
        logger=logging.getLogger("pilot.drive.socketio"),
        engineio_logger=logging.getLogger("pilot.drive.engineio"),
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
