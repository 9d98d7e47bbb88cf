"""Small synthetic road frames and split CSVs, for tests and benchmarks that run on a fresh clone.

A frame is a 320x160 RGB picture of sky, grass and a grey road whose far end bends
with the steering, so a model can learn something from it in a few steps. Written
as real JPEGs in the split CSV layout (recording,time,center,left,right,steering,
throttle,brake,speed) that augment reads. `write_simulator_split_csv` writes the
headless simulator's camera frames instead: what the default data looks like (for
benchmarks whose figures depend on the pictures, such as compressed sizes).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image

from pilot.udacity.frame_time import format_frame_time
from pilot.udacity.simulator import IMAGE_DIR_NAME, IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX

HORIZON_ROW = 55
SIDE_CAMERA_SHIFT_PX = 24            # the left camera sees the road shifted right, and vice versa
ROAD_BEND_PX = 110                   # horizontal shift of the road's far end at steering 1


def road_frame(steering: float, shift_px: int = 0, noise_seed: int = 0) -> np.ndarray:
    """An RGB uint8 (160, 320, 3) road picture for a steering in -1..1."""
    rows = np.linspace(0.0, 1.0, IMAGE_HEIGHT_PX, dtype=np.float32)[:, None, None]
    image = np.empty((IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX, 3), np.float32)
    image[:] = (1 - rows) * np.float32([110, 160, 230]) + rows * np.float32([60, 120, 60])
    image[HORIZON_ROW:] = np.float32([70, 130, 60]) - 20 * rows[HORIZON_ROW:]
    centre_x = IMAGE_WIDTH_PX / 2 + shift_px
    far_x = centre_x + steering * ROAD_BEND_PX
    road = np.array([[centre_x - 150, IMAGE_HEIGHT_PX], [centre_x + 150, IMAGE_HEIGHT_PX],
                     [far_x + 18, HORIZON_ROW], [far_x - 18, HORIZON_ROW]], np.int32)
    cv2.fillPoly(image, [road], (105, 105, 110))
    cv2.polylines(image, [road], True, (230, 230, 230), 3)
    noise = np.random.default_rng(noise_seed).normal(0, 6, image.shape).astype(np.float32)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def write_split_csvs(root: Path, frames: int, seed: int = 0, val_fraction: float = 0.25) -> tuple[Path, Path]:
    """Write `frames` frames (three cameras each) under root/IMG and root/{train,val}.csv.

    Image paths in the CSVs are absolute, so readers do not depend on the working folder.
    """
    rng = np.random.default_rng(seed)
    image_dir = root / IMAGE_DIR_NAME
    image_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for frame in range(frames):
        steering = float(np.clip(rng.normal(0, 0.35), -1, 1))
        stamp = f"2024_01_01_00_00_{frame // 1000:02d}_{frame % 1000:03d}"
        paths = {}
        for camera, shift in (("center", 0), ("left", SIDE_CAMERA_SHIFT_PX), ("right", -SIDE_CAMERA_SHIFT_PX)):
            path = image_dir / f"{camera}_{stamp}.jpg"
            Image.fromarray(road_frame(steering, shift, noise_seed=seed * 100_003 + frame)).save(path, quality=90)
            paths[camera] = str(path)
        taken_at = datetime(2024, 1, 1) + timedelta(milliseconds=100 * frame)
        rows.append({"recording": "synthetic", "time": format_frame_time(taken_at), **paths,
                     "steering": steering, "throttle": 0.3, "brake": 0.0, "speed": 15.0})
    table = pd.DataFrame(rows)
    val_count = max(1, int(round(frames * val_fraction)))
    train_csv, val_csv = root / "train.csv", root / "val.csv"
    table.iloc[val_count:].to_csv(train_csv, index=False)
    table.iloc[:val_count].to_csv(val_csv, index=False)
    return train_csv, val_csv


def write_simulator_split_csv(root: Path, frames: int, seed: int = 0, track_seed: int = 7) -> Path:
    """`frames` frames (three cameras each) from the headless simulator, spread round one track.

    The light varies within simulate's default range; JPEGs at the simulator's quality;
    steering labels are random (the pictures are what matters). Returns root/train.csv.
    """
    from pilot.sim.camera import CAMERAS, Light, Renderer, encode_jpeg
    from pilot.sim.episode import start_state
    from pilot.sim.track import generate_track

    rng = np.random.default_rng(seed)
    track = generate_track(track_seed)
    renderer = Renderer(track)
    image_dir = root / IMAGE_DIR_NAME
    image_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for frame in range(frames):
        state = start_state(track, s_m=track.length_m * frame / frames)
        light = Light(brightness=rng.uniform(0.55, 1.25), warmth=rng.uniform(-0.3, 0.8))
        paths = {}
        for camera in CAMERAS:
            path = image_dir / f"{camera}_{frame:05d}.jpg"
            path.write_bytes(encode_jpeg(renderer.render(state, camera, light)))
            paths[camera] = str(path)
        rows.append({"recording": "simulator", "time": f"{frame / 10:.1f}", **paths,
                     "steering": float(np.clip(rng.normal(0, 0.35), -1, 1)),
                     "throttle": 0.3, "brake": 0.0, "speed": 15.0})
    csv_path = root / "train.csv"
    pd.DataFrame(rows).to_csv(csv_path, index=False)
    return csv_path
