"""Pictures of a replay: offset over distance with the interventions, and the synthesised drive as an mp4."""
from __future__ import annotations

from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from pilot.figures import plt, save_figure
from pilot.replay.result import FrameRecord
from pilot.udacity.simulator import CAR_TRACK_WIDTH_M, MAX_STEER_DEG

UPSCALE = 2                         # 320x160 views -> 640x320 video, readable text
HUMAN_RGB = (255, 255, 255)
MODEL_RGB = (255, 210, 0)
INTERVENTION_RGB = (230, 30, 30)
TEXT_RGB = (255, 255, 255)


def offset_plot(records: list[FrameRecord], title: str, path: str | Path, max_offset_m: float = 1.0,
                road_half_width_m: float | None = None) -> Path:
    """Where the model's car was over distance (interventions as red X) above both drivers' steering.

    On stretches placed on a known road (records with a cross-track) it shows the model's car and the human's
    on the road, with the lines where a wheel leaves it; elsewhere the offset from the human's path, with
    the lines at max_offset_m."""
    figure, (offset_axes, steering_axes) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True,
                                                        gridspec_kw={"height_ratios": [3, 2]})
    distance = _with_breaks(records, [record.distance_m for record in records])
    on_road = [record.cross_track_m is not None for record in records]
    nan = float("nan")
    if any(on_road):
        offset_axes.plot(distance, _with_breaks(records, [r.human_cross_track_m if known else nan
                                                          for r, known in zip(records, on_road)]),
                         color="0.45", linewidth=1.0, label="the human's car: cross-track (m, + left)")
        offset_axes.plot(distance, _with_breaks(records, [r.cross_track_m if known else nan
                                                          for r, known in zip(records, on_road)]),
                         color="tab:blue", linewidth=1.2, label="the model's car: cross-track (m, + left)")
        if road_half_width_m is not None:
            wheel_out = road_half_width_m - 0.5 * CAR_TRACK_WIDTH_M
            for limit in (-wheel_out, wheel_out):
                offset_axes.axhline(limit, color="tab:green", linestyle="--", linewidth=0.8)
            offset_axes.plot([], [], color="tab:green", linestyle="--", linewidth=0.8,
                             label="a wheel leaves the road (square on)")
    if not all(on_road):
        offset_axes.plot(distance, _with_breaks(records, [nan if known else r.offset_m
                                                          for r, known in zip(records, on_road)]),
                         color="tab:purple", linewidth=1.2, label="the model's car: offset from the human's path (m)")
        for limit in (-max_offset_m, max_offset_m):
            offset_axes.axhline(limit, color="0.5", linestyle="--", linewidth=0.8)
    hits = [record for record in records if record.intervention]
    if hits:
        offset_axes.scatter([r.distance_m for r in hits], [_position(r) for r in hits], marker="x", color="red",
                            s=70, linewidths=2.2, zorder=5, label=f"interventions ({len(hits)})")
    offset_axes.set_ylabel("on the road (m)" if all(on_road) else "offset (m)")
    offset_axes.legend(loc="upper right", fontsize=7)
    offset_axes.set_title(title)
    steering_axes.plot(distance, _with_breaks(records, [r.human_steering for r in records]), color="0.3",
                       linewidth=1.0, label="human (recorded)")
    steering_axes.plot(distance, _with_breaks(records, [r.model_steering for r in records]), color="tab:orange",
                       linewidth=1.0, label="model")
    steering_axes.set_ylabel("steering (+ right)")
    steering_axes.set_xlabel("distance along the recorded drive (m)")
    steering_axes.legend(loc="upper right", fontsize=8)
    return save_figure(figure, path, dpi=90)


def _position(record: FrameRecord) -> float:
    """Where the record's car is drawn: its cross-track on a known road, else its offset from the human's path."""
    return record.offset_m if record.cross_track_m is None else record.cross_track_m


def _with_breaks(records: list[FrameRecord], values: list[float]) -> np.ndarray:
    """Values with a NaN between stretches, so lines do not join across a pause."""
    out: list[float] = []
    for index, (record, value) in enumerate(zip(records, values)):
        if index and record.stretch != records[index - 1].stretch:
            out.append(np.nan)
        out.append(value)
    return np.array(out, dtype=np.float64)


def draw_replay_frame(view_rgb: np.ndarray, record: FrameRecord) -> np.ndarray:
    """Upscale a synthesised view and draw both drivers' front-wheel angles and the car's offset."""
    frame = cv2.resize(view_rgb, (view_rgb.shape[1] * UPSCALE, view_rgb.shape[0] * UPSCALE),
                       interpolation=cv2.INTER_LINEAR)
    height, width = frame.shape[:2]
    pivot = (width // 2, height - 12)
    length = height // 3
    cv2.line(frame, pivot, (pivot[0], pivot[1] - length), (90, 90, 90), 1, cv2.LINE_AA)
    # the model's needle is thick; the human's is thin and longer, so its tip shows when both agree
    for steering, colour, thickness, reach in ((record.model_steering, MODEL_RGB, 4, length),
                                               (record.human_steering, HUMAN_RGB, 2, int(1.25 * length))):
        angle = np.deg2rad(float(np.clip(steering, -1.0, 1.0)) * MAX_STEER_DEG)
        tip = (int(pivot[0] + reach * np.sin(angle)), int(pivot[1] - reach * np.cos(angle)))
        cv2.line(frame, pivot, tip, colour, thickness, cv2.LINE_AA)
    band = frame[:52]
    band[:] = (band * 0.45).astype(np.uint8)           # darken the sky behind the text
    cv2.putText(frame, f"human {record.human_steering:+.3f}  model {record.model_steering:+.3f}", (10, 20),
                cv2.FONT_HERSHEY_SIMPLEX, 0.55, TEXT_RGB, 1, cv2.LINE_AA)
    where = (f"offset {record.offset_m:+.2f} m" if record.cross_track_m is None
             else f"cross-track {record.cross_track_m:+.2f} m (human {record.human_cross_track_m:+.2f})")
    cv2.putText(frame, f"{where}  heading {record.heading_error_deg:+.1f} deg  "
                f"from {record.camera}  {record.distance_m:.0f} m", (10, 42), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                TEXT_RGB, 1, cv2.LINE_AA)
    if record.intervention:
        cv2.rectangle(frame, (2, 2), (width - 3, height - 3), INTERVENTION_RGB, 6)
        cv2.putText(frame, "INTERVENTION", (width - 190, 80), cv2.FONT_HERSHEY_SIMPLEX, 0.75, INTERVENTION_RGB, 2,
                    cv2.LINE_AA)
    return frame


class ReplayVideo:
    """An H.264 mp4 of the synthesised drive, fed one replayed frame at a time (a replay's on_frame hook)."""

    def __init__(self, path: str | Path, fps: float, max_frames: int | None = None) -> None:
        self.path = Path(path)
        self.fps = fps
        self.max_frames = max_frames
        self.frames = 0
        self._writer = None

    def add(self, record: FrameRecord, view_rgb: np.ndarray) -> None:
        """Draw and append one frame (frames past max_frames are ignored)."""
        if self.max_frames is not None and self.frames >= self.max_frames:
            return
        drawn = draw_replay_frame(view_rgb, record)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = imageio_ffmpeg.write_frames(str(self.path), (drawn.shape[1], drawn.shape[0]), fps=self.fps,
                                                       codec="libx264", macro_block_size=8, ffmpeg_log_level="error",
                                                       output_params=["-preset", "veryfast"])   # keeps up with replay
            self._writer.send(None)
        self._writer.send(np.ascontiguousarray(drawn))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "ReplayVideo":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
