"""The drive server's Socket.IO app: telemetry in, steering and throttle out.

`create_app` ties the pure `handle_telemetry` (pilot.drive.telemetry) to a
`UdacityCompatibleServer` (pilot.drive.compat: what the simulator's old client needs)
with per-second statistics and an optional recorder. Start-up (eventlet, the listening
socket) lives in pilot.drive.serve.

Flask serves the live page (pilot/drive/static/live.html) at `/`: numbers pushed as
Server-Sent Events from `/live/events` about five times a second, the latest camera frame
at `/live/frame.jpg` and the model's input at `/live/model_input.png` (pilot.drive.live).
`/status` is the one-line text summary.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import flask
import socketio

from pilot.control import ThrottleController
from pilot.drive.compat import UdacityCompatibleServer
from pilot.drive.live import LiveView
from pilot.drive.record import DriveRecorder
from pilot.drive.telemetry import ClientState, DriveStats, SteeringPredictor, handle_telemetry, safe_reply

LOG = logging.getLogger("pilot.drive.app")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
STATIC_DIR = Path(__file__).resolve().parent / "static"
LIVE_EVENT_INTERVAL_S = 0.2        # the live page's update rate: 5 events a second


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
               frame_dt_s: float | None = None, controller_name: str = "",
               live: LiveView | None = None) -> tuple[socketio.Server, Any]:
    """Build the Socket.IO server and the WSGI app (Flask behind python-socketio).

    `frame_dt_s`: the controller's time step per frame for a simulator that advances a fixed
    time per reply (the headless one); None times frames with `clock`, as the real one needs.
    """
    stats = stats if stats is not None else DriveStats()
    live = live if live is not None else LiveView(stats, model_name, controller_name)
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
        live.record(reply, latency_s, started_s)
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

    flask_app = flask.Flask("pilot.drive", static_folder=STATIC_DIR, static_url_path="/static")

    @flask_app.get("/")
    def live_page() -> flask.Response:
        return flask.send_from_directory(STATIC_DIR, "live.html")

    @flask_app.get("/status")
    def status() -> flask.Response:
        text = (f"pilot drive server: model {model_name or '?'}, {len(clients)} client(s), "
                f"{stats.total_frames} frames driven, {stats.total_malformed} malformed "
                f"answered safely, {stats.total_manual} manual.\n")
        return flask.Response(text, mimetype="text/plain")

    @flask_app.get("/live/state")
    def live_state() -> flask.Response:
        return flask.jsonify(live.state(clock(), flask.request.args.get("after", 0, type=int)))

    @flask_app.get("/live/events")
    def live_events() -> flask.Response:
        """Server-Sent Events: the page's numbers and its new strip samples, 5 times a second."""
        flask.request.environ["eventlet.minimum_write_chunk_size"] = 0    # flush every event
        after_index = flask.request.args.get("after", 0, type=int)

        def stream() -> Any:
            nonlocal after_index
            yield "retry: 1000\n\n"
            while True:
                state = live.state(clock(), after_index)
                after_index = state["frame_index"]
                yield f"data: {json.dumps(state, separators=(',', ':'))}\n\n"
                sio.sleep(LIVE_EVENT_INTERVAL_S)

        return flask.Response(stream(), mimetype="text/event-stream",
                              headers={"Cache-Control": "no-store"})

    @flask_app.get("/live/frame.jpg")
    def live_frame() -> flask.Response:
        if live.latest_jpeg is None:
            return flask.Response("no frame yet\n", status=404, mimetype="text/plain")
        return flask.Response(live.latest_jpeg, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})

    @flask_app.get("/live/saliency.png")
    def live_saliency() -> flask.Response:
        if live.saliency_png is None:
            return flask.Response("no saliency (start drive.py with --saliency)\n", status=404,
                                  mimetype="text/plain")
        return flask.Response(live.saliency_png, mimetype="image/png", headers={"Cache-Control": "no-store"})

    @flask_app.get("/live/model_input.png")
    def live_model_input() -> flask.Response:
        png = live.model_input_png(clock())
        if png is None:
            return flask.Response("no frame yet\n", status=404, mimetype="text/plain")
        return flask.Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})

    return sio, socketio.WSGIApp(sio, flask_app)
