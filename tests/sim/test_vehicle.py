"""The kinematic bicycle model against closed-form results."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.sim.vehicle import (MAX_SPEED_MPH, MPS_PER_MPH, WHEELBASE_M, Controls, VehicleState, clamp_controls,
                               step, turning_radius_m)


def drive(state: VehicleState, controls: Controls, steps: int, dt_s: float = 0.1) -> list[VehicleState]:
    states = [state]
    for _ in range(steps):
        states.append(step(states[-1], controls, dt_s))
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
