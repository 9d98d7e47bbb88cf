"""The reference path: where the recorded car went, rebuilt from its steering, speed and frame times.

The simulator does not log the car's pose in driving_log.csv, so the path is
integrated through a kinematic bicycle model with the car's geometry: the rear axle moves
along the car's heading on an arc of curvature -tan(steering * 25 deg) / wheelbase
(steering > 0 turns right, curvature > 0 turns left). Each frame's steering is held
until the next frame, as a drive server's command is; the distance between two frames
is their mean speed times the time between their file-name stamps.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pilot.udacity.simulator import (
    MAX_STEER_DEG,
    MPS_PER_MPH,
    REAR_AXLE_BEHIND_ROOT_M,
    WHEELBASE_M,
    curvature_per_m,
    steering_for_curvature,
    turn_radius_m,
)

MAX_GAP_S = 0.5                     # a longer pause between two frames starts a new stretch


@dataclass(frozen=True)
class CarGeometry:
    """What the bicycle model needs: the wheelbase, where the rear axle sits, the steering's range."""

    wheelbase_m: float = WHEELBASE_M
    rear_axle_behind_root_m: float = REAR_AXLE_BEHIND_ROOT_M
    max_steer_deg: float = MAX_STEER_DEG

    def curvature_per_m(self, steering: float) -> float:
        """Curvature of the rear axle's path at a steering of -1..1 (positive: turning left)."""
        return curvature_per_m(steering, self.wheelbase_m, self.max_steer_deg)

    @property
    def min_turn_radius_m(self) -> float:
        """Radius of the rear axle's circle at full lock."""
        return turn_radius_m(1.0, self.wheelbase_m, self.max_steer_deg)


@dataclass(frozen=True)
class ReferencePath:
    """Per frame of one stretch: time, distance driven, rear-axle pose and the held curvature."""

    time_s: np.ndarray            # since the stretch's first frame
    distance_m: np.ndarray        # along the path, 0 at the first frame
    x_m: np.ndarray               # rear axle, in the first frame's car frame (x ahead, y left)
    y_m: np.ndarray
    heading_rad: np.ndarray       # counter-clockwise from the first frame's heading
    steering: np.ndarray          # the human's, -1..1, as recorded
    curvature_per_m: np.ndarray   # held from this frame to the next
    reference_steering: np.ndarray | None = None   # the steering that drives this path (None: `steering` does)

    @property
    def driving_steering(self) -> np.ndarray:
        """The steering that drives the path: the recorded one, or the one the measured motion implies."""
        return self.steering if self.reference_steering is None else self.reference_steering

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def elapsed_s(self) -> float:
        return float(self.time_s[-1] - self.time_s[0])


def contiguous_stretches(time_s: np.ndarray, max_gap_s: float = MAX_GAP_S,
                         moving: np.ndarray | None = None) -> list[slice]:
    """Runs of frames with no pause longer than max_gap_s, time always moving forward, and (if given)
    every frame `moving`; frames that are not moving belong to no stretch."""
    time_s = np.asarray(time_s, dtype=np.float64)
    keep = np.ones(len(time_s), dtype=bool) if moving is None else np.asarray(moving, dtype=bool)
    stretches: list[slice] = []
    start: int | None = None
    for index in range(len(time_s)):
        if not keep[index]:
            if start is not None:
                stretches.append(slice(start, index))
            start = None
        elif start is None:
            start = index
        elif not 0.0 < time_s[index] - time_s[index - 1] <= max_gap_s:
            stretches.append(slice(start, index))
            start = index
    if start is not None:
        stretches.append(slice(start, len(time_s)))
    return stretches


def path_of_steps(time_s: np.ndarray, steering: np.ndarray, steps: list,
                  car: CarGeometry = CarGeometry()) -> ReferencePath:
    """Compose one stretch's frame-to-frame steps (pilot.replay.odometry.Step: the rear axle's move and the turn)
    into the rear axle's path; each step's curvature is its turn over its distance, and the steering that
    drives it is the bicycle model's for that curvature."""
    time_s = np.asarray(time_s, dtype=np.float64)
    if len(steps) != len(time_s) - 1:
        raise ValueError(f"{len(time_s)} frames need {len(time_s) - 1} steps, got {len(steps)}")
    count = len(time_s)
    x, y, heading = np.zeros(count), np.zeros(count), np.zeros(count)
    distances = np.array([step.distance_m for step in steps])
    for index, step in enumerate(steps):
        cos_h, sin_h = math.cos(heading[index]), math.sin(heading[index])
        x[index + 1] = x[index] + cos_h * step.ahead_m - sin_h * step.left_m
        y[index + 1] = y[index] + sin_h * step.ahead_m + cos_h * step.left_m
        heading[index + 1] = heading[index] + step.turn_rad
    turns = np.array([step.turn_rad for step in steps])
    curvature = np.append(np.divide(turns, distances, out=np.zeros_like(turns), where=distances > 1e-9), 0.0)
    driving = np.array([steering_for_curvature(value, car.wheelbase_m) for value in curvature])
    driving[-1] = driving[-2] if count > 1 else 0.0                  # the last frame holds the last step's steering
    return ReferencePath(time_s - time_s[0], np.concatenate([[0.0], np.cumsum(distances)]), x, y, heading,
                         np.asarray(steering, dtype=np.float64), curvature, driving)


def reference_path(time_s: np.ndarray, steering: np.ndarray, speed_mph: np.ndarray,
                   car: CarGeometry = CarGeometry()) -> ReferencePath:
    """Integrate one stretch's recorded steering and speed into the rear axle's path (exact arcs)."""
    time_s = np.asarray(time_s, dtype=np.float64)
    steering = np.asarray(steering, dtype=np.float64)
    speed_mps = np.asarray(speed_mph, dtype=np.float64) * MPS_PER_MPH
    if not len(time_s) == len(steering) == len(speed_mps):
        raise ValueError("time, steering and speed must have one value per frame")
    curvature = np.array([car.curvature_per_m(value) for value in steering])
    steps_m = 0.5 * (speed_mps[1:] + speed_mps[:-1]) * np.diff(time_s)
    count = len(time_s)
    x, y, heading = np.zeros(count), np.zeros(count), np.zeros(count)
    for index, step_m in enumerate(steps_m):
        turn = curvature[index] * step_m
        yaw = heading[index]
        if abs(turn) < 1e-12:
            x[index + 1] = x[index] + step_m * math.cos(yaw)
            y[index + 1] = y[index] + step_m * math.sin(yaw)
        else:
            x[index + 1] = x[index] + (math.sin(yaw + turn) - math.sin(yaw)) / curvature[index]
            y[index + 1] = y[index] - (math.cos(yaw + turn) - math.cos(yaw)) / curvature[index]
        heading[index + 1] = yaw + turn
    distance = np.concatenate([[0.0], np.cumsum(steps_m)])
    return ReferencePath(time_s - time_s[0], distance, x, y, heading, steering, curvature)
