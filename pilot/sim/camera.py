"""The car's three cameras: 320x160 RGB frames laid out like the simulator's.

A pinhole camera 1.4 m above the road, pitched down so the horizon sits near row 62
and the seed's crop (rows 60:135) holds the road from ~3 m ahead to the horizon; the
hood fills the bottom rows. The ground is the scenery's top-down texture mapped by one
homography (cv2.warpPerspective); above it, the slice of the sky panorama the camera
faces; then distance haze, the hood, and the light (a per-channel lookup table).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pilot.sim.scenery import PANORAMA_WIDTH_PX, Scenery, build_scenery
from pilot.sim.track import Track
from pilot.sim.vehicle import VehicleState
from pilot.udacity.simulator import CAMERAS, IMAGE_HEIGHT_PX as HEIGHT_PX, IMAGE_WIDTH_PX as WIDTH_PX

FOCAL_PX = 160.0                      # 90 degree horizontal field of view
CENTRE_COLUMN_PX = 159.5
CENTRE_ROW_PX = 79.5
HORIZON_ROW_PX = 62.0                 # the seed's crop starts at row 60
CAMERA_HEIGHT_M = 1.4
MOUNT_FORWARD_M = 1.6                 # camera ahead of the rear axle
SIDE_OFFSET_M = 1.0                   # left/right cameras this far to the side of the centre one
HOOD_TOP_ROW_PX = 136                 # the hood's highest row in the centre camera
HOOD_DISTANCE_M = 2.0                 # hood's apparent distance (sets its sideways shift in side cameras)
HAZE_DISTANCE_M = 110.0               # distance at which haze covers 63 % of the ground colour
JPEG_QUALITY = 75                     # Unity's EncodeToJPG default, as the simulator writes
CAMERA_OFFSETS_M = dict(zip(CAMERAS, (0.0, SIDE_OFFSET_M, -SIDE_OFFSET_M)))   # metres to the left
PITCH_RAD = math.atan((CENTRE_ROW_PX - HORIZON_ROW_PX) / FOCAL_PX)
GROUND_FIRST_ROW = int(math.floor(HORIZON_ROW_PX)) + 2     # rows above come from the panorama


@dataclass(frozen=True)
class Light:
    """Brightness (1 = midday) and warmth (0 neutral, >0 evening orange, <0 cold)."""

    brightness: float = 1.0
    warmth: float = 0.0

    def lookup_table(self) -> np.ndarray:
        gains = self.brightness * np.array([1 + 0.12 * self.warmth, 1.0, 1 - 0.18 * self.warmth])
        values = np.arange(256, dtype=np.float32)[:, None] * gains[None, :]
        return np.clip(np.round(values), 0, 255).astype(np.uint8).reshape(1, 256, 3)


def _hood(lateral_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The hood seen from a camera `lateral_m` left of centre: (rgb, mask) for rows HOOD_TOP-4..160."""
    top = HOOD_TOP_ROW_PX - 4
    centre = CENTRE_COLUMN_PX + FOCAL_PX * lateral_m / HOOD_DISTANCE_M
    half_width = 150.0
    column = (np.arange(WIDTH_PX) - centre) / half_width
    edge = HOOD_TOP_ROW_PX + 30.0 * column**2             # a rounded bonnet line
    row = np.arange(top, HEIGHT_PX)[:, None]
    mask = (row >= edge[None, :]) & (np.abs(column)[None, :] < 1.0)
    depth = np.clip((row - edge[None, :]) / 20.0, 0, 1)
    base = np.array([88, 98, 112], np.float32)
    shade = (0.95 - 0.35 * depth - 0.25 * np.abs(column)[None, :].clip(0, 1))[..., None]
    rgb = base * shade
    rgb += (np.exp(-((row - edge[None, :] - 2.0) ** 2) / 2.0) * 80)[..., None]     # a highlight on the edge
    return np.clip(rgb, 0, 255).astype(np.uint8), mask


