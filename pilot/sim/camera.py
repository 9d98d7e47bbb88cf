"""The car's three cameras: 320x160 RGB frames with the Udacity simulator's camera rig.

`CameraRig` holds the rig of the real simulator (read from its Unity project): a pinhole
with a 60 degree vertical field of view (focal 138.56 px), 1.2 m above the road, 1.0 m
ahead of the car's root, pitched 9.5 degrees down; the side cameras are pure sideways
shifts of the centre one (the rig's 0.72 degree yaw and 1.2 degree roll are left out).
Pixel convention: pixel (row r, column c) has its centre at (r, c), so Unity's principal
point (160, 80), counted from the image's corner, is column 159.5, row 79.5 here, and a
pitch p puts the horizon at row 79.5 - f tan p (56.3 for 9.5 degrees).

The ground is the scenery's top-down texture mapped by one homography
(cv2.warpPerspective); above it, the slice of the sky panorama the camera faces; then
distance haze, the hood as it looks in the simulator's frames, and the light.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pilot.sim.scenery import PANORAMA_WIDTH_PX, Scenery, build_scenery
from pilot.sim.track import Track
from pilot.sim.vehicle import ROOT_AHEAD_OF_REAR_AXLE_M, VehicleState
from pilot.udacity.simulator import CAMERAS, IMAGE_HEIGHT_PX as HEIGHT_PX, IMAGE_WIDTH_PX as WIDTH_PX

CENTRE_COLUMN_PX = 159.5              # Unity's principal point (160, 80) in pixel-centre coordinates
CENTRE_ROW_PX = 79.5
# The hood's top edge in the centre camera: (columns from the centre, rows from the image's top edge)
# as measured in real frames, the mean of both sides; a pixel is hood when its centre is below
# the edge; no hood beyond the last column offset.
HOOD_EDGE_PX = ((0, 137.3), (20, 138.4), (40, 140.9), (60, 143.9), (80, 147.6), (90, 149.8),
                (100, 152.7), (108, 159.9))
HOOD_DISTANCE_M = 0.83                # hood edge's depth: side cameras see the hood ~135 px aside
HOOD_TOP_RGB = (132, 146, 142)        # blue-grey paint just below the edge (it reflects the sky)
HOOD_BOTTOM_RGB = (104, 121, 123)
HAZE_DISTANCE_M = 110.0               # distance at which haze covers 63 % of the ground colour
JPEG_QUALITY = 75                     # Unity's EncodeToJPG default, as the simulator writes


@dataclass(frozen=True)
class CameraRig:
    """Pose and lens of the three cameras (defaults: the simulator's, read from its Unity project)."""

    height_m: float = 1.2             # above the road
    pitch_deg: float = 9.5            # down
    forward_m: float = 1.0            # ahead of the car's root
    left_offset_m: float = 0.806      # left camera, left of the centre one
    right_offset_m: float = 0.825     # right camera, right of the centre one
    focal_px: float = 80.0 / math.tan(math.radians(30.0))   # 138.56: 60 degree vertical field of view

    @property
    def pitch_rad(self) -> float:
        return math.radians(self.pitch_deg)

    @property
    def horizon_row_px(self) -> float:
        """Row of the horizon (a flat world's vanishing line)."""
        return CENTRE_ROW_PX - self.focal_px * math.tan(self.pitch_rad)

    @property
    def ahead_of_rear_axle_m(self) -> float:
        return ROOT_AHEAD_OF_REAR_AXLE_M + self.forward_m

    def left_of_centre_m(self, camera: str) -> float:
        """Sideways position of a camera, positive to the left ('center', 'left', 'right')."""
        offsets = {"center": 0.0, "left": self.left_offset_m, "right": -self.right_offset_m}
        if camera not in offsets:
            raise ValueError(f"unknown camera {camera!r}: use one of {', '.join(CAMERAS)}")
        return offsets[camera]

    def ground_pixel(self, ahead_m: float, left_m: float) -> tuple[float, float]:
        """(column, row) of a flat-road point `ahead_m` ahead of the camera and `left_m` to its left."""
        cos_p, sin_p = math.cos(self.pitch_rad), math.sin(self.pitch_rad)
        depth_m = ahead_m * cos_p + self.height_m * sin_p           # along the optical axis
        below_m = self.height_m * cos_p - ahead_m * sin_p           # along the image's down axis
        return (CENTRE_COLUMN_PX - self.focal_px * left_m / depth_m, CENTRE_ROW_PX + self.focal_px * below_m / depth_m)


@dataclass(frozen=True)
class Light:
    """Brightness (1 = midday) and warmth (0 neutral, >0 evening orange, <0 cold)."""

    brightness: float = 1.0
    warmth: float = 0.0

    def lookup_table(self) -> np.ndarray:
        gains = self.brightness * np.array([1 + 0.12 * self.warmth, 1.0, 1 - 0.18 * self.warmth])
        values = np.arange(256, dtype=np.float32)[:, None] * gains[None, :]
        return np.clip(np.round(values), 0, 255).astype(np.uint8).reshape(1, 256, 3)


def hood_layer(shift_px: float) -> tuple[np.ndarray, np.ndarray]:
    """The hood shifted `shift_px` columns to the right: (rgb, mask) for its rows down to the bottom."""
    offsets = np.array([o for o, _ in HOOD_EDGE_PX], np.float64)
    top = int(math.floor(HOOD_EDGE_PX[0][1])) - 1
    column = np.arange(WIDTH_PX) - CENTRE_COLUMN_PX - shift_px
    reach = np.abs(column)
    edge = np.interp(reach, offsets, [row for _, row in HOOD_EDGE_PX])
    row = np.arange(top, HEIGHT_PX)[:, None]
    mask = (row + 0.5 >= edge[None, :]) & (reach[None, :] <= offsets[-1])
    depth = np.clip((row - edge[None, :]) / (HEIGHT_PX - HOOD_EDGE_PX[0][1]), 0, 1)[..., None]
    rgb = np.array(HOOD_TOP_RGB, np.float32) * (1 - depth) + np.array(HOOD_BOTTOM_RGB, np.float32) * depth
    rgb = rgb * (1.0 - 0.12 * (reach / offsets[-1]).clip(0, 1))[None, :, None]            # darker towards the sides
    rgb += (np.exp(-((row - edge[None, :]) ** 2) / 1.5) * 45)[..., None]                   # the rim catches the light
    return np.clip(rgb, 0, 255).astype(np.uint8), mask


class Renderer:
    """Renders a track's world from any vehicle pose; build once per track (about a second)."""

    def __init__(self, track: Track, scenery: Scenery | None = None, rig: CameraRig = CameraRig()) -> None:
        self.track = track
        self.rig = rig
        self.ground_first_row = int(math.floor(rig.horizon_row_px)) + 2     # rows above come from the panorama
        if not 0 < self.ground_first_row < HEIGHT_PX:
            raise ValueError(f"a pitch of {rig.pitch_deg:g} degrees puts the horizon outside the image")
        self.scenery = scenery or build_scenery(track, track.seed or 0, self.ground_first_row, rig.horizon_row_px)
        s = self.scenery
        self._to_texture = np.array([[1 / s.m_per_px, 0, -s.left_x_m / s.m_per_px],
                                     [0, -1 / s.m_per_px, s.top_y_m / s.m_per_px], [0, 0, 1]])
        self._row_shift = np.array([[1, 0, 0], [0, 1, self.ground_first_row], [0, 0, 1]], dtype=np.float64)
        offsets = -np.arctan((np.arange(WIDTH_PX) - CENTRE_COLUMN_PX) / rig.focal_px)
        self._azimuth_columns = offsets / (2 * np.pi) * PANORAMA_WIDTH_PX
        rows = np.arange(self.ground_first_row, HEIGHT_PX)
        below = np.arctan((rows - CENTRE_ROW_PX) / rig.focal_px) + rig.pitch_rad
        distance = np.where(below > 0, rig.height_m / np.tan(np.maximum(below, 1e-6)), np.inf)
        haze = 1 - np.exp(-distance / HAZE_DISTANCE_M)
        self._haze_rows = int(np.count_nonzero(haze > 0.04))
        self._haze = haze[: self._haze_rows].astype(np.float32)[:, None, None]
        self._haze_colour = np.array(s.distant_rgb, np.float32)
        self._hoods = {name: hood_layer(rig.focal_px * rig.left_of_centre_m(name) / HOOD_DISTANCE_M) for name in CAMERAS}

    def ground_homography(self, x_m: float, y_m: float, yaw_rad: float) -> np.ndarray:
        """Map from output pixels (rows from ground_first_row) to ground-texture pixels, camera at (x, y)."""
        cos_yaw, sin_yaw = math.cos(yaw_rad), math.sin(yaw_rad)
        cos_p, sin_p = math.cos(self.rig.pitch_rad), math.sin(self.rig.pitch_rad)
        right = np.array([sin_yaw, -cos_yaw])
        ahead = np.array([cos_yaw, sin_yaw])
        f, cx, cy, h = self.rig.focal_px, CENTRE_COLUMN_PX, CENTRE_ROW_PX, self.rig.height_m
        # ray(u, v) = (u-cx)/f * right + (v-cy)/f * down' + forward'  (in the ground plane: xy part)
        ray = np.stack([right / f, -sin_p * ahead / f, -cx * right / f + cy * sin_p * ahead / f + cos_p * ahead], axis=1)
        depth = np.array([0.0, cos_p / f, -cy * cos_p / f + sin_p])           # = -ray_z: height drop per unit
        to_world = np.vstack([h * ray[0] + x_m * depth, h * ray[1] + y_m * depth, depth])
        return self._to_texture @ to_world @ self._row_shift

    def camera_position_m(self, state: VehicleState, camera: str = "center") -> tuple[float, float]:
        """Where a camera sits over the road (x, y) for a car in `state`."""
        return state.point_ahead(self.rig.ahead_of_rear_axle_m, self.rig.left_of_centre_m(camera))

    def render(self, state: VehicleState, camera: str = "center", light: Light = Light()) -> np.ndarray:
        """A 160x320x3 uint8 RGB frame from the named camera ('center', 'left', 'right')."""
        x_m, y_m = self.camera_position_m(state, camera)
        frame = np.empty((HEIGHT_PX, WIDTH_PX, 3), np.uint8)
        first = self.ground_first_row
        columns = np.round(state.yaw_rad / (2 * np.pi) * PANORAMA_WIDTH_PX + self._azimuth_columns).astype(np.intp)
        frame[:first] = np.take(self.scenery.panorama_rgb[:first], columns % PANORAMA_WIDTH_PX, axis=1)
        cv2.warpPerspective(self.scenery.ground_rgb, self.ground_homography(x_m, y_m, state.yaw_rad),
                            (WIDTH_PX, HEIGHT_PX - first), dst=frame[first:],
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=self.scenery.distant_rgb)
        band = frame[first: first + self._haze_rows]
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
