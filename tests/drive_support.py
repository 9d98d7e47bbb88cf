"""Helpers for the drive server's tests: camera-like JPEGs, drive.py runs, raw Engine.IO frames."""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import websocket
from PIL import Image

from tests.stage_runner import run_stage

REPO_ROOT = Path(__file__).resolve().parent.parent


def camera_jpeg(seed: int, size: tuple[int, int] = (320, 160), quality: int = 85) -> bytes:
    """A 320x160 RGB JPEG that looks like the simulator's camera: sky, road, verges, noise."""
    width, height = size
    rng = np.random.default_rng(seed)
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    image = np.empty((height, width, 3), np.float32)
    image[:] = (120, 170, 230)                                           # sky
    horizon = height * 0.4
    ground = rows >= horizon
    image[np.broadcast_to(ground, (height, width))] = (90, 140, 60)      # grass
    centre = width / 2 + rng.uniform(-60, 60) * (rows - horizon) / height
    half_width = 10 + (rows - horizon) * 1.2
    road = ground & (np.abs(cols - centre) < half_width)
    image[road] = (110, 110, 115)
    image += rng.normal(0, 6, image.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def run_drive(args: list[str], timeout_s: float = 120.0) -> subprocess.CompletedProcess:
    """Run drive.py to completion (error cases, the video command)."""
    return run_stage("drive.py", args, REPO_ROOT, timeout_s=timeout_s)


class RawSocket:
    """A bare Engine.IO WebSocket: sends exactly the frames a test writes (no 40)."""

    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.ws = websocket.create_connection(
            f"ws://{host}:{port}/socket.io/?EIO=4&transport=websocket", timeout=timeout_s)
        self.open_packet = self.ws.recv()

    def send(self, text: str) -> None:
        self.ws.send(text)

    def recv_until(self, prefix: str) -> str:
        """The next frame that starts with `prefix` (server pings are answered)."""
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
                continue
            if frame.startswith(prefix):
                return frame

    def close(self) -> None:
        self.ws.close()
