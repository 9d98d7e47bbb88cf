"""The simulator's three cameras: lens, mount and positions, read from its Unity project (one source of truth).

The headless simulator draws with this rig (pilot.sim.camera) and replay synthesises views
with it (pilot.replay.geometry). Frames: the car's frame has x ahead, y left, z up, origin
on the road under the car's root; a camera's frame is OpenCV's (x right, y down, z along
the optical axis); pixel coordinates are OpenCV's too (integer values at pixel centres), so
Unity's principal point (160, 80), measured from the image's corner, is (159.5, 79.5) here.

All three cameras share one mount rotation: pitched 9.5 degrees down, yawed 0.72 degrees
right, rolled 1.2 degrees (Unity applies roll, then pitch, then yaw). A camera yawed right
sees the road straight ahead to its left: the vanishing point sits f tan(0.72 deg)/cos(9.5 deg)
~ 1.77 px left of where a level rig puts it (before the roll turns it), and the horizon is a
line tilted by the roll, not a row.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pilot.udacity.simulator import CAMERAS, IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX

VERTICAL_FOV_DEG = 60.0
SIMULATOR_FOCAL_PX = 0.5 * IMAGE_HEIGHT_PX / math.tan(math.radians(0.5 * VERTICAL_FOV_DEG))   # 138.56
# (name, metres ahead of the car's root, metres left of it): CarWaypointBased.prefab's cameras
SIMULATOR_CAMERAS_M = tuple(zip(CAMERAS, (1.0, 0.984, 0.999), (0.0, 0.806, -0.825)))
# car frame (x ahead, y left, z up) -> Unity's axes (x right, y up, z ahead)
_CAR_TO_UNITY = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
_UNITY_TO_OPENCV_CAMERA = np.diag([1.0, -1.0, 1.0])


@dataclass(frozen=True)
class CameraRig:
    """The three cameras' lens and mount (defaults: the simulator's, read from its Unity project).

    Angles are Unity's local Euler angles of the camera: `pitch_deg` > 0 looks down,
    `yaw_deg` > 0 looks right, `roll_deg` > 0 turns the camera's top to the left (seen from
    behind). `cameras` holds (name, metres ahead of the car's root, metres left of it);
    `height_m` is the cameras' height above the road.
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
        raise ValueError(f"unknown camera {name!r}: use one of {', '.join(camera for camera, _, _ in self.cameras)}")

    def intrinsics(self) -> np.ndarray:
        """K: camera coordinates -> homogeneous pixels."""
        return np.array([[self.focal_px, 0.0, self.centre_column_px],
                         [0.0, self.focal_px, self.centre_row_px], [0.0, 0.0, 1.0]])

    def mount_rotation(self) -> np.ndarray:
        """M: a direction in the car's frame -> the same direction in the camera's (OpenCV) frame."""
        return _UNITY_TO_OPENCV_CAMERA @ unity_rotation(self.pitch_deg, self.yaw_deg, self.roll_deg).T @ _CAR_TO_UNITY

    def pixel_to_car_ray(self) -> np.ndarray:
        """M^T K^-1: homogeneous pixel (column, row, 1) -> the direction it sees, in the car's frame."""
        return self.mount_rotation().T @ np.linalg.inv(self.intrinsics())

    def pixel_rays(self) -> np.ndarray:
        """(height, width, 3): the direction every pixel sees, in the car's frame (not normalised)."""
        columns, rows = np.meshgrid(np.arange(self.width_px, dtype=np.float64),
                                    np.arange(self.height_px, dtype=np.float64))
        pixels = np.stack([columns, rows, np.ones_like(rows)], axis=-1)
        return pixels @ self.pixel_to_car_ray().T

    def horizon_row_px(self, column_px: float | np.ndarray) -> float | np.ndarray:
        """Row where the horizon (a flat world's vanishing line) crosses a column; it tilts with the roll."""
        line = self.pixel_to_car_ray()[2]            # the ray's up component, linear in (column, row, 1)
        return -(line[0] * np.asarray(column_px, dtype=np.float64) + line[2]) / line[1]

    @property
    def level_horizon_row_px(self) -> float:
        """The horizon's row for this pitch with no mount yaw or roll: centre row - f tan(pitch) (56.3 for 9.5 deg)."""
        return self.centre_row_px - self.focal_px * math.tan(math.radians(self.pitch_deg))

    def ground_pixel(self, ahead_m: float, left_m: float, camera: str = "center") -> tuple[float, float]:
        """(column, row) where the named camera sees the flat-road point `ahead_m` ahead of the car's root and
        `left_m` to its left, through the full mount rotation."""
        camera_ahead_m, camera_left_m = self.camera_position_m(camera)
        u, v, w = self.intrinsics() @ self.mount_rotation() @ np.array(
            [ahead_m - camera_ahead_m, left_m - camera_left_m, -self.height_m])
        if w <= 0.0:
            raise ValueError(f"the road point ({ahead_m:g}, {left_m:g}) m is behind the {camera} camera")
        return float(u / w), float(v / w)


def unity_rotation(pitch_deg: float, yaw_deg: float, roll_deg: float) -> np.ndarray:
    """Unity's rotation for local Euler angles (x, y, z) = (pitch, yaw, roll): Ry @ Rx @ Rz, in Unity's axes."""
    p, y, r = (math.radians(a) for a in (pitch_deg, yaw_deg, roll_deg))
    about_x = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    about_y = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    about_z = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return about_y @ about_x @ about_z