class Renderer:
    """Renders a track's world from any vehicle pose; build once per track (about a second)."""

    def __init__(self, track: Track, scenery: Scenery | None = None) -> None:
        self.track = track
        self.scenery = scenery or build_scenery(track, track.seed or 0, GROUND_FIRST_ROW, HORIZON_ROW_PX)
        s = self.scenery
        self._to_texture = np.array([[1 / s.m_per_px, 0, -s.left_x_m / s.m_per_px],
                                     [0, -1 / s.m_per_px, s.top_y_m / s.m_per_px], [0, 0, 1]])
        self._row_shift = np.array([[1, 0, 0], [0, 1, GROUND_FIRST_ROW], [0, 0, 1]], dtype=np.float64)
        offsets = -np.arctan((np.arange(WIDTH_PX) - CENTRE_COLUMN_PX) / FOCAL_PX)
        self._azimuth_columns = offsets / (2 * np.pi) * PANORAMA_WIDTH_PX
        rows = np.arange(GROUND_FIRST_ROW, HEIGHT_PX)
        below = np.arctan((rows - CENTRE_ROW_PX) / FOCAL_PX) + PITCH_RAD
        distance = CAMERA_HEIGHT_M / np.tan(below)
        haze = 1 - np.exp(-distance / HAZE_DISTANCE_M)
        self._haze_rows = int(np.count_nonzero(haze > 0.04))
        self._haze = haze[: self._haze_rows].astype(np.float32)[:, None, None]
        self._haze_colour = np.array(s.distant_rgb, np.float32)
        self._hoods = {name: _hood(lateral) for name, lateral in CAMERA_OFFSETS_M.items()}

    def ground_homography(self, x_m: float, y_m: float, yaw_rad: float) -> np.ndarray:
        """Map from output pixels (rows from GROUND_FIRST_ROW) to ground-texture pixels."""
        cos_yaw, sin_yaw = math.cos(yaw_rad), math.sin(yaw_rad)
        cos_p, sin_p = math.cos(PITCH_RAD), math.sin(PITCH_RAD)
        right = np.array([sin_yaw, -cos_yaw])
        ahead = np.array([cos_yaw, sin_yaw])
        f, cx, cy, h = FOCAL_PX, CENTRE_COLUMN_PX, CENTRE_ROW_PX, CAMERA_HEIGHT_M
        # ray(u, v) = (u-cx)/f * right + (v-cy)/f * down' + forward'  (in the ground plane: xy part)
        ray = np.stack([right / f, -sin_p * ahead / f, -cx * right / f + cy * sin_p * ahead / f + cos_p * ahead], axis=1)
        depth = np.array([0.0, cos_p / f, -cy * cos_p / f + sin_p])           # = -ray_z: height drop per unit
        to_world = np.vstack([h * ray[0] + x_m * depth, h * ray[1] + y_m * depth, depth])
        return self._to_texture @ to_world @ self._row_shift

    def render(self, state: VehicleState, camera: str = "center", light: Light = Light()) -> np.ndarray:
        """A 160x320x3 uint8 RGB frame from the named camera ('center', 'left', 'right')."""
        lateral_m = CAMERA_OFFSETS_M[camera]
        x_m, y_m = state.point_ahead(MOUNT_FORWARD_M, lateral_m)
        frame = np.empty((HEIGHT_PX, WIDTH_PX, 3), np.uint8)
        columns = np.round(state.yaw_rad / (2 * np.pi) * PANORAMA_WIDTH_PX + self._azimuth_columns).astype(np.intp)
        frame[:GROUND_FIRST_ROW] = np.take(self.scenery.panorama_rgb, columns % PANORAMA_WIDTH_PX, axis=1)
        cv2.warpPerspective(self.scenery.ground_rgb, self.ground_homography(x_m, y_m, state.yaw_rad),
                            (WIDTH_PX, HEIGHT_PX - GROUND_FIRST_ROW), dst=frame[GROUND_FIRST_ROW:],
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=self.scenery.distant_rgb)
        band = frame[GROUND_FIRST_ROW: GROUND_FIRST_ROW + self._haze_rows]
        band[:] = band * (1 - self._haze) + self._haze_colour * self._haze
        hood_rgb, hood_mask = self._hoods[camera]
        np.copyto(frame[HEIGHT_PX - hood_rgb.shape[0]:], hood_rgb, where=hood_mask[..., None])
        if light != Light():
            frame = cv2.LUT(frame, light.lookup_table())
        return frame


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """RGB frame -> JPEG bytes at the simulator's quality."""
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()
