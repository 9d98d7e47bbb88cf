"""Camera frames -> an mp4 with the steering drawn on each frame (imageio-ffmpeg, H.264).

`write_steering_video` takes any sequence of (rgb, steering, throttle, speed_mph), so the
drive server's recordings and the road test's rendered frames share one renderer;
`recording_to_video` reads a drive recording (pilot.drive.record) and calls it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import cv2
import imageio_ffmpeg
import numpy as np

from pilot.drive.record import DriveRecordError, read_drive_log
from pilot.udacity.images import read_jpeg_rgb
from pilot.udacity.simulator import MAX_STEER_DEG

UPSCALE = 2                    # 320x160 camera -> 640x320 video, readable text
DEFAULT_FPS = 10.0
NEEDLE_COLOR = (255, 210, 0)
BAR_COLOR = (0, 200, 255)
TEXT_COLOR = (255, 255, 255)


def draw_steering(rgb: np.ndarray, steering: float, throttle: float, speed_mph: float) -> np.ndarray:
    """Upscale a camera frame and draw the steering needle, a steering bar and the numbers."""
    frame = cv2.resize(rgb, (rgb.shape[1] * UPSCALE, rgb.shape[0] * UPSCALE),
                       interpolation=cv2.INTER_LINEAR)
    height, width = frame.shape[:2]
    steering = float(np.clip(steering, -1.0, 1.0))
    # needle: the front wheels' angle, pivoting at the bottom centre
    pivot = (width // 2, height - 12)
    length = height // 3
    angle_rad = np.deg2rad(steering * MAX_STEER_DEG)
    tip = (int(pivot[0] + length * np.sin(angle_rad)), int(pivot[1] - length * np.cos(angle_rad)))
    cv2.line(frame, pivot, (pivot[0], pivot[1] - length), (90, 90, 90), 1, cv2.LINE_AA)
    cv2.line(frame, pivot, tip, NEEDLE_COLOR, 4, cv2.LINE_AA)
    # bar: steering -1..1 across the bottom edge
    bar_half = width // 2 - 20
    bar_end = int(width // 2 + steering * bar_half)
    cv2.rectangle(frame, (20, height - 8), (width - 20, height - 2), (60, 60, 60), -1)
    cv2.rectangle(frame, (min(width // 2, bar_end), height - 8), (max(width // 2, bar_end), height - 2),
                  BAR_COLOR, -1)
    text = (f"steer {steering:+.3f} ({steering * MAX_STEER_DEG:+.1f} deg)  "
            f"throttle {throttle:+.2f}  {speed_mph:4.1f} mph")
    band = frame[:32]
    band[:] = (band * 0.45).astype(np.uint8)          # darken the sky behind the text
    cv2.putText(frame, text, (10, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.55, TEXT_COLOR, 1, cv2.LINE_AA)
    return frame


def write_steering_video(frames: Iterable[tuple[np.ndarray, float, float, float]],
                         out_path: str | Path, fps: float) -> int:
    """Write (rgb, steering, throttle, speed_mph) frames to an H.264 mp4; returns the count."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    count = 0
    try:
        for rgb, steering, throttle, speed_mph in frames:
            drawn = draw_steering(rgb, steering, throttle, speed_mph)
            if writer is None:
                writer = imageio_ffmpeg.write_frames(
                    str(out_path), (drawn.shape[1], drawn.shape[0]), fps=fps,
                    codec="libx264", macro_block_size=8, ffmpeg_log_level="error")
                writer.send(None)
            writer.send(np.ascontiguousarray(drawn))
            count += 1
    finally:
        if writer is not None:
            writer.close()
    return count


def recording_fps(times_s: list[float]) -> float:
    """Frames per second of a recording, from its time stamps (DEFAULT_FPS if unknown)."""
    if len(times_s) < 2 or times_s[-1] <= times_s[0]:
        return DEFAULT_FPS
    return float(np.clip((len(times_s) - 1) / (times_s[-1] - times_s[0]), 1.0, 60.0))


def recording_to_video(folder: str | Path, out_path: str | Path, fps: float | None = None) -> int:
    """Turn a drive recording into an mp4 with the steering drawn; returns the frame count."""
    rows = read_drive_log(folder)
    if not rows:
        raise DriveRecordError(f"{folder} has no frames to put in a video.")
    missing = [row.image for row in rows if not row.image.is_file()]
    if missing:
        raise DriveRecordError(f"{len(missing)} frames of {folder} are missing, first {missing[0]}.")

    def frames() -> Iterator[tuple[np.ndarray, float, float, float]]:
        for row in rows:
            yield read_jpeg_rgb(str(row.image)), row.steering, row.throttle, row.speed_mph

    return write_steering_video(frames(), out_path, fps or recording_fps([r.time_s for r in rows]))
