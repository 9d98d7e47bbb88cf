"""The simulator's camera rig and view synthesis: what a camera would see from a shifted, turned car.

Frames: the car's frame has x ahead, y left, z up, origin on the road under the car's root;
a camera's frame is OpenCV's (x right, y down, z along the optical axis); pixel
coordinates are OpenCV's too (integer values at pixel centres), so Unity's principal
point (160, 80), measured from the image's corner, is (159.5, 79.5) here.

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
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from pilot.udacity.simulator import IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX
from pilot.udacity.simulator import CAMERAS

VERTICAL_FOV_DEG = 60.0
SIMULATOR_FOCAL_PX = 0.5 * IMAGE_HEIGHT_PX / math.tan(math.radians(0.5 * VERTICAL_FOV_DEG))   # 138.56
# (name, metres ahead of the car's root, metres left of it): CarWaypointBased.prefab's cameras
SIMULATOR_CAMERAS_M = tuple(zip(CAMERAS, (1.0, 0.984, 0.999), (0.0, 0.806, -0.825)))
ROAD_NORMAL = np.array([0.0, 0.0, 1.0])
# car frame (x ahead, y left, z up) -> Unity's axes (x right, y up, z ahead)
_CAR_TO_UNITY = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
_UNITY_TO_OPENCV_CAMERA = np.diag([1.0, -1.0, 1.0])


@dataclass(frozen=True)
class CameraRig:
    """The three cameras' lens and mount (defaults: the simulator's, read from its Unity project), all sharing one rotation.

    Angles are Unity's local Euler angles of the camera: `pitch_deg` > 0 looks down,
    `yaw_deg` > 0 looks right, `roll_deg` > 0 turns the camera's top to the left (seen from
    behind); Unity applies roll, then pitch, then yaw. `cameras` holds (name, metres ahead
    of the car's root, metres left of it).
    """

    width_px: int = IMAGE_WIDTH_PX
    height_px: int = IMAGE_HEIGHT_PX
    focal_px: float = SIMULATOR_FOCAL_PX
    centre_column_px: float = 0.5 * IMAGE_WIDTH_PX - 0.5
    centre_row_px: float = 0.5 * IMAGE_HEIGHT_PX - 0.5
    height_m: float = 1.2
    pitch_deg: float = 9.5
    yaw_deg: float = 0.72
    roll_deg: float = 1.2
    cameras: tuple[tuple[str, float, float], ...] = SIMULATOR_CAMERAS_M

    def camera_position_m(self, name: str) -> tuple[float, float]:
        """(ahead, left) of the named camera, in metres from the car's root."""
        for camera, ahead_m, left_m in self.cameras:
            if camera == name:
                return ahead_m, left_m
        raise KeyError(f"the rig has no camera named {name!r}")

    def intrinsics(self) -> np.ndarray:
        """K: camera coordinates -> homogeneous pixels."""
        return np.array([[self.focal_px, 0.0, self.centre_column_px],
                         [0.0, self.focal_px, self.centre_row_px], [0.0, 0.0, 1.0]])

    def mount_rotation(self) -> np.ndarray:
        """M: a direction in the car's frame -> the same direction in the camera's (OpenCV) frame."""
        return _UNITY_TO_OPENCV_CAMERA @ unity_rotation(self.pitch_deg, self.yaw_deg, self.roll_deg).T @ _CAR_TO_UNITY


def unity_rotation(pitch_deg: float, yaw_deg: float, roll_deg: float) -> np.ndarray:
    """Unity's rotation for local Euler angles (x, y, z) = (pitch, yaw, roll): Ry @ Rx @ Rz, in Unity's axes."""
    p, y, r = (math.radians(a) for a in (pitch_deg, yaw_deg, roll_deg))
    about_x = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    about_y = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    about_z = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return about_y @ about_x @ about_z


def yaw_rotation(yaw_rad: float) -> np.ndarray:
    """The car turned by yaw_rad (counter-clockwise seen from above, i.e. to the left), in the car's frame."""
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def ground_homography(rig: CameraRig, source_camera_m: tuple[float, float], target_camera_m: tuple[float, float],
                      target_yaw_rad: float) -> np.ndarray:
    """Target pixel -> source pixel for points on the road; cameras at (ahead, left) in the source car's frame."""
    k, mount = rig.intrinsics(), rig.mount_rotation()
    shift = np.array([target_camera_m[0] - source_camera_m[0], target_camera_m[1] - source_camera_m[1], 0.0])
    plane = np.eye(3) - np.outer(shift, ROAD_NORMAL) / rig.height_m
    return k @ mount @ plane @ yaw_rotation(target_yaw_rad) @ mount.T @ np.linalg.inv(k)


def sky_homography(rig: CameraRig, target_yaw_rad: float) -> np.ndarray:
    """Target pixel -> source pixel for points at infinity: the view only turns."""
    k, mount = rig.intrinsics(), rig.mount_rotation()
    return k @ mount @ yaw_rotation(target_yaw_rad) @ mount.T @ np.linalg.inv(k)


def apply_homography(homography: np.ndarray, column_px: float, row_px: float) -> tuple[float, float]:
    """Map one pixel through a homography."""
    u, v, w = homography @ np.array([column_px, row_px, 1.0])
    return u / w, v / w


def sky_mask(rig: CameraRig) -> np.ndarray:
    """True where a pixel's ray points at or above the horizon (the same for every yaw of a level car)."""
    columns, rows = np.meshgrid(np.arange(rig.width_px, dtype=np.float64), np.arange(rig.height_px, dtype=np.float64))
    pixels = np.stack([columns, rows, np.ones_like(rows)], axis=-1)
    rays_car = pixels @ (rig.mount_rotation().T @ np.linalg.inv(rig.intrinsics())).T
    return rays_car[..., 2] >= 0.0


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
