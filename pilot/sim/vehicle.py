"""Kinematic bicycle model in the simulator's units at its boundary (steering -1..1, mph).

The state's position is the REAR axle (where the bicycle model is exact); `centre_xy`
and `wheel_positions` give the other points the track queries need. `step` is pure:
state in, state out, dt passed in, nothing read from a clock.

`CarPhysics` holds what makes the car fail the way the simulator's car fails: the
simulator's car (pilot.udacity.simulator), its fixed-step integration, a steering-rate limit (the
front wheels turn towards the commanded angle at a bounded rate) and a tyre grip limit
(the path's curvature is capped at grip / speed^2, so a car taken into a bend too fast
runs wide).

On a grade (rise over horizontal run along the car's heading; `step`'s `grade`) the car is a
rigid body under gravity on an incline: its acceleration along the road loses
GRAVITY_MPS2 * sin(atan(grade)), so at a fixed throttle it slows on a climb and runs away
down the other side, and its ground-plane travel is its distance along the road times
cos(atan(grade)); its pitch is atan(grade) (`pitch_rad`). The real car is a Unity rigidbody
of 1000 kg on wheel colliders under gravity, so it does the same, with suspension and tyre
slip this model leaves out. Speed never goes below zero (the model has no reverse), so a car
that stalls on a climb stands still where the real one would roll back. A grade of 0 runs
exactly the flat-ground arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from pilot.control import rate_limited
from pilot.udacity.simulator import (
    CAR_TRACK_WIDTH_M,
    MAX_SPEED_MPH,
    MAX_STEER_DEG,
    PHYSICS_STEP_S,
    WHEELBASE_M,
    curvature_per_m,
    mph_to_mps,
    mps_to_mph,
)

MAX_ACCEL_MPS2 = 4.0              # full throttle from standstill
MAX_BRAKE_MPS2 = 8.0              # full brake
DRAG_PER_M = 0.012                # quadratic drag: deceleration = DRAG_PER_M * v^2
ROLLING_MPS2 = 0.15               # rolling resistance while moving
GRAVITY_MPS2 = 9.81               # pulls the car back on a climb and forward on a descent


@dataclass(frozen=True)
class CarPhysics:
    """How the car responds; defaults are the simulator's where it has a value (see the README)."""

    physics_step_s: float = PHYSICS_STEP_S
    max_steer_rate_per_s: float | None = 4.0    # steering units (1 = 25°) per second; None: instant
    lateral_grip_mps2: float | None = 7.0       # most sideways acceleration the tyres give; None: perfect grip

    @classmethod
    def from_params(cls, section: dict) -> "CarPhysics":
        """From a params.yaml `physics` subsection; ValueError with one sentence for a wrong key or value."""
        names = tuple(field.name for field in fields(cls))
        unknown = sorted(set(section) - set(names))
        if unknown:
            raise ValueError(f"physics has unknown keys {unknown}: use {', '.join(names)}")
        return cls(**{name: section[name] for name in names})

    def __post_init__(self) -> None:
        if not self.physics_step_s > 0:
            raise ValueError(f"physics_step_s must be positive, got {self.physics_step_s}")
        for name in ("max_steer_rate_per_s", "lateral_grip_mps2"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive or null, got {value}")


IDEAL_PHYSICS = CarPhysics(max_steer_rate_per_s=None, lateral_grip_mps2=None)


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
    wheel_steering: float = 0.0    # where the front wheels point now (-1..1); lags the command under a rate limit

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
    half = 0.5 * CAR_TRACK_WIDTH_M
    return np.array([state.point_ahead(WHEELBASE_M, half), state.point_ahead(WHEELBASE_M, -half),
                     state.point_ahead(0.0, half), state.point_ahead(0.0, -half)])


def clamp_controls(steering: float, throttle: float, brake: float = 0.0) -> Controls:
    """Clamp to the simulator's ranges; a negative throttle brakes, as the simulator reads it."""
    steering = min(1.0, max(-1.0, steering))
    if throttle < 0.0:
        brake, throttle = max(brake, -throttle), 0.0
    return Controls(steering, min(1.0, throttle), min(1.0, max(0.0, brake)))


def pitch_rad(grade: float) -> float:
    """The car's pitch on a grade (rise over run along its heading): positive nose up."""
    return math.atan(grade)


def step(state: VehicleState, controls: Controls, dt_s: float,
         physics: CarPhysics = IDEAL_PHYSICS, grade: float = 0.0) -> VehicleState:
    """Advance by dt_s in the physics' fixed sub-steps (the last one shorter if dt_s is not a multiple),
    on a road rising `grade` metres per metre of ground along the car's heading (held for the whole dt_s)."""
    remaining = dt_s
    while remaining > 1e-12:
        sub_step = min(physics.physics_step_s, remaining)
        state = _sub_step(state, controls, sub_step, physics, grade)
        remaining -= sub_step
    return state


def _sub_step(state: VehicleState, controls: Controls, dt_s: float, physics: CarPhysics,
              grade: float = 0.0) -> VehicleState:
    """One integration step: wheels towards the command, speed, then an exact arc at the mean speed."""
    wheel = rate_limited(state.wheel_steering, controls.steering, physics.max_steer_rate_per_s, dt_s)
    speed = state.speed_mps
    accel = (controls.throttle * MAX_ACCEL_MPS2 - controls.brake * MAX_BRAKE_MPS2
             - DRAG_PER_M * speed * speed - (ROLLING_MPS2 if speed > 0.0 else 0.0))
    if grade:
        accel -= GRAVITY_MPS2 * math.sin(pitch_rad(grade))
    new_speed = min(mph_to_mps(MAX_SPEED_MPH), max(0.0, speed + accel * dt_s))
    distance = 0.5 * (speed + new_speed) * dt_s
    if grade:
        distance *= math.cos(pitch_rad(grade))        # along the road -> over the ground plane
    curvature = curvature_per_m(wheel)          # steering > 0 turns right, lowering the counter-clockwise yaw
    mean_speed = 0.5 * (speed + new_speed)
    if physics.lateral_grip_mps2 is not None and mean_speed > 0.0:
        grip_curvature = physics.lateral_grip_mps2 / (mean_speed * mean_speed)
        curvature = max(-grip_curvature, min(grip_curvature, curvature))     # sliding: the car runs wide
    turn = curvature * distance
    if abs(turn) < 1e-9:
        x = state.x_m + distance * math.cos(state.yaw_rad)
        y = state.y_m + distance * math.sin(state.yaw_rad)
    else:
        x = state.x_m + (math.sin(state.yaw_rad + turn) - math.sin(state.yaw_rad)) / curvature
        y = state.y_m - (math.cos(state.yaw_rad + turn) - math.cos(state.yaw_rad)) / curvature
    yaw = (state.yaw_rad + turn + math.pi) % (2 * math.pi) - math.pi
    return replace(state, x_m=x, y_m=y, yaw_rad=yaw, speed_mps=new_speed, wheel_steering=wheel)
