"""Facts about the Udacity simulator that the whole project shares (read from its Unity project).

Steering is normalised -1..1 everywhere in the project; the simulator turns it into degrees
at its boundary (times `MAX_STEER_DEG`). Speeds are mph at the simulator's boundary and in
recordings; physics works in m/s. The car's geometry (its axles from the root the cameras
are placed from), its fixed physics step and the keyboard's steering ramp live here and
nowhere else; so does the one kinematic-bicycle relation between steering and curvature.
"""
from __future__ import annotations

import math

DRIVING_LOG_NAME = "driving_log.csv"        # a recording: this file and the image folder beside it
IMAGE_DIR_NAME = "IMG"
CAMERAS = ("center", "left", "right")        # the recording's column order and image-name prefixes
CAMERAS_LEFT_TO_RIGHT = ("left", "center", "right")   # as they sit on the car, for pictures
IMAGE_WIDTH_PX = 320
IMAGE_HEIGHT_PX = 160
MAX_STEER_DEG = 25.0                         # steering 1.0 turns the front wheels this far
MAX_SPEED_MPH = 30.0                         # the car's speed cap
WHEELBASE_M = 2.87                           # between the car's axles
REAR_AXLE_BEHIND_ROOT_M = 1.60               # the root (cameras are placed from it) is ahead of the rear axle
FRONT_AXLE_AHEAD_OF_ROOT_M = WHEELBASE_M - REAR_AXLE_BEHIND_ROOT_M   # 1.27 m
CAR_TRACK_WIDTH_M = 2.0                      # between the left and right wheels
PHYSICS_STEP_S = 0.02                        # Unity's fixed time step (50 Hz)
KEYBOARD_STEERING_STEP = 0.05                # a held steering key moves the steering this much per physics step
MPS_PER_MPH = 0.44704                        # exact: 1 mph = 1609.344 m / 3600 s


def curvature_per_m(steering: float, wheelbase_m: float = WHEELBASE_M, max_steer_deg: float = MAX_STEER_DEG) -> float:
    """The signed curvature of the rear axle's path at a steering of -1..1 (clamped): -tan(steering x 25°) / wheelbase.

    Steering > 0 turns right; curvature > 0 turns left (counter-clockwise), so the signs are opposite.
    """
    clamped = min(1.0, max(-1.0, steering))
    return -math.tan(math.radians(clamped * max_steer_deg)) / wheelbase_m


def path_curvature_per_m(steering: float) -> float:
    """The curvature (1/radius) a steady steering command drives, whatever its side: |curvature_per_m|."""
    return abs(curvature_per_m(steering))


def turn_radius_m(steering: float, wheelbase_m: float = WHEELBASE_M, max_steer_deg: float = MAX_STEER_DEG) -> float:
    """The rear axle's circle at a fixed steering: wheelbase / tan(|steering| x 25°) (inf when straight)."""
    angle = math.radians(min(1.0, abs(steering)) * max_steer_deg)
    return math.inf if angle == 0.0 else wheelbase_m / math.tan(angle)


def steering_for_curvature(curvature: float, wheelbase_m: float = WHEELBASE_M) -> float:
    """The steering (-1..1, clamped) whose path has `curvature` per metre (> 0 turns left):
    curvature_per_m's inverse."""
    angle_deg = math.degrees(math.atan(wheelbase_m * curvature))
    return max(-1.0, min(1.0, -angle_deg / MAX_STEER_DEG))


def mph_to_mps(speed_mph: float) -> float:
    """Miles per hour to metres per second."""
    return speed_mph * MPS_PER_MPH


def mps_to_mph(speed_mps: float) -> float:
    """Metres per second to miles per hour."""
    return speed_mps / MPS_PER_MPH
