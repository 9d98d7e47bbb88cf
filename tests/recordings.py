"""Build small Udacity-style recordings in a temp folder: real JPEGs, every log variant.

Numbers and file names are written by the headless simulator's own recorder helpers.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from pilot.udacity.frame_time import format_stamp
from pilot.udacity.numbers import format_csharp_float
from tests.drive_support import camera_jpeg

START = datetime(2019, 2, 20, 12, 24, 27, 239000)


def frame_name_stamp(index: int, step_ms: int = 100) -> str:
    return format_stamp(START + timedelta(milliseconds=step_ms * index))


def write_recording(folder: Path, values: list[tuple[float, float, float, float]], *,
                    path_style: str = "windows", separator: str = ",", header: bool = False,
                    step_ms: int = 100, first_index: int = 0) -> list[str]:
    """Write driving_log.csv + IMG/ as the simulator does; returns the log lines written."""
    image_dir = folder / "IMG"
    image_dir.mkdir(parents=True, exist_ok=True)
    lines = ["center,left,right,steering,throttle,brake,speed"] if header else []
    for offset, numbers in enumerate(values):
        stamp = frame_name_stamp(first_index + offset, step_ms)
        paths = []
        for camera in ("center", "left", "right"):
            name = f"{camera}_{stamp}.jpg"
            (image_dir / name).write_bytes(camera_jpeg(first_index + offset))
            paths.append({"windows": f"C:\\Users\\ana maria\\Desktop\\my run, 1\\IMG\\{name}",
                          "posix": f"/home/ana/data/run/IMG/{name}",
                          "relative": f"IMG/{name}"}[path_style])
        lines.append(separator.join([*paths, *(format_csharp_float(v) for v in numbers)]))
    (folder / "driving_log.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def straight_values(count: int, seed: int = 0) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(seed)
    return [(round(float(rng.uniform(-0.5, 0.5)), 4), 0.5, 0.0, round(float(rng.uniform(5, 30)), 4))
            for _ in range(count)]
