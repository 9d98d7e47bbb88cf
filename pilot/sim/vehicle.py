"""Kinematic bicycle model in the simulator's units at its boundary (steering -1..1, mph).

The state's position is the REAR axle (where the bicycle model is exact); `centre_xy`
and `wheel_positions` give the other points the track queries need. `step` is pure:
state in, state out, dt passed in, nothing read from a clock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from pilot.udacity.simulator import MAX_SPEED_MPH, MAX_STEER_DEG, mph_to_mps, mps_to_mph

WHEELBASE_M = 2.6
TRACK_WIDTH_M = 1.6               # between the left and right wheels
MAX_ACCEL_MPS2 = 4.0              # full throttle from standstill
MAX_BRAKE_MPS2 = 8.0              # full brake
DRAG_PER_M = 0.012                # quadratic drag: deceleration = DRAG_PER_M * v^2
ROLLING_MPS2 = 0.15               # rolling resistance while moving


@dataclass(frozen=True)
class Controls:
    """Driver inputs in the simulator's units."""

    steering: float = 0.0          # -1..1, positive steers right (the simulator's sign)
    throttle: float = 0.0          # 0..1
    brake: float = 0.0             # 0..1

    @property
    def steering_deg(self) -> float:
        return self.steering * MAX_STEER_DEG


@dataclass(frozen=True)
class VehicleState:
    """Rear-axle position, heading (counter-clockwise from +x) and forward speed."""

    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float = 0.0

    @property
    def speed_mph(self) -> float:
        return mps_to_mph(self.speed_mps)

    def point_ahead(self, distance_m: float, left_m: float = 0.0) -> tuple[float, float]:
        """A point `distance_m` ahead of the rear axle and `left_m` to its left."""
        cos_yaw, sin_yaw = math.cos(self.yaw_rad), math.sin(self.yaw_rad)
        return (self.x_m + distance_m * cos_yaw - left_m * sin_yaw,
                self.y_m + distance_m * sin_yaw + left_m * cos_yaw)

    @property
    def centre_xy(self) -> tuple[float, float]:
        """Middle of the wheelbase: where cross-track error is measured."""
        return self.point_ahead(0.5 * WHEELBASE_M)


def wheel_positions(state: VehicleState) -> np.ndarray:
    """The four wheel contact points (front-left, front-right, rear-left, rear-right), 4 x 2."""
    half = 0.5 * TRACK_WIDTH_M
    return np.array([state.point_ahead(WHEELBASE_M, half), state.point_ahead(WHEELBASE_M, -half),
                     state.point_ahead(0.0, half), state.point_ahead(0.0, -half)])


def clamp_controls(steering: float, throttle: float, brake: float = 0.0) -> Controls:
    """Clamp to the simulator's ranges; a negative throttle brakes, as the simulator reads it."""
    steering = min(1.0, max(-1.0, steering))
    if throttle < 0.0:
        brake, throttle = max(brake, -throttle), 0.0
    return Controls(steering, min(1.0, throttle), min(1.0, max(0.0, brake)))


def turning_radius_m(steering: float) -> float:
    """Radius of the rear axle's circle at a fixed steering (inf when straight)."""
    angle = math.radians(abs(steering) * MAX_STEER_DEG)
    return math.inf if angle == 0.0 else WHEELBASE_M / math.tan(angle)


def step(state: VehicleState, controls: Controls, dt_s: float) -> VehicleState:
    """Advance the bicycle model by dt_s: speed first, then an exact arc at the mean speed."""
    speed = state.speed_mps
    accel = (controls.throttle * MAX_ACCEL_MPS2 - controls.brake * MAX_BRAKE_MPS2
             - DRAG_PER_M * speed * speed - (ROLLING_MPS2 if speed > 0.0 else 0.0))
    new_speed = min(mph_to_mps(MAX_SPEED_MPH), max(0.0, speed + accel * dt_s))
    distance = 0.5 * (speed + new_speed) * dt_s
    # steering is positive to the right, yaw counter-clockwise: a right turn lowers yaw
    curvature = -math.tan(math.radians(controls.steering_deg)) / WHEELBASE_M
    turn = curvature * distance
    if abs(turn) < 1e-9:
        x = state.x_m + distance * math.cos(state.yaw_rad)
        y = state.y_m + distance * math.sin(state.yaw_rad)
    else:
        x = state.x_m + (math.sin(state.yaw_rad + turn) - math.sin(state.yaw_rad)) / curvature
        y = state.y_m - (math.cos(state.yaw_rad + turn) - math.cos(state.yaw_rad)) / curvature
    yaw = (state.yaw_rad + turn + math.pi) % (2 * math.pi) - math.pi
    return replace(state, x_m=x, y_m=y, yaw_rad=yaw, speed_mps=new_speed)
