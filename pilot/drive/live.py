"""The live page's state: the latest frame, 30 s of steering/throttle/speed, and the counters.

`LiveView.record` runs on the drive server's hot path, once per answered telemetry: it keeps
references and appends to ring buffers (amortised O(1), no encoding). Everything the page
needs is computed when it asks: `state` (JSON-ready numbers plus the samples it has not seen
yet), `model_input_png` (the camera frame as the model sees it: for the seed's contract cropped,
YUV, 200x66, drawn with Y, U, V as the picture's R, G, B; for a camera-frame model the frame
itself), at most `max_model_input_per_s` encodings a second.
`update_saliency` (VisualBackProp on the latest frame) is for a background thread started
by `stages/drive.py --saliency`, never the request or driving path.
"""
from __future__ import annotations

import io
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PIL import Image

from pilot.drive.telemetry import DriveStats, Reply
from pilot.imaging import SEED_INPUT, InputContract
from pilot.udacity.images import decode_jpeg_rgb

HISTORY_S = 30.0                 # the strips' time span
LATENCY_SAMPLES = 1000           # latest server latencies behind the page's p50 / p99
FPS_WINDOW_S = 1.0               # frames/s: frames answered in the last second


@dataclass(frozen=True)
class Sample:
    """One driven frame on the strips."""
    index: int                   # 1, 2, ... in arrival order (the page asks for samples after one)
    time_s: float
    steering: float
    throttle: float
    speed_mph: float


@dataclass
class LiveView:
    """What the live page shows, updated once per telemetry from the drive server's handler."""
    stats: DriveStats
    model_name: str = ""
    controller_name: str = ""
    model_input: InputContract = SEED_INPUT               # what the served model takes
    max_model_input_per_s: float = 5.0
    history: deque[Sample] = field(default_factory=deque)
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))
    latest_jpeg: bytes | None = None
    latest_index: int = 0
    saliency_png: bytes | None = None                  # set by update_saliency (--saliency)
    saliency_index: int = 0                            # the frame it explains
    _model_input: tuple[int, bytes] | None = None      # (frame index, PNG) last encoded
    _model_input_at_s: float | None = None

    def record(self, reply: Reply, latency_s: float, now_s: float) -> None:
        """Keep a driven frame and its numbers (hot path: references and appends only)."""
        self.latencies_s.append(latency_s)
        frame = reply.frame
        if frame is None:
            return
        self.latest_index += 1
        self.latest_jpeg = frame.jpeg_bytes
        self.history.append(Sample(self.latest_index, now_s, frame.steering, frame.throttle, frame.speed_mph))
        while self.history and self.history[0].time_s < now_s - HISTORY_S:
            self.history.popleft()

    def state(self, now_s: float, after_index: int = 0) -> dict:
        """The page's numbers, and the samples with index > `after_index` (times relative to now)."""
        recent: list[Sample] = []
        for sample in reversed(self.history):             # newest first: stop at what the page has
            if sample.index <= after_index:
                break
            recent.append(sample)
        recent.reverse()
        latencies_ms = np.asarray(self.latencies_s) * 1000.0
        p50, p99 = np.percentile(latencies_ms, [50, 99]) if latencies_ms.size else (0.0, 0.0)
        frames_last_s = 0
        for sample in reversed(self.history):
            if sample.time_s <= now_s - FPS_WINDOW_S:
                break
            frames_last_s += 1
        return {
            "model": self.model_name,
            "controller": self.controller_name,
            "frames": self.stats.total_frames,
            "malformed": self.stats.total_malformed,
            "manual": self.stats.total_manual,
            "frames_per_s": frames_last_s / FPS_WINDOW_S,
            "latency_p50_ms": round(float(p50), 3),
            "latency_p99_ms": round(float(p99), 3),
            "frame_index": self.latest_index,
            "saliency_index": self.saliency_index,
            "history_s": HISTORY_S,
            "samples": [[s.index, round(s.time_s - now_s, 4), round(s.steering, 4), round(s.throttle, 4),
                         round(s.speed_mph, 3)] for s in recent],
        }

    def model_input_png(self, now_s: float,
                        encode: Callable[[bytes], bytes] | None = None) -> bytes | None:
        """The latest frame as the model sees it, as a PNG; re-encoded at most the set rate."""
        if self.latest_jpeg is None:
            return None
        cached = self._model_input
        if cached is not None and (cached[0] == self.latest_index or (
                self._model_input_at_s is not None
                and now_s - self._model_input_at_s < 1.0 / self.max_model_input_per_s)):
            return cached[1]
        png = encode(self.latest_jpeg) if encode else model_input_png(self.latest_jpeg, self.model_input)
        self._model_input = (self.latest_index, png)
        self._model_input_at_s = now_s
        return png


    def update_saliency(self, explain: Callable[[np.ndarray], np.ndarray]) -> bool:
        """Explain the latest frame if it is new: `explain(model input uint8)` -> mask (its rows, columns) in [0, 1].

        Runs off the driving path (a background thread); reads the latest frame once and
        publishes the picture with one assignment. False when there was nothing new.
        """
        jpeg, index = self.latest_jpeg, self.latest_index
        if jpeg is None or index == self.saliency_index:
            return False
        model_input = self.model_input.prepare(decode_jpeg_rgb(jpeg))
        png = saliency_overlay_png(model_input, explain(model_input))
        self.saliency_png, self.saliency_index = png, index
        return True


def saliency_overlay_png(model_input: np.ndarray, mask: np.ndarray) -> bytes:
    """The model input's first channel (Y for the seed's YUV) in grey with the saliency mask in orange, as PNG."""
    grey = model_input[..., :1].astype(np.float32)
    weight = 0.75 * np.clip(mask, 0.0, 1.0)[..., np.newaxis]
    picture = grey * (1.0 - weight) + np.array([255.0, 90.0, 0.0], np.float32) * weight
    buffer = io.BytesIO()
    Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def model_input_png(jpeg_bytes: bytes, contract: InputContract = SEED_INPUT) -> bytes:
    """Camera JPEG -> the model's uint8 input (for the seed's: crop, YUV, blur, 200x66) as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(contract.prepare(decode_jpeg_rgb(jpeg_bytes))).save(buffer, "PNG")
    return buffer.getvalue()
