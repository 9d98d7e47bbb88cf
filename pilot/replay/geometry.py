"""View synthesis: what a camera of the simulator's rig would see from a shifted, turned car.

The rig, its frames and pixel convention are pilot.udacity.camera_rig's (the headless
simulator draws with the same rig).

Below the horizon every pixel is taken to lie on the flat road, so a camera moved by d
and turned by the car's yaw R sees the plane-induced homography
H = K M (I - d n^T / h) R M^T K^-1 of the source view (n the road's normal, h the
camera's height, M the camera's mount rotation); above it every point is taken to be
infinitely far away, so the view only turns: K M R M^T K^-1 (
PilotNet's §6). Both maps go from target pixels to source pixels, as
cv2.warpPerspective's WARP_INVERSE_MAP wants them.
"""
from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from pilot.udacity.camera_rig import CameraRig


def yaw_rotation(yaw_rad: float) -> np.ndarray:
    """The car turned by yaw_rad (counter-clockwise seen from above, i.e. to the left), in the car's frame."""
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@lru_cache(maxsize=64)
def _camera_matrices(rig: CameraRig) -> tuple[np.ndarray, np.ndarray]:
    """(K M, M^T K^-1) of a rig, computed once per rig: view synthesis and odometry ask thousands of times."""
    k, mount = rig.intrinsics(), rig.mount_rotation()
    return k @ mount, mount.T @ np.linalg.inv(k)


def ground_homography(rig: CameraRig, source_camera_m: tuple[float, float], target_camera_m: tuple[float, float],
                      target_yaw_rad: float) -> np.ndarray:
    """Target pixel -> source pixel for points on the road; cameras at (ahead, left) in the source car's frame."""
    to_pixels, from_pixels = _camera_matrices(rig)
    plane = np.eye(3)
    plane[0, 2] = -(target_camera_m[0] - source_camera_m[0]) / rig.height_m     # I - shift n^T / h, n = (0, 0, 1)
    plane[1, 2] = -(target_camera_m[1] - source_camera_m[1]) / rig.height_m
    return to_pixels @ plane @ yaw_rotation(target_yaw_rad) @ from_pixels


def sky_homography(rig: CameraRig, target_yaw_rad: float) -> np.ndarray:
    """Target pixel -> source pixel for points at infinity: the view only turns."""
    to_pixels, from_pixels = _camera_matrices(rig)
    return to_pixels @ yaw_rotation(target_yaw_rad) @ from_pixels


def apply_homography(homography: np.ndarray, column_px: float, row_px: float) -> tuple[float, float]:
    """Map one pixel through a homography."""
    u, v, w = homography @ np.array([column_px, row_px, 1.0])
    return u / w, v / w


def sky_mask(rig: CameraRig) -> np.ndarray:
    """True where a pixel's ray points at or above the horizon (the same for every yaw of a level car)."""
    return rig.pixel_rays()[..., 2] >= 0.0


class ViewSynthesiser:
    """Synthesises views for one rig; holds the horizon split so each frame costs two warps."""

    def __init__(self, rig: CameraRig) -> None:
        self.rig = rig
        mask = sky_mask(rig)
        sky_rows = np.flatnonzero(mask.any(axis=1))
        ground_rows = np.flatnonzero((~mask).any(axis=1))
        self.sky_end_row = int(sky_rows[-1]) + 1 if sky_rows.size else 0
        self.ground_start_row = int(ground_rows[0]) if ground_rows.size else rig.height_px
        self.band_sky_mask = mask[self.ground_start_row:self.sky_end_row, :, None]
        self._shift_down = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, float(self.ground_start_row)], [0.0, 0.0, 1.0]])

    def synthesise(self, source_rgb: np.ndarray, source_camera_m: tuple[float, float],
                   target_camera_m: tuple[float, float], target_yaw_rad: float) -> np.ndarray:
        """The view from a camera at `target_camera_m`, turned by `target_yaw_rad`, made from `source_rgb`."""
        rig = self.rig
        if source_rgb.shape[:2] != (rig.height_px, rig.width_px):
            height_px, width_px = source_rgb.shape[:2]
            raise ValueError(f"expected a {rig.width_px}x{rig.height_px} frame, got {width_px}x{height_px}")
        shift_m = math.hypot(target_camera_m[0] - source_camera_m[0], target_camera_m[1] - source_camera_m[1])
        if shift_m == 0.0 and target_yaw_rad == 0.0:
            return source_rgb.copy()
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        out = np.empty_like(source_rgb)
        ground = ground_homography(rig, source_camera_m, target_camera_m, target_yaw_rad) @ self._shift_down
        cv2.warpPerspective(source_rgb, ground, (rig.width_px, rig.height_px - self.ground_start_row),
                            dst=out[self.ground_start_row:], flags=flags, borderMode=cv2.BORDER_REPLICATE)
        if self.sky_end_row:
            band = out[self.ground_start_row:self.sky_end_row].copy()
            cv2.warpPerspective(source_rgb, sky_homography(rig, target_yaw_rad), (rig.width_px, self.sky_end_row),
                                dst=out[:self.sky_end_row], flags=flags, borderMode=cv2.BORDER_REPLICATE)
            # rows the horizon crosses: ground where the ray points down, sky elsewhere
            np.copyto(out[self.ground_start_row:self.sky_end_row], band, where=~self.band_sky_mask)
        return out


@lru_cache(maxsize=8)
def synthesiser_for(rig: CameraRig) -> ViewSynthesiser:
    """One ViewSynthesiser per rig (rigs are frozen, so they can key a cache)."""
    return ViewSynthesiser(rig)


def synthesise_view(source_rgb: np.ndarray, source_camera_m: tuple[float, float], target_camera_m: tuple[float, float],
                    target_yaw_rad: float, rig: CameraRig = CameraRig()) -> np.ndarray:
    """What a camera at `target_camera_m` (ahead, left; metres, in the source car's frame), turned left by
    `target_yaw_rad`, would see, made from the frame of the camera at `source_camera_m`."""
    return synthesiser_for(rig).synthesise(source_rgb, source_camera_m, target_camera_m, target_yaw_rad)
