"""The drive server's pure part: one telemetry payload in, one reply out, and the statistics.

`handle_telemetry` never raises: bad input of any kind gives the safe command (steering 0,
throttle 0) and a reason, so the simulator's lock-step chain never stops. Tests call it
without a socket. `DriveStats` counts frames for the per-second summary line.
"""
from __future__ import annotations

import base64
import binascii
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pilot.control import ThrottleController
from pilot.udacity.images import decode_jpeg_rgb, image_size_px
from pilot.udacity.numbers import read_culture_number
from pilot.udacity.simulator import IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX

SAFE_STEERING = 0.0
SAFE_THROTTLE = 0.0
JPEG_MAGIC = b"\xff\xd8\xff"
REQUIRED_FIELDS = ("speed", "image")
LATENCY_WINDOW = 100_000          # latencies kept between two summary lines, at most
WARNING_INTERVAL_S = 5.0           # at most one malformed-input warning per interval


class SteeringPredictor(Protocol):
    def predict_rgb(self, rgb: np.ndarray) -> float: ...


class MalformedTelemetry(ValueError):
    """A telemetry payload the server cannot act on; the message says why."""


# ---------------------------------------------------------------- numbers in the client's culture

def read_client_number(text: object) -> tuple[float, str | None]:
    """Read a simulator number string in any culture; return (value, decimal mark).

    See pilot.udacity.numbers.read_culture_number; raises MalformedTelemetry instead.
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
    if (width_px, height_px) != (IMAGE_WIDTH_PX, IMAGE_HEIGHT_PX):   # before decoding: a header may
        raise MalformedTelemetry(                                     # claim 65500x65500 pixels
            f"the image is {width_px}x{height_px}, not the camera's {IMAGE_WIDTH_PX}x{IMAGE_HEIGHT_PX}"
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
    total_manual: int = 0
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
            self.total_manual += 1
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
