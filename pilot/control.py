"""Control: throttle controllers behind one interface, and the front wheels' steering-rate limit.

Throttle: `step(speed_mph, steering, dt_s) -> throttle`. The drive server steers with the
model and asks a controller for the throttle; the headless simulator's expert uses the same
PI controller. `dt_s` is passed in by the caller, never read from a clock, so a controller is
a pure state machine that tests drive by stepping it.

Steering: `rate_limited` moves the wheels towards a command at a bounded rate, the one
mechanism the headless simulator's car and replay's virtual car share.

Throttle follows the simulator's convention: 0..1 opens the accelerator, a negative
value brakes; the simulator clamps to -1..1.
"""
from __future__ import annotations

import math
from typing import Protocol

from pilot.udacity.simulator import mps_to_mph, path_curvature_per_m

THROTTLE_MIN = -1.0      # full brake
THROTTLE_MAX = 1.0       # full accelerator
MAX_DT_S = 0.5           # a longer gap between frames (a pause, a reconnect) integrates as 0.5 s
PURE_PURSUIT_LOOKAHEAD_M = 9.0   # the headless expert's look-ahead: 1 m off centre -> ~0.15 steering; the pan's
                                 # label (augment.pan_steering: yaw) turns back the same way


def rate_limited(current: float, target: float, rate_per_s: float | None, dt_s: float) -> float:
    """`current` moved towards `target` by at most rate_per_s * dt_s (None: all the way at once)."""
    if rate_per_s is None:
        return target
    most = rate_per_s * dt_s
    return current + min(most, max(-most, target - current))


class ThrottleController(Protocol):
    """What the drive server needs from a controller."""

    def step(self, speed_mph: float, steering: float, dt_s: float) -> float:
        """Throttle for the current frame; steering is the normalised command (-1..1)."""
        ...

    def reset(self) -> None:
        """Forget any state (a new client, a new run)."""
        ...


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


class SeedLinearController:
    """The seed's automatico.py: throttle = 1 - speed / speed_limit (clamped to -1..1).

    Stateless; the seed sends the unclamped value, which the simulator clamps the same way.
    """

    def __init__(self, speed_limit_mph: float) -> None:
        if not speed_limit_mph > 0:
            raise ValueError(f"speed_limit_mph must be positive, got {speed_limit_mph}")
        self.speed_limit_mph = float(speed_limit_mph)

    def step(self, speed_mph: float, steering: float, dt_s: float) -> float:
        return _clamp(1.0 - speed_mph / self.speed_limit_mph, THROTTLE_MIN, THROTTLE_MAX)

    def reset(self) -> None:
        """Nothing to forget."""


class PIController:
    """PI control of speed to a set point, slower in sharp bends.

    target_mph = set_speed_mph * max(min_bend_fraction, 1 - bend_slowdown * |steering|)
    throttle   = clamp(kp * error + ki * integral, throttle_min, throttle_max)

    Anti-windup by conditional integration: the integral only grows while the output is
    not saturated, or while the error pulls it back out of saturation; it is also bounded
    so that ki * integral alone never exceeds the output range. The headless simulator's
    expert uses the same class with plain bounded integration (`anti_windup=False`).
    """

    def __init__(
        self,
        set_speed_mph: float,
        kp: float = 0.1,
        ki: float = 0.05,
        throttle_min: float = -0.5,
        throttle_max: float = 1.0,
        bend_slowdown: float = 0.5,
        min_bend_fraction: float = 0.5,
        integral_limit_mph_s: float | None = None,
        anti_windup: bool = True,
        max_lateral_accel_mps2: float | None = None,
    ) -> None:
        if not set_speed_mph >= 0:
            raise ValueError(f"set_speed_mph must be >= 0, got {set_speed_mph}")
        if not THROTTLE_MIN <= throttle_min < throttle_max <= THROTTLE_MAX:
            raise ValueError(
                f"throttle limits must satisfy {THROTTLE_MIN} <= min < max <= {THROTTLE_MAX}, "
                f"got {throttle_min}..{throttle_max}"
            )
        if kp < 0 or ki < 0:
            raise ValueError(f"gains must be >= 0, got kp={kp} ki={ki}")
        if not 0 <= bend_slowdown <= 1 or not 0 < min_bend_fraction <= 1:
            raise ValueError("bend_slowdown must be in 0..1 and min_bend_fraction in (0, 1]")
        self.set_speed_mph = float(set_speed_mph)
        self.kp = float(kp)
        self.ki = float(ki)
        self.throttle_min = float(throttle_min)
        self.throttle_max = float(throttle_max)
        self.bend_slowdown = float(bend_slowdown)
        self.min_bend_fraction = float(min_bend_fraction)
        # by default ki * integral alone never exceeds the output range
        self.integral_limit_mph_s = (max(abs(self.throttle_min), abs(self.throttle_max)) / self.ki
                                     if integral_limit_mph_s is None and self.ki else integral_limit_mph_s)
        self.anti_windup = anti_windup
        if max_lateral_accel_mps2 is not None and not max_lateral_accel_mps2 > 0:
            raise ValueError(f"max_lateral_accel_mps2 must be positive or null, got {max_lateral_accel_mps2}")
        self.max_lateral_accel_mps2 = max_lateral_accel_mps2
        self.integral_mph_s = 0.0

    def target_speed_mph(self, steering: float) -> float:
        """The set speed, reduced in proportion to how hard the car is steering, and (with
        `max_lateral_accel_mps2`) to what the tyres can hold in the bend that steering drives."""
        fraction = 1.0 - self.bend_slowdown * min(1.0, abs(steering))
        target = self.set_speed_mph * max(self.min_bend_fraction, fraction)
        curvature = path_curvature_per_m(steering)
        if self.max_lateral_accel_mps2 is not None and curvature > 0:
            target = min(target, mps_to_mph(math.sqrt(self.max_lateral_accel_mps2 / curvature)))
        return target

    def step(self, speed_mph: float, steering: float, dt_s: float) -> float:
        error_mph = self.target_speed_mph(steering) - speed_mph
        dt_s = min(dt_s, MAX_DT_S) if math.isfinite(dt_s) and dt_s > 0 else 0.0
        unclamped = self.kp * error_mph + self.ki * self.integral_mph_s
        saturated_high = unclamped >= self.throttle_max and error_mph > 0
        saturated_low = unclamped <= self.throttle_min and error_mph < 0
        if dt_s and self.ki and not (self.anti_windup and (saturated_high or saturated_low)):
            limit = self.integral_limit_mph_s
            self.integral_mph_s = _clamp(self.integral_mph_s + error_mph * dt_s, -limit, limit)
        throttle = self.kp * error_mph + self.ki * self.integral_mph_s
        return _clamp(throttle, self.throttle_min, self.throttle_max)

    def reset(self) -> None:
        self.integral_mph_s = 0.0


def make_controller(name: str, params: dict) -> ThrottleController:
    """Build the controller named in params.yaml's drive section ('pi' or 'seed')."""
    if name == "seed":
        return SeedLinearController(speed_limit_mph=params["speed_limit_mph"])
    if name == "pi":
        return PIController(set_speed_mph=params["set_speed_mph"], **dict(params["pi"]))
    raise ValueError(f"unknown controller '{name}': use 'pi' or 'seed'")
