"""Build small Udacity-style recordings in a temp folder: real JPEGs, every log variant."""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

START = datetime(2019, 2, 20, 12, 24, 27, 239000)


def road_jpeg(seed: int = 0, width: int = 320, height: int = 160, quality: int = 75) -> bytes:
    """A 320x160 JPEG with sky, a grey road and green verges, varied by `seed`."""
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = (120, 170, 230)
    image[height // 2:] = (70, 130, 50)
    shift = int(rng.integers(-40, 40))
    for row in range(height // 2, height):
        half = int((row - height // 2) * 1.6) + 10
        left, right = max(0, width // 2 + shift - half), min(width, width // 2 + shift + half)
        image[row, left:right] = (110, 110, 115)
    image = np.clip(image.astype(int) + rng.integers(-8, 8, image.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def frame_stamp(index: int, step_ms: int = 100) -> str:
    return (START + timedelta(milliseconds=step_ms * index)).strftime("%Y_%m_%d_%H_%M_%S_%f")[:-3]


def write_recording(folder: Path, values: list[tuple[float, float, float, float]], *,
                    path_style: str = "windows", separator: str = ",", header: bool = False,
                    step_ms: int = 100, first_index: int = 0) -> list[str]:
    """Write driving_log.csv + IMG/ as the simulator does; returns the log lines written."""
    image_dir = folder / "IMG"
    image_dir.mkdir(parents=True, exist_ok=True)
    lines = ["center,left,right,steering,throttle,brake,speed"] if header else []
    for offset, numbers in enumerate(values):
        stamp = frame_stamp(first_index + offset, step_ms)
        paths = []
        for camera in ("center", "left", "right"):
            name = f"{camera}_{stamp}.jpg"
            (image_dir / name).write_bytes(road_jpeg(first_index + offset))
            paths.append({"windows": f"C:\\Users\\ana maria\\Desktop\\my run, 1\\IMG\\{name}",
                          "posix": f"/home/ana/data/run/IMG/{name}",
                          "relative": f"IMG/{name}"}[path_style])
        lines.append(separator.join([*paths, *(format_csharp(v) for v in numbers)]))
    (folder / "driving_log.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def format_csharp(value: float) -> str:
    """C#'s default float formatting, near enough for fixtures: '0', '-0.2', '7.843922E-05'."""
    if value == 0:
        return "0"
    if abs(value) < 1e-4:
        mantissa, exponent = f"{value:.6E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E{exponent[0]}{exponent[1:].zfill(2)}"
    return f"{value:.7g}"


def straight_values(count: int, seed: int = 0) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(seed)
    return [(round(float(rng.uniform(-0.5, 0.5)), 4), 0.5, 0.0, round(float(rng.uniform(5, 30)), 4))
            for _ in range(count)]
