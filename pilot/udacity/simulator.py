"""Facts about the Udacity simulator that the whole project shares (read from its Unity project).

Steering is normalised -1..1 everywhere in the project; the simulator turns it into degrees
at its boundary (times `MAX_STEER_DEG`). Speeds are mph at the simulator's boundary and in
recordings; physics works in m/s.
"""
from __future__ import annotations

import math

CAMERAS = ("center", "left", "right")        # the recording's column order and image-name prefixes
CAMERAS_LEFT_TO_RIGHT = ("left", "center", "right")   # as they sit on the car, for pictures
IMAGE_WIDTH_PX = 320
IMAGE_HEIGHT_PX = 160
MAX_STEER_DEG = 25.0                         # steering 1.0 turns the front wheels this far
MAX_SPEED_MPH = 30.0                         # the car's speed cap
WHEELBASE_M = 2.87                           # the car's axles: 1.27 m ahead of and 1.60 m behind its root
MPS_PER_MPH = 0.44704                        # exact: 1 mph = 1609.344 m / 3600 s


def path_curvature_per_m(steering: float) -> float:
    """The curvature (1/radius) a steady steering command drives: tan(|steering| x 25°) / wheelbase."""
    return math.tan(math.radians(min(1.0, abs(steering)) * MAX_STEER_DEG)) / WHEELBASE_M


def mph_to_mps(speed_mph: float) -> float:
    """Miles per hour to metres per second."""
    return speed_mph * MPS_PER_MPH


def mps_to_mph(speed_mps: float) -> float:
    """Metres per second to miles per hour."""
    return speed_mps / MPS_PER_MPH
