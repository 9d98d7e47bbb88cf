"""What the drive-server benchmarks share: camera frames, a real model file, a server process.

Every benchmark starts `stages/drive.py` the one way road_test does (pilot.drive.process),
so a benchmark measures the server a user runs.
"""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from pilot.drive.process import DriveServerProcess  # noqa: E402
from pilot.learn.model import build_pilotnet  # noqa: E402
from pilot.sim.camera import Renderer, encode_jpeg  # noqa: E402
from pilot.sim.episode import start_state  # noqa: E402
from pilot.sim.track import generate_track  # noqa: E402

__all__ = ["DriveServerProcess", "camera_frames", "save_pilotnet", "resident_memory_kib"]


def camera_frames(count: int, track_seed: int = 7) -> list[bytes]:
    """320x160 JPEGs from the headless simulator's camera, spread around one track."""
    track = generate_track(track_seed)
    renderer = Renderer(track)
    return [encode_jpeg(renderer.render(start_state(track, s_m=track.length_m * i / count)))
            for i in range(count)]


def save_pilotnet(folder: Path, seed: int = 0) -> tuple[keras.Model, Path]:
    """A real PilotNet with seeded random weights, saved as the pipeline saves its model."""
    keras.utils.set_random_seed(seed)
    model = build_pilotnet()
    path = folder / "model.keras"
    model.save(path)
    return model, path


def resident_memory_kib(pid: int) -> int:
    """A process's resident memory (VmRSS in /proc/PID/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"process {pid} reports no VmRSS")
