"""The kinematic bicycle model against closed-form results, and what grip and a steering-rate limit change."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.sim.vehicle import CarPhysics, Controls, VehicleState, clamp_controls, step
from pilot.udacity.simulator import MAX_SPEED_MPH, MPS_PER_MPH, WHEELBASE_M
from pilot.udacity.simulator import turn_radius_m as turning_radius_m


def drive(state: VehicleState, controls: Controls, steps: int, dt_s: float = 0.1,
          physics: CarPhysics | None = None) -> list[VehicleState]:
    states = [state]
    for _ in range(steps):
        states.append(step(states[-1], controls, dt_s) if physics is None
                      else step(states[-1], controls, dt_s, physics))
    return states


@pytest.mark.parametrize("steering", [0.2, -0.5, 1.0])
def test_fixed_steer_drives_a_circle_of_the_bicycle_radius(steering: float) -> None:
    expected = WHEELBASE_M / math.tan(math.radians(25.0 * abs(steering)))
    assert turning_radius_m(steering) == pytest.approx(expected)
    states = drive(VehicleState(0.0, 0.0, 0.0, 8.0), Controls(steering, 0.0, 0.0), 200)
    points = np.array([(s.x_m, s.y_m) for s in states])
    centre = np.array([0.0, -expected if steering > 0 else expected])   # positive steering turns right
    assert np.allclose(np.hypot(*(points - centre).T), expected, rtol=1e-9)
    assert (states[1].yaw_rad < 0) == (steering > 0)


def test_speed_is_capped_braking_stops_and_never_reverses() -> None:
    states = drive(VehicleState(0.0, 0.0, 0.3), Controls(0.0, 1.0, 0.0), 400)
    assert max(s.speed_mph for s in states) == pytest.approx(MAX_SPEED_MPH)
    stopped = drive(states[-1], Controls(0.0, 0.0, 1.0), 60)
    assert stopped[-1].speed_mps == 0.0
    assert stopped[-1].x_m == stopped[-2].x_m                     # standing still, not rolling back
    straight = drive(VehicleState(1.0, 2.0, 0.3, 5.0), Controls(0.0, 0.0, 0.0), 1)[-1]
    assert math.atan2(straight.y_m - 2.0, straight.x_m - 1.0) == pytest.approx(0.3)


def test_step_is_pure() -> None:
    state = VehicleState(0.0, 0.0, 0.0, 10 * MPS_PER_MPH)
    assert step(state, Controls(0.3, 0.5), 0.1) == step(state, Controls(0.3, 0.5), 0.1)
    assert state.speed_mph == pytest.approx(10.0)


def test_clamp_controls_reads_commands_as_the_simulator() -> None:
    assert clamp_controls(1.7, 2.0) == Controls(1.0, 1.0, 0.0)
    assert clamp_controls(-3.0, -0.4) == Controls(-1.0, 0.0, 0.4)


def test_the_simulators_car_has_its_wheelbase() -> None:
    assert WHEELBASE_M == 2.87


def test_a_steering_rate_limit_turns_the_wheels_at_that_rate() -> None:
    physics = CarPhysics(max_steer_rate_per_s=2.0, lateral_grip_mps2=None)
    state = VehicleState(0.0, 0.0, 0.0, 5.0)
    after = step(state, Controls(1.0, 0.0), 0.2, physics)
    assert after.wheel_steering == pytest.approx(0.4)                   # 2 per s for 0.2 s
    settled = step(after, Controls(1.0, 0.0), 1.0, physics)
    assert settled.wheel_steering == pytest.approx(1.0)                 # and it reaches the command
    instant = step(state, Controls(1.0, 0.0), 0.2, CarPhysics(max_steer_rate_per_s=None, lateral_grip_mps2=None))
    assert abs(instant.yaw_rad) > abs(after.yaw_rad)                    # the lag turns the car less


def test_a_car_too_fast_for_its_grip_runs_wide() -> None:
    grip_mps2 = 7.0
    physics = CarPhysics(max_steer_rate_per_s=None, lateral_grip_mps2=grip_mps2)
    slow, fast = (VehicleState(0.0, 0.0, 0.0, speed) for speed in (5.0, 13.4))      # 11 and 30 mph
    steering = 0.4                                                      # a 16 m radius bend
    radius_m = turning_radius_m(steering)
    for state, expected_radius_m in ((slow, radius_m), (fast, 13.4 ** 2 / grip_mps2)):
        states = drive(state, Controls(steering, 0.3), 30, 0.02, physics)   # roughly at that speed
        turned = abs(states[-1].yaw_rad - states[0].yaw_rad)
        driven = sum(math.hypot(b.x_m - a.x_m, b.y_m - a.y_m) for a, b in zip(states, states[1:]))
        assert driven / turned == pytest.approx(expected_radius_m, rel=0.05)
    assert 13.4 ** 2 / grip_mps2 > 1.2 * radius_m                      # the fast car's circle is wider
