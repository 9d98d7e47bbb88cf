"""The car's three cameras: 320x160 RGB frames drawn with the Udacity simulator's camera rig.

The rig is pilot.udacity.camera_rig's CameraRig, the one replay synthesises views with: a
pinhole with a 60 degree vertical field of view (focal 138.56 px), 1.2 m above the road,
each camera at its own place on the car, all three pitched 9.5 degrees down, yawed 0.72
degrees right and rolled 1.2 degrees. It is drawn exactly: every pixel's ray goes through
the full mount rotation, so the horizon tilts with the roll.

The ground is the scenery's top-down texture mapped by one homography
(cv2.warpPerspective) from the camera's position and the car's yaw; the sky is the
panorama looked up per pixel by the direction that pixel sees (precomputed for the rig:
only the car's yaw, a column shift of the panorama, changes per frame). Pixels less than
about two rows below the horizon line come from the panorama (its rows below the
horizon are the distant ground's colour). Then distance haze, the hood as it looks in the
simulator's frames (image coordinates, measured in real frames), and the light.

A track with heights (the Jungle) is drawn by pilot.sim.hills instead: its ground is a heightfield
(pilot.sim.terrain) marched column by column, with the car's height and pitch taken from the track;
the hood and the light are the same. A flat track never takes that path: its frames are the bytes
this renderer drew before hills existed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pilot.sim.hills import HillView
from pilot.sim.scenery import PANORAMA_WIDTH_PX, Scenery, build_scenery
from pilot.sim.terrain import Terrain, build_terrain
from pilot.sim.track import Track
from pilot.sim.vehicle import VehicleState
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.simulator import CAMERAS, REAR_AXLE_BEHIND_ROOT_M
from pilot.udacity.simulator import IMAGE_HEIGHT_PX as HEIGHT_PX
from pilot.udacity.simulator import IMAGE_WIDTH_PX as WIDTH_PX

CENTRE_COLUMN_PX = CameraRig().centre_column_px   # the hood is centred here (Unity's principal point)

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
    """Renders a track's world from any vehicle pose; build once per track (about a second, a few with hills).

    For a track with heights, `terrain` may give the ground's heights (default: build_terrain's hillsides);
    the renderer then keeps the car's place on the track between frames (a hint for `Track.nearest`).
    """

    def __init__(self, track: Track, scenery: Scenery | None = None, rig: CameraRig = CameraRig(),
                 terrain: Terrain | None = None, look: str | None = None) -> None:
        self.track = track
        self.rig = rig
        level_horizon = rig.level_horizon_row_px
        panorama_rows = int(math.floor(level_horizon)) + 2      # the panorama: sky, then distant ground
        margin = panorama_rows - level_horizon                  # rows below the horizon drawn from the panorama
        horizon = rig.horizon_row_px(np.arange(rig.width_px))
        if horizon.min() <= 0 or horizon.max() + margin >= rig.height_px - 1:
            raise ValueError(f"a pitch of {rig.pitch_deg:g} degrees and a roll of {rig.roll_deg:g} degrees put the "
                             f"horizon outside the image")
        sky = np.arange(rig.height_px)[:, None] - horizon[None, :] < margin - 1e-6
        self.ground_start_row = int(np.flatnonzero((~sky).any(axis=1))[0])
        self.sky_end_row = int(np.flatnonzero(sky.any(axis=1))[-1]) + 1
        self._band_sky = sky[self.ground_start_row:self.sky_end_row, :, None]
        self.scenery = scenery or build_scenery(track, track.seed or 0, panorama_rows, level_horizon, look)
        s = self.scenery
        self._to_texture = np.array([[1 / s.m_per_px, 0, -s.left_x_m / s.m_per_px],
                                     [0, -1 / s.m_per_px, s.top_y_m / s.m_per_px], [0, 0, 1]])
        self._row_shift = np.array([[1, 0, 0], [0, 1, self.ground_start_row], [0, 0, 1]], dtype=np.float64)
        self._pixel_to_car_ray = rig.pixel_to_car_ray()
        rays = rig.pixel_rays()
        # the sky: each pixel's direction -> panorama (column: azimuth, row: where the level rig's centre column
        # sees that elevation, as the panorama was painted)
        sky_rays = rays[:self.sky_end_row]
        azimuth = np.arctan2(sky_rays[..., 1], sky_rays[..., 0])
        elevation = np.arctan2(sky_rays[..., 2], np.hypot(sky_rays[..., 0], sky_rays[..., 1]))
        below_axis = np.clip(math.radians(rig.pitch_deg) + elevation, -1.5, 1.5)
        panorama_row = rig.centre_row_px - rig.focal_px * np.tan(below_axis)
        self._sky_rows = np.clip(np.round(panorama_row), 0, panorama_rows - 1).astype(np.float32)
        self._sky_columns = (azimuth / (2 * np.pi) * PANORAMA_WIDTH_PX).astype(np.float32)
        # haze by the distance ahead of the ground point each pixel sees; none on the sky's pixels
        ground_rays = rays[self.ground_start_row:]
        down = np.maximum(-ground_rays[..., 2], 1e-9)
        distance = np.where(ground_rays[..., 2] < 0, rig.height_m * ground_rays[..., 0] / down, np.inf)
        haze = 1 - np.exp(-np.maximum(distance, 0.0) / HAZE_DISTANCE_M)
        haze[: self.sky_end_row - self.ground_start_row][self._band_sky[..., 0]] = 0.0
        self._haze_rows = int(np.flatnonzero((haze > 0.04).any(axis=1))[-1]) + 1
        self._haze = haze[: self._haze_rows].astype(np.float32)[..., None]
        self._haze_colour = np.array(s.distant_rgb, np.float32)
        self._hoods = {name: hood_layer(rig.focal_px * rig.camera_position_m(name)[1] / HOOD_DISTANCE_M)
                       for name in CAMERAS}
        self.hills: HillView | None = None
        if not track.is_flat:
            self.terrain = terrain or build_terrain(track, self.scenery, seed=track.seed or 0)
            self.hills = HillView(track, self.scenery, self.terrain, rig, HAZE_DISTANCE_M)

    def ground_homography(self, x_m: float, y_m: float, yaw_rad: float) -> np.ndarray:
        """Map from output pixels (rows from ground_start_row) to ground-texture pixels, camera at (x, y)."""
        cos_yaw, sin_yaw = math.cos(yaw_rad), math.sin(yaw_rad)
        turn = np.array([[cos_yaw, -sin_yaw, 0.0], [sin_yaw, cos_yaw, 0.0], [0.0, 0.0, 1.0]])
        ray = turn @ self._pixel_to_car_ray                   # pixel -> direction over the world (x, y, up)
        h = self.rig.height_m
        # the ray meets the road at camera + h / (-ray_z) * ray: homogeneous (h ray_xy - camera_xy ray_z, -ray_z)
        to_world = np.vstack([h * ray[0] - x_m * ray[2], h * ray[1] - y_m * ray[2], -ray[2]])
        return self._to_texture @ to_world @ self._row_shift

    def camera_position_m(self, state: VehicleState, camera: str = "center") -> tuple[float, float]:
        """Where a camera sits over the road (x, y) for a car in `state`."""
        ahead_m, left_m = self.rig.camera_position_m(camera)
        return state.point_ahead(REAR_AXLE_BEHIND_ROOT_M + ahead_m, left_m)

    def render(self, state: VehicleState, camera: str = "center", light: Light = Light()) -> np.ndarray:
        """A 160x320x3 uint8 RGB frame from the named camera ('center', 'left', 'right')."""
        x_m, y_m = self.camera_position_m(state, camera)
        if self.hills is not None:
            return self._finish(self.hills.render((x_m, y_m), state.yaw_rad), camera, light)
        frame = np.empty((HEIGHT_PX, WIDTH_PX, 3), np.uint8)
        start, end = self.ground_start_row, self.sky_end_row
        turn_px = (state.yaw_rad / (2 * np.pi) * PANORAMA_WIDTH_PX) % PANORAMA_WIDTH_PX
        sky = cv2.remap(self.scenery.panorama_rgb, self._sky_columns + np.float32(turn_px), self._sky_rows,
                        cv2.INTER_NEAREST, borderMode=cv2.BORDER_WRAP)
        frame[:start] = sky[:start]
        cv2.warpPerspective(self.scenery.ground_rgb, self.ground_homography(x_m, y_m, state.yaw_rad),
                            (WIDTH_PX, HEIGHT_PX - start), dst=frame[start:],
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=self.scenery.distant_rgb)
        np.copyto(frame[start:end], sky[start:], where=self._band_sky)
        band = frame[start: start + self._haze_rows]
        band[:] = band * (1 - self._haze) + self._haze_colour * self._haze
        return self._finish(frame, camera, light)

    def _finish(self, frame: np.ndarray, camera: str, light: Light) -> np.ndarray:
        """The hood over the frame (in place), then the light."""
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
