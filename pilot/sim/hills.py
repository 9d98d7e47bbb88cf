"""Camera frames of a track with hills: a heightfield marched column by column ("voxel space"), then rotated.

A camera that pitches does not keep the image's columns in vertical planes, so the ground is
first drawn for a LEVEL camera at the real one's place, yawed with the car and with the same
focal length (its columns are vertical planes, so a column's ray over the ground is one line):
each column's ray is sampled at SAMPLES forward distances from NEAREST_M to FARTHEST_M (spaced
by a constant ratio), the terrain's height there gives each sample's image row, and a running
minimum of the rows (a y-buffer) lets nearer ground hide farther ground: a crest hides the
road beyond it, a dip fills the view. Each pixel takes the first segment between samples whose
rows reach it, and within it the ground point found by interpolating 1/distance in rows (exact
for ground that is straight between two samples), so the near road is as sharp as the texture.
Above the terrain's silhouette the sky panorama, looked up by each pixel's direction as the
flat renderer does. Then one homography (a pure rotation: the rig's mount and the car's pitch)
maps this level image into the real camera's, exactly, up to its bilinear resampling.

The car's pose in three dimensions comes from the track: the camera's height is the road's
height under it (the centre line's at the nearest point, found with a hint kept from frame to
frame) plus the rig's height, and the car's pitch is atan of the road's grade along its heading.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from pilot.sim.scenery import PANORAMA_WIDTH_PX, Scenery
from pilot.sim.terrain import Terrain
from pilot.sim.track import Track, TrackPoint, wrap_angle
from pilot.udacity.camera_rig import CameraRig

SAMPLES = 192                     # ray samples per column
NEAREST_M = 0.5                   # forward distance of the first sample
FARTHEST_M = 320.0                # ... and of the last: beyond it, sky (haze hides the ground long before)
BELOW_TERRAIN_M = -1.0e4          # height of the ground outside the terrain raster: never seen
# level camera (OpenCV axes: x right, y down, z ahead) from the yawed world frame (x ahead, y left, z up)
_LEVEL_CAMERA = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])


def _pitch_up(pitch_rad: float) -> np.ndarray:
    """Rotation taking the car's frame (x ahead, y left, z up) to the yawed world frame when the nose is up."""
    c, s = math.cos(pitch_rad), math.sin(pitch_rad)
    return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])


