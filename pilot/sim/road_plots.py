"""Pictures of a road test: the car's path on the track map, and what the network looks at."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pilot.figures import plt, save_figure
from pilot.imaging import CROP_ROWS
from pilot.sim.metrics import StepRecord
from pilot.sim.track import Track

DPI = 90


def paths_on_track_maps(drives: list[tuple[Track, list[StepRecord], str]], title: str, path: str | Path) -> Path:
    """Top-down maps, one per (track, records, caption), two to a row, on one colour scale (the narrowest half width):
    road edges, the car's path coloured by |cross-track error|, interventions as red X."""
    if not drives:
        raise ValueError("no drives to draw")
    columns = min(len(drives), 2)
    rows = -(-len(drives) // columns)
    figure, panels = plt.subplots(rows, columns, figsize=(6.8 * columns, 5.8 * rows + 0.4), squeeze=False,
                                 layout="constrained")
    scale_m = min(track.half_width_m for track, _, _ in drives)
    for axes, (track, records, caption) in zip(panels.flat, drives):
        points = _draw_path(axes, track, records, scale_m)
        if caption:
            axes.set_title(caption, fontsize=10)
    for axes in list(panels.flat)[len(drives):]:
        axes.axis("off")
    figure.colorbar(points, ax=panels, shrink=0.7 if rows == 1 else 0.5, label="|cross-track error| (m)")
    figure.suptitle(title)
    return save_figure(figure, path, DPI)


def _draw_path(axes, track: Track, records: list[StepRecord], scale_m: float):
    _draw_road_edges(axes, track)
    centre = track.offset_line(0.0)
    axes.plot(*np.vstack([centre, centre[:1]]).T, color="0.6", linewidth=0.6, linestyle="--")
    error = np.abs([r.cross_track_m for r in records])
    points = axes.scatter([r.x_m for r in records], [r.y_m for r in records], c=error, cmap="viridis", s=3,
                          vmin=0, vmax=scale_m)
    _mark_interventions_and_start(axes, records)
    return points


def _draw_road_edges(axes, track: Track) -> None:
    for lateral in (-track.half_width_m, track.half_width_m):
        edge = track.offset_line(lateral)
        axes.plot(*np.vstack([edge, edge[:1]]).T, color="0.25", linewidth=1.2)


def _mark_interventions_and_start(axes, records: list[StepRecord]) -> None:
    """On a map: a red X where the car was put back, a black dot where it started; equal axes in metres."""
    hits = [r for r in records if r.intervention]
    if hits:
        axes.scatter([r.x_m for r in hits], [r.y_m for r in hits], marker="x", color="red", s=90,
                     linewidths=2.5, label=f"interventions ({len(hits)})", zorder=5)
        axes.legend(loc="upper right")
    axes.scatter([records[0].x_m], [records[0].y_m], marker="o", color="black", s=30, zorder=6)
    axes.set_aspect("equal")
    axes.set_xlabel("x (m)")
    axes.set_ylabel("y (m)")


def path_and_elevation(track: Track, records: list[StepRecord], title: str, path: str | Path) -> Path:
    """A track with hills: the car's path on the map coloured by the road's height, interventions as red X; below,
    the road's height over the lap with where the car was put back. Raises ValueError for a flat track."""
    if track.is_flat:
        raise ValueError("a flat track has no elevation to draw")
    if not records:
        raise ValueError("no drive to draw")
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 9.4), height_ratios=(3, 1.3), layout="constrained")
    _draw_road_edges(top, track)
    along_m = np.array([(r.progress_laps % 1.0) * track.length_m for r in records])
    heights = np.array([track.height_at(s) for s in along_m])
    low, high = float(track.heights_m.min()), float(track.heights_m.max())
    points = top.scatter([r.x_m for r in records], [r.y_m for r in records], c=heights, cmap="terrain", s=3,
                         vmin=low, vmax=high)
    _mark_interventions_and_start(top, records)
    hits = [(r, s) for r, s in zip(records, along_m) if r.intervention]
    figure.colorbar(points, ax=top, shrink=0.7, label="road height (m)")
    bottom.plot(track.s_m, track.heights_m, color="0.35", linewidth=1.2, label="road height")
    bottom.fill_between(track.s_m, low - 1.0, track.heights_m, color="0.85")
    if hits:
        bottom.scatter([s for _, s in hits], [track.height_at(s) for _, s in hits], marker="x", color="red", s=70,
                       linewidths=2, zorder=5, label="interventions")
    steepest = float(np.max(np.abs(track.grades)))
    bottom.set_title(f"height along the road (steepest grade {100 * steepest:.0f} % over the centre line's spacing)",
                     fontsize=10)
    bottom.set_xlim(0, track.length_m)
    bottom.set_ylim(low - 1.0, high + 2.0)
    bottom.set_xlabel("distance along the road (m)")
    bottom.set_ylabel("height (m)")
    bottom.legend(loc="upper right", fontsize=8)
    figure.suptitle(title)
    return save_figure(figure, path, DPI)


def yuv_to_rgb(preprocessed: np.ndarray) -> np.ndarray:
    """A preprocessed (YUV uint8) model input, back in colours a person can read."""
    return cv2.cvtColor(preprocessed, cv2.COLOR_YUV2RGB)


def saliency_grid(frames: list[np.ndarray], model_inputs: np.ndarray, masks: np.ndarray,
                  steering: list[float], path: str | Path) -> Path:
    """One row per frame: the camera frame (crop marked), the model's input, the saliency overlay."""
    rows = len(frames)
    figure, axes = plt.subplots(rows, 3, figsize=(13, 2.3 * rows), squeeze=False)
    for row, (frame, model_input, mask, steer) in enumerate(zip(frames, model_inputs, masks, steering)):
        camera = frame.copy()
        cv2.rectangle(camera, (0, CROP_ROWS[0]), (camera.shape[1] - 1, CROP_ROWS[1]), (255, 255, 0), 1)
        shown = yuv_to_rgb(model_input)
        heat = (plt.get_cmap("inferno")(mask)[..., :3] * 255).astype(np.uint8)
        overlay = cv2.addWeighted(shown, 0.45, heat, 0.55, 0)
        for col, (image, label) in enumerate([(camera, f"camera, steering {steer:+.3f}"),
                                              (shown, "model input (66x200)"),
                                              (overlay, "VisualBackProp saliency")]):
            axes[row][col].imshow(image)
            axes[row][col].set_title(label, fontsize=9)
            axes[row][col].axis("off")
    return save_figure(figure, path, DPI)

