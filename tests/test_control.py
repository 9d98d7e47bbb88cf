"""Throttle controllers, tested by stepping them against a simple car (no clock, no sockets)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pilot.control import PIController, SeedLinearController, make_controller
from pilot.stage_io import load_params

REPO_ROOT = Path(__file__).resolve().parents[1]
ACCEL_MPH_PER_S = 6.0     # full throttle from standstill
BRAKE_MPH_PER_S = 12.0    # full brake
DRAG_PER_S = 0.2          # terminal speed at full throttle: 30 mph, like the simulator's car
DT_S = 0.05


def car_step(speed_mph: float, throttle: float, dt_s: float = DT_S) -> float:
    """A first-order car: throttle accelerates, negative throttle brakes, drag slows."""
    push = ACCEL_MPH_PER_S * max(throttle, 0.0) + BRAKE_MPH_PER_S * min(throttle, 0.0)
    return max(0.0, speed_mph + (push - DRAG_PER_S * speed_mph) * dt_s)


def drive(controller, seconds: float, speed_mph: float = 0.0, steering: float = 0.0,
          blocked: bool = False) -> tuple[np.ndarray, np.ndarray]:
    speeds, throttles = [], []
    for _ in range(int(seconds / DT_S)):
        throttle = controller.step(speed_mph, steering, DT_S)
        if not blocked:
            speed_mph = car_step(speed_mph, throttle)
        speeds.append(speed_mph)
        throttles.append(throttle)
    return np.array(speeds), np.array(throttles)


def test_pi_settles_at_the_set_speed_without_much_overshoot():
    controller = PIController(set_speed_mph=15.0)
    speeds, throttles = drive(controller, seconds=40.0)
    assert abs(speeds[-1] - 15.0) < 0.1                       # integral removes the offset
    assert np.all(np.abs(speeds[int(25 / DT_S):] - 15.0) < 0.3)
    assert speeds.max() < 15.0 * 1.10
    # steady state needs throttle to hold 15 mph against drag: 0.2 * 15 / 6 = 0.5
    assert throttles[-1] == pytest.approx(DRAG_PER_S * 15.0 / ACCEL_MPH_PER_S, abs=0.02)


def test_pi_slows_down_from_above_the_set_speed_by_braking():
    controller = PIController(set_speed_mph=10.0)
    speeds, throttles = drive(controller, seconds=40.0, speed_mph=28.0)
    assert throttles[0] == controller.throttle_min            # brakes hard at first
    assert abs(speeds[-1] - 10.0) < 0.2


def test_pi_is_slower_in_sharp_bends():
    controller = PIController(set_speed_mph=20.0, bend_slowdown=0.5, min_bend_fraction=0.5)
    assert controller.target_speed_mph(0.0) == 20.0
    assert controller.target_speed_mph(-0.4) == pytest.approx(16.0)
    assert controller.target_speed_mph(1.0) == 10.0
    assert controller.target_speed_mph(5.0) == 10.0           # never below the floor
    speeds, _ = drive(controller, seconds=60.0, steering=0.6)
    assert abs(speeds[-1] - 14.0) < 0.2


def test_pi_output_never_leaves_its_bounds_whatever_the_input():
    controller = PIController(set_speed_mph=15.0, throttle_min=-0.5, throttle_max=0.8)
    rng = np.random.default_rng(0)
    odd_dts = [0.0, -1.0, math.nan, math.inf, 1e6, 1e-9]
    for i in range(5000):
        speed = float(rng.uniform(-10, 200))
        steering = float(rng.uniform(-3, 3))
        dt_s = odd_dts[i % len(odd_dts)] if i % 7 == 0 else float(rng.uniform(0, 0.2))
        throttle = controller.step(speed, steering, dt_s)
        assert math.isfinite(throttle)
        assert -0.5 <= throttle <= 0.8


def test_pi_anti_windup_keeps_the_integral_small_while_saturated():
    """A car held still for a minute (stuck on a kerb) must not leap when released."""
    controller = PIController(set_speed_mph=15.0)
    _, throttles = drive(controller, seconds=60.0, blocked=True)
    assert np.all(throttles == controller.throttle_max)
    assert abs(controller.ki * controller.integral_mph_s) <= controller.throttle_max
    speeds, _ = drive(controller, seconds=40.0)
    assert speeds.max() < 15.0 * 1.10
    assert abs(speeds[-1] - 15.0) < 0.1


def test_pi_first_frame_and_reset_do_not_integrate():
    controller = PIController(set_speed_mph=15.0, kp=0.0, ki=0.1)
    assert controller.step(5.0, 0.0, 0.0) == 0.0              # dt 0: no history yet
    controller.step(5.0, 0.0, 0.1)
    assert controller.integral_mph_s == pytest.approx(1.0)
    controller.reset()
    assert controller.integral_mph_s == 0.0


def test_seed_controller_is_automatico_py():
    controller = SeedLinearController(speed_limit_mph=10.0)
    for speed in (0.0, 2.5, 10.0, 14.0):
        assert controller.step(speed, 0.3, DT_S) == pytest.approx(1.0 - speed / 10.0)
    assert controller.step(40.0, 0.0, DT_S) == -1.0            # the simulator clamps the same way
    speeds, _ = drive(controller, seconds=30.0)
    # equilibrium of 6 * (1 - v/10) = 0.2 v  ->  v = 7.5 mph: under the limit, as the seed drives
    assert speeds[-1] == pytest.approx(7.5, abs=0.05)


def test_controllers_are_built_from_params_yaml():
    params = load_params("drive", REPO_ROOT / "params.yaml")
    pi = make_controller("pi", params)
    seed = make_controller("seed", params)
    assert isinstance(pi, PIController) and pi.set_speed_mph == params["set_speed_mph"]
    assert isinstance(seed, SeedLinearController) and seed.speed_limit_mph == params["speed_limit_mph"]
    with pytest.raises(ValueError, match="unknown controller"):
        make_controller("bang-bang", params)
    with pytest.raises(ValueError):
        PIController(set_speed_mph=10.0, throttle_min=0.5, throttle_max=0.2)
    with pytest.raises(ValueError):
        SeedLinearController(speed_limit_mph=0.0)
