"""The expert driver: a smooth look-ahead (pure pursuit) controller that also teaches recovery.

Recording trick (DAgger-like labels): the car EXECUTES a perturbed command (now and
then it drifts towards a lateral offset, plus a little smooth steering noise) while the
recording LABELS every frame with the clean expert's command for the state the camera
sees. The label is a pure function of the car's pose on the track, so it is learnable
from the image; the drifts put the car in the off-centre states a model must recover from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pilot.control import PURE_PURSUIT_LOOKAHEAD_M, PIController
from pilot.sim.track import Track
from pilot.sim.vehicle import Controls, VehicleState
from pilot.udacity.simulator import mps_to_mph, steering_for_curvature

LOOKAHEAD_M = PURE_PURSUIT_LOOKAHEAD_M   # pure-pursuit look-ahead: 1 m off centre -> ~0.15 steering
SPEED_GAIN_PER_MPH = 0.08     # throttle per mph of speed error
SPEED_INTEGRAL_GAIN = 0.02    # throttle per mph*s of accumulated error
BRAKE_MARGIN_MPH = 1.5        # brake only when this much too fast
INTEGRAL_LIMIT_MPH_S = 20.0   # bound on the accumulated speed error


def pure_pursuit_steering(track: Track, state: VehicleState, lateral_m: float = 0.0,
                          lookahead_m: float = LOOKAHEAD_M, hint_index: int | None = None) -> float:
    """Steering (-1..1, positive right) that steers the rear axle onto the line `lateral_m` left of centre."""
    here = track.nearest(state.x_m, state.y_m, hint_index)
    target_x, target_y, _ = track.point_at(here.s_m + lookahead_m, lateral_m)
    dx, dy = target_x - state.x_m, target_y - state.y_m
    cos_yaw, sin_yaw = math.cos(state.yaw_rad), math.sin(state.yaw_rad)
    forward, left = dx * cos_yaw + dy * sin_yaw, -dx * sin_yaw + dy * cos_yaw
    distance = math.hypot(forward, left)
    return steering_for_curvature(2.0 * left / (distance * distance))     # 2 sin(alpha) / distance


class ExpertSpeed:
    """The expert's throttle and brake: the drive server's PI controller, tuned for the expert.

    Plain integration bounded at +-20 mph*s (no conditional anti-windup), throttle 0..1, no bend
    slowdown; it brakes only when clearly too fast.
    """

    def __init__(self, set_speed_mph: float) -> None:
        self.pi = PIController(set_speed_mph, kp=SPEED_GAIN_PER_MPH, ki=SPEED_INTEGRAL_GAIN,
                               throttle_min=0.0, throttle_max=1.0, bend_slowdown=0.0, min_bend_fraction=1.0,
                               integral_limit_mph_s=INTEGRAL_LIMIT_MPH_S, anti_windup=False)

    def update(self, speed_mph: float, dt_s: float) -> tuple[float, float]:
        """(throttle 0..1, brake 0..1) for the current speed."""
        throttle = self.pi.step(speed_mph, 0.0, dt_s)
        error = self.pi.set_speed_mph - speed_mph
        brake = min(1.0, 0.1 * (-error - BRAKE_MARGIN_MPH)) if error < -BRAKE_MARGIN_MPH else 0.0
        return throttle, brake


@dataclass(frozen=True)
class DriftSettings:
    """How the expert wanders: idle gaps, drift sizes and durations, steering noise."""

    gap_s: tuple[float, float] = (3.0, 8.0)          # centred driving between drifts
    offset_share: tuple[float, float] = (0.2, 0.5)   # how far off centre a drift goes, as a share of the half
                                                     # road width (0.8-2.0 m on an 8 m road, 0.65-1.6 m on 6.5 m)
    ramp_s: tuple[float, float] = (1.0, 2.5)         # time to drift out
    hold_s: tuple[float, float] = (0.3, 1.5)         # time spent off centre before recovering
    noise_steering: float = 0.03                     # smooth steering noise (std, -1..1 units)
    noise_time_s: float = 0.5                        # its correlation time


class DriftSchedule:
    """A seeded, smooth lateral offset o(t) and steering noise n(t) for the executed command."""

    def __init__(self, rng: np.random.Generator, half_width_m: float,
                 settings: DriftSettings = DriftSettings()) -> None:
        self.rng = rng
        self.settings = settings
        self.half_width_m = half_width_m
        self.noise = 0.0
        self._phase = "gap"
        self._time_left_s = float(rng.uniform(*settings.gap_s))
        self._offset_m = 0.0
        self._ramp_s = 1.0
        self._elapsed_s = 0.0

    def update(self, dt_s: float) -> tuple[float, float]:
        """Advance by dt_s; returns (lateral offset target in m, steering noise)."""
        settings = self.settings
        decay = math.exp(-dt_s / settings.noise_time_s)
        self.noise = (decay * self.noise
                      + math.sqrt(1 - decay * decay) * settings.noise_steering * float(self.rng.normal()))
        self._time_left_s -= dt_s
        self._elapsed_s += dt_s
        if self._time_left_s <= 0.0:
            if self._phase == "gap":
                self._phase, self._elapsed_s = "ramp", 0.0
                share = float(self.rng.uniform(*settings.offset_share))
                self._offset_m = share * self.half_width_m * float(self.rng.choice([-1.0, 1.0]))
                self._ramp_s = float(self.rng.uniform(*settings.ramp_s))
                self._time_left_s = self._ramp_s + float(self.rng.uniform(*settings.hold_s))
            else:                                   # recover: back to centre with the clean expert
                self._phase = "gap"
                self._time_left_s = float(self.rng.uniform(*settings.gap_s))
        if self._phase == "gap":
            return 0.0, self.noise
        ramp = min(1.0, self._elapsed_s / self._ramp_s)
        return self._offset_m * 0.5 * (1 - math.cos(math.pi * ramp)), self.noise


@dataclass(frozen=True)
class ExpertCommand:
    """What the car does (`executed`) and what the recording says it should do (`label`)."""

    executed: Controls
    label: Controls


class Expert:
    """Clean pure pursuit + PI speed, with optional drifts for recovery data."""

    def __init__(self, track: Track, set_speed_mph: float = 17.0, lookahead_m: float = LOOKAHEAD_M,
                 drift: DriftSchedule | None = None) -> None:
        self.track = track
        self.lookahead_m = lookahead_m
        self.speed = ExpertSpeed(set_speed_mph)
        self.drift = drift
        self._hint: int | None = None

    def clean_steering(self, state: VehicleState) -> float:
        """The label: pure pursuit onto the centre line (a function of the pose only)."""
        self._hint = self.track.nearest(state.x_m, state.y_m, self._hint).index
        return pure_pursuit_steering(self.track, state, 0.0, self.lookahead_m, self._hint)

    def command(self, state: VehicleState, dt_s: float) -> ExpertCommand:
        """One control period: clean label, and the executed (possibly drifting) command."""
        label_steering = self.clean_steering(state)
        throttle, brake = self.speed.update(mps_to_mph(state.speed_mps), dt_s)
        label = Controls(label_steering, throttle, brake)
        if self.drift is None:
            return ExpertCommand(label, label)
        offset_m, noise = self.drift.update(dt_s)
        steering = (pure_pursuit_steering(self.track, state, offset_m, self.lookahead_m, self._hint) if offset_m
                    else label_steering)
        executed = Controls(max(-1.0, min(1.0, steering + noise)), throttle, brake)
        return ExpertCommand(executed, label)
