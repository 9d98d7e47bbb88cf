"""The headless Jungle beside a real Jungle recording: does the simulator's look match the real one?

Row 1: the headless centre camera where the real car spawns (the Jungle's start, 2.36 m right of
the centre line) beside the recording's first frame, taken at the spawn before the car moves.
Rows 2 and 3: headless frames in the right lane at places spread over the lap, and real frames
spread over the recording (the same number; not the same places: a recording does not say where
its car was). Prints the median colour of the same road patch in every frame (the rows ahead of
the hood, the middle columns) and of the brightest paint, headless against real.

    .venv/bin/python bench/jungle_look.py REAL_JUNGLE_RECORDING [--out jungle_look.png] [--frames 3]

Needs a real Jungle recording (shared/real-recordings.md: jungle_mouse); third-party data, so
this is run by hand, never by the tests.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pilot.sim.camera import Renderer  # noqa: E402
from pilot.sim.contact_sheet import save_png  # noqa: E402
from pilot.sim.jungle_track import JUNGLE_START_RIGHT_OF_CENTRE_M, jungle_start_pose  # noqa: E402
from pilot.sim.track import named_track  # noqa: E402
from pilot.sim.vehicle import VehicleState  # noqa: E402
from pilot.udacity.images import read_jpeg_rgb  # noqa: E402
from pilot.udacity.log_reader import read_recording  # noqa: E402
from pilot.udacity.simulator import REAR_AXLE_BEHIND_ROOT_M  # noqa: E402

ROAD_PATCH = (slice(112, 128), slice(130, 190))   # rows just ahead of the hood, the middle columns
LABEL_PX = 22


def rear_axle_state(x_m: float, y_m: float, heading_rad: float) -> VehicleState:
    """The car whose root (Unity's transform) is at (x, y), heading `heading_rad`."""
    return VehicleState(x_m - REAR_AXLE_BEHIND_ROOT_M * math.cos(heading_rad),
                        y_m - REAR_AXLE_BEHIND_ROOT_M * math.sin(heading_rad), heading_rad)


def headless_frames(count: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The centre camera at the spawn, and `count` right-lane frames spread over the lap."""
    track = named_track("jungle")
    renderer = Renderer(track)
    start = renderer.render(rear_axle_state(*jungle_start_pose()))
    frames = []
    for s_m in np.linspace(0.0, track.length_m, count + 1)[1:] - 0.5 * track.length_m / count:
        # the spawn's offset, the middle of the right lane
        frames.append(renderer.render(rear_axle_state(*track.point_at(float(s_m), -JUNGLE_START_RIGHT_OF_CENTRE_M))))
    return start, frames


def real_frames(recording: Path, count: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The recording's first centre frame (the spawn) and `count` moving frames spread over it."""
    rows = pd.DataFrame(read_recording(recording, repo_root="/", check_images=False).rows)
    rows = rows.sort_values("time", kind="stable").reset_index(drop=True)
    first = read_jpeg_rgb("/" + rows["center"].iloc[0])
    moving = rows[rows["speed"] > 5.0]
    picks = moving.iloc[np.linspace(0, len(moving) - 1, count + 2).astype(int)[1:-1]]
    return first, [read_jpeg_rgb("/" + path) for path in picks["center"]]


def labelled(image: np.ndarray, text: str) -> np.ndarray:
    band = np.full((LABEL_PX, image.shape[1], 3), 245, np.uint8)
    cv2.putText(band, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
    return np.vstack([band, image])


def road_colour(frame: np.ndarray) -> np.ndarray:
    return np.median(frame[ROAD_PATCH].reshape(-1, 3), axis=0)


def paint_colour(frame: np.ndarray) -> np.ndarray:
    """The median of the brightest 1 % of the road rows' pixels: the white paint where it shows."""
    rows = frame[90:135].reshape(-1, 3).astype(float)
    brightest = rows[rows.sum(axis=1) >= np.percentile(rows.sum(axis=1), 99)]
    return np.median(brightest, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path, help="a real Jungle recording (driving_log.csv + IMG/)")
    parser.add_argument("--out", type=Path, default=Path("jungle_look.png"))
    parser.add_argument("--frames", type=int, default=3, help="frames spread over the lap, each way")
    args = parser.parse_args()
    if not (args.recording / "driving_log.csv").is_file():
        sys.exit(f"jungle_look: {args.recording} has no driving_log.csv: give a recording folder")
    head_start, head_lap = headless_frames(args.frames)
    real_start, real_lap = real_frames(args.recording, args.frames)
    blank = np.full_like(head_start, 245)
    rows = [
        np.hstack([labelled(head_start, "headless: the spawn"), labelled(real_start, "real: the spawn"),
                   *[labelled(blank, "") for _ in range(max(0, args.frames - 2))]]),
        np.hstack([labelled(frame, f"headless: lap {i + 1}") for i, frame in enumerate(head_lap)]),
        np.hstack([labelled(frame, f"real: recording {i + 1}") for i, frame in enumerate(real_lap)]),
    ]
    width = max(row.shape[1] for row in rows)
    sheet = np.vstack([np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=245) for row in rows])
    save_png(sheet, args.out)
    for name, frames in (("headless", [head_start, *head_lap]), ("real", [real_start, *real_lap])):
        road = np.median([road_colour(frame) for frame in frames], axis=0)
        paint = np.median([paint_colour(frame) for frame in frames], axis=0)
        print(f"{name:8s}: road ahead RGB {road.round().astype(int).tolist()}, brightest paint "
              f"{paint.round().astype(int).tolist()} (median over {len(frames)} frames)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
