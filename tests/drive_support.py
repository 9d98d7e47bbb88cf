"""Helpers for the drive server's tests: camera-like JPEGs, a real server process, raw frames."""
from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import websocket
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")


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


class DriveProcess:
    """`python stages/drive.py ARGS` in a subprocess, as a user (or road_test) starts it."""

    def __init__(self, args: list[str]) -> None:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "stages/drive.py", *args], cwd=REPO_ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.host, self.port = "", 0

    def wait_until_listening(self, timeout_s: float = 120.0) -> "DriveProcess":
        """Block until the server prints its "listening on" line (as road_test will)."""
        self.host, self.port = self._wait_for_listening(timeout_s)
        return self

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _wait_for_listening(self, timeout_s: float) -> tuple[str, int]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = LISTENING.search(line)
                if match:
                    return match.group(1), int(match.group(2))
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                raise RuntimeError("drive.py exited before listening:\n" + "\n".join(self.lines))
            time.sleep(0.05)
        self.process.kill()
        raise RuntimeError("drive.py did not start listening in time:\n" + "\n".join(self.lines))

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self, signum: int = signal.SIGTERM, timeout_s: float = 10.0) -> int:
        """Send `signum`, wait for the exit, return the exit code (kills it after the timeout)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        self._reader.join(timeout=5)
        return self.process.returncode


def run_drive(args: list[str], timeout_s: float = 120.0) -> subprocess.CompletedProcess:
    """Run drive.py to completion (error cases, the video command)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "stages/drive.py", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout_s)


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