class HillView:
    """Draws the ground and sky of a track with heights for one camera pose; the Renderer adds haze, hood, light."""

    def __init__(self, track: Track, scenery: Scenery, terrain: Terrain, rig: CameraRig, haze_m: float) -> None:
        self.track = track
        self.scenery = scenery
        self.terrain = terrain
        self.rig = rig
        self.haze_m = haze_m
        self.hint: int | None = None
        self.distances_m = NEAREST_M * (FARTHEST_M / NEAREST_M) ** (np.arange(SAMPLES) / (SAMPLES - 1))
        self._inverse_m = (1.0 / self.distances_m).astype(np.float32)
        self._pixel_to_car_ray = rig.pixel_to_car_ray()
        self._corners = np.array([[0.0, 0.0, 1.0], [rig.width_px - 1, 0.0, 1.0], [0.0, rig.height_px - 1, 1.0],
                                  [rig.width_px - 1, rig.height_px - 1, 1.0]]).T
        self._haze_rgb = np.array(scenery.distant_rgb, np.float32)

    def pose(self, camera_xy_m: tuple[float, float], yaw_rad: float) -> tuple[float, float, TrackPoint]:
        """(camera height, car pitch nose up, road point) for a camera over (x, y) on a car heading `yaw_rad`."""
        point = self.track.nearest(*camera_xy_m, hint_index=self.hint)
        if self.hint is not None and abs(point.cross_track_m) > self.track.width_m:
            point = self.track.nearest(*camera_xy_m)          # jumped (a new drive, a reset): search the whole track
        self.hint = point.index
        along = math.cos(wrap_angle(yaw_rad - point.heading_rad))
        pitch = math.atan(self.track.grade_at(point.s_m) * along)
        return self.track.height_at(point.s_m) + self.rig.height_m, pitch, point

    def level_to_real(self, pitch_rad: float) -> np.ndarray:
        """Rotation from the real camera's pixel rays to the level camera's (3x3; apply the level intrinsics after)."""
        return _LEVEL_CAMERA @ _pitch_up(pitch_rad) @ self._pixel_to_car_ray

    def render(self, camera_xy_m: tuple[float, float], yaw_rad: float) -> np.ndarray:
        """The camera's 160x320x3 RGB frame (no hood, no light) at (x, y), the car heading `yaw_rad`."""
        rig = self.rig
        height_m, pitch, _ = self.pose(camera_xy_m, yaw_rad)
        self.terrain.choose_layers(height_m)
        rays = self.level_to_real(pitch)                               # real pixel -> level camera direction
        corners = rays @ self._corners
        u = rig.focal_px * corners[0] / corners[2]
        v = rig.focal_px * corners[1] / corners[2]
        left, top = math.floor(u.min()) - 2, math.floor(v.min()) - 2
        width, height = math.ceil(u.max()) + 3 - left, math.ceil(v.max()) + 3 - top
        level = self._draw_level(camera_xy_m, yaw_rad, height_m, -left, -top, width, height)
        to_level = np.array([[rig.focal_px, 0.0, -left], [0.0, rig.focal_px, -top], [0.0, 0.0, 1.0]]) @ rays
        return cv2.warpPerspective(level, to_level, (rig.width_px, rig.height_px),
                                   flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)

    def _draw_level(self, camera_xy_m: tuple[float, float], yaw_rad: float, camera_height_m: float,
                    centre_column: float, centre_row: float, width: int, height: int) -> np.ndarray:
        """The level camera's image (principal point (centre_column, centre_row), `width` x `height`)."""
        focal = self.rig.focal_px
        terrain = self.terrain
        cos_yaw, sin_yaw = math.cos(yaw_rad), math.sin(yaw_rad)
        left_per_ahead = ((centre_column - np.arange(width)) / focal).astype(np.float32)   # lateral per metre ahead
        step_x = (cos_yaw - sin_yaw * left_per_ahead).astype(np.float32)                  # world step per metre ahead
        step_y = (sin_yaw + cos_yaw * left_per_ahead).astype(np.float32)
        to_cell_x = np.float32((camera_xy_m[0] - terrain.left_x_m) / terrain.cell_m - 0.5)
        to_cell_y = np.float32((terrain.top_y_m - camera_xy_m[1]) / terrain.cell_m - 0.5)
        distances = self.distances_m.astype(np.float32)[:, None]
        sample_x = to_cell_x + distances * (step_x / np.float32(terrain.cell_m))
        sample_y = to_cell_y - distances * (step_y / np.float32(terrain.cell_m))
        ground_m = cv2.remap(terrain.heights_m, sample_x, sample_y, cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=BELOW_TERRAIN_M)
        rows = np.float32(centre_row) + np.float32(focal) * (np.float32(camera_height_m) - ground_m) \
            * self._inverse_m[:, None]                                                # (samples, columns)
        reach = np.minimum.accumulate(rows, axis=0)                                   # the y-buffer
        bounds = np.clip(np.ceil(reach), 0, height).astype(np.int32)                   # first pixel row each reaches
        counts = np.empty((width, SAMPLES + 1), np.int32)                              # rows per segment, bottom up
        counts[:, 0] = height - bounds[0]
        counts[:, 1:SAMPLES] = (bounds[:-1] - bounds[1:]).T
        counts[:, SAMPLES] = bounds[-1]
        segment = np.repeat(np.tile(np.arange(SAMPLES + 1, dtype=np.int32), width), counts.ravel())
        segment = segment.reshape(width, height)[:, ::-1].T                           # (rows, columns), top down
        sky = segment == SAMPLES
        after = np.clip(segment, 1, SAMPLES - 1)
        flat = after * width + np.arange(width, dtype=np.int32)[None, :]
        row_before = rows.ravel()[flat - width]
        row_after = rows.ravel()[flat]
        pixel_row = np.arange(height, dtype=np.float32)[:, None]
        fraction = np.clip((row_before - pixel_row) / np.maximum(row_before - row_after, 1e-6), 0.0, 1.0)
        inverse = self._inverse_m[after - 1] * (1 - fraction) + self._inverse_m[after] * fraction
        ahead_m = 1.0 / inverse
        texture = self.scenery.m_per_px
        texture_x = np.float32((camera_xy_m[0] - self.scenery.left_x_m) / texture) \
            + ahead_m * (step_x / np.float32(texture))[None, :]
        texture_y = np.float32((self.scenery.top_y_m - camera_xy_m[1]) / texture) \
            - ahead_m * (step_y / np.float32(texture))[None, :]
        ground = cv2.remap(terrain.ground_rgb, texture_x, texture_y, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=self.scenery.distant_rgb)
        haze = (1 - np.exp(-ahead_m / np.float32(self.haze_m)))[..., None]
        image = ground * (1 - haze) + self._haze_rgb * haze
        image[sky] = self._sky(yaw_rad, centre_column, centre_row, width, height)[sky]
        return image.astype(np.uint8)

    def _sky(self, yaw_rad: float, centre_column: float, centre_row: float, width: int, height: int) -> np.ndarray:
        """The panorama as the level camera sees it, looked up by each pixel's direction as the flat renderer does."""
        rig = self.rig
        right = (np.arange(width) - centre_column)[None, :]
        up = (centre_row - np.arange(height))[:, None]
        azimuth = np.arctan2(-right, rig.focal_px) + np.zeros_like(up)
        elevation = np.arctan2(up, np.hypot(rig.focal_px, right))
        below_axis = np.clip(math.radians(rig.pitch_deg) + elevation, -1.5, 1.5)
        panorama = self.scenery.panorama_rgb
        panorama_row = np.clip(np.round(rig.centre_row_px - rig.focal_px * np.tan(below_axis)), 0,
                               panorama.shape[0] - 1).astype(np.float32)
        turn_px = (yaw_rad / (2 * np.pi) * PANORAMA_WIDTH_PX) % PANORAMA_WIDTH_PX
        panorama_column = (azimuth / (2 * np.pi) * PANORAMA_WIDTH_PX + turn_px).astype(np.float32)
        return cv2.remap(panorama, panorama_column, panorama_row, cv2.INTER_NEAREST, borderMode=cv2.BORDER_WRAP)
