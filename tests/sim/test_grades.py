"""Gravity on grades in closed form, the car's pitch, and flat ground exactly as before grades existed."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import Expert
from pilot.sim.track import generate_track, named_track
from pilot.sim.vehicle import (
    DRAG_PER_M,
    GRAVITY_MPS2,
    MAX_ACCEL_MPS2,
    ROLLING_MPS2,
    CarPhysics,
    Controls,
    VehicleState,
    pitch_rad,
    step,
)

CLIMB = 0.28                                    # the Jungle's S-bend ramps: 28 % over 10 m


def pull_mps2(grade: float) -> float:
    return GRAVITY_MPS2 * grade / math.sqrt(1.0 + grade * grade)       # g sin(atan(grade))


def test_pitch_is_the_arctangent_of_the_grade() -> None:
    for grade in (-0.31, -CLIMB, 0.0, 0.05, CLIMB):
        assert pitch_rad(grade) == math.atan(grade)
    assert math.degrees(pitch_rad(CLIMB)) == pytest.approx(15.6, abs=0.1)      # "28 % is 16 degrees"


def test_one_sub_step_loses_g_sin_pitch_and_covers_the_ground_at_cos_pitch() -> None:
    physics = CarPhysics()
    dt_s = physics.physics_step_s
    state = VehicleState(0.0, 0.0, 0.0, 8.0)
    controls = Controls(0.0, 0.5, 0.0)
    flat, climb = step(state, controls, dt_s, physics), step(state, controls, dt_s, physics, CLIMB)
    flat_accel = 0.5 * MAX_ACCEL_MPS2 - DRAG_PER_M * 64.0 - ROLLING_MPS2
    assert flat.speed_mps == pytest.approx(8.0 + flat_accel * dt_s, abs=1e-12)
    assert climb.speed_mps == pytest.approx(8.0 + (flat_accel - pull_mps2(CLIMB)) * dt_s, abs=1e-12)
    along_road = 0.5 * (8.0 + climb.speed_mps) * dt_s
    assert climb.x_m == pytest.approx(along_road * math.cos(math.atan(CLIMB)), abs=1e-12)


def test_at_a_fixed_throttle_the_car_slows_on_a_28_percent_climb_and_not_on_flat_ground() -> None:
    state = VehicleState(0.0, 0.0, 0.0, 8.0)
    controls = Controls(0.0, 0.5, 0.0)
    flat, climb = [state], [state]
    for _ in range(30):                                                 # 3 s
        flat.append(step(flat[-1], controls, 0.1, CarPhysics()))
        climb.append(step(climb[-1], controls, 0.1, CarPhysics(), CLIMB))
    assert all(b.speed_mps >= a.speed_mps for a, b in zip(flat, flat[1:]))
    assert all(b.speed_mps < a.speed_mps for a, b in zip(climb, climb[1:]))
    assert climb[-1].speed_mps < 8.0 - 3.0 < 8.0 < flat[-1].speed_mps


def test_with_no_throttle_the_car_runs_away_down_a_28_percent_descent() -> None:
    states = [VehicleState(0.0, 0.0, 0.0, 0.0)]
    for _ in range(20):                                                 # 2 s from standstill
        states.append(step(states[-1], Controls(), 0.1, CarPhysics(), -CLIMB))
    speeds = [state.speed_mps for state in states]
    assert all(b > a for a, b in zip(speeds, speeds[1:]))
    # at these speeds drag is small: v ~ (g sin(pitch) - rolling) t
    assert speeds[-1] == pytest.approx((pull_mps2(CLIMB) - ROLLING_MPS2) * 2.0, rel=0.05)
    assert states[-1].x_m > 0.0                                         # forward, down the hill
    flat = step(VehicleState(0.0, 0.0, 0.0, 0.0), Controls(), 2.0, CarPhysics())
    assert flat.speed_mps == 0.0 and flat.x_m == 0.0                    # on flat ground it stays put


def test_a_stalled_car_stands_on_a_climb_rather_than_rolling_back() -> None:
    state = step(VehicleState(0.0, 0.0, 0.0, 1.0), Controls(), 3.0, CarPhysics(), CLIMB)
    assert state.speed_mps == 0.0 and 0.0 < state.x_m < 1.0


def test_on_the_jungle_the_episode_steps_the_car_on_the_grade_where_it_is() -> None:
    jungle = named_track("jungle")
    steepest_s = float(jungle.s_m[int(np.argmax(jungle.grades))])
    episode = Episode(jungle, start_state(jungle, steepest_s - 1.4, speed_mps=8.0), 0.1, CarPhysics())
    grade = episode.road_grade()
    assert grade == pytest.approx(jungle.grade_at(episode.point.s_m), rel=1e-3)      # heading along the road
    assert grade > 0.25
    assert pitch_rad(grade) == math.atan(grade)
    expected = step(episode.state, Controls(0.0, 0.3, 0.0), 0.1, episode.physics, grade)
    assert episode.advance(Controls(0.0, 0.3, 0.0)) == expected
    here = episode.state
    turned = Episode(jungle, VehicleState(here.x_m, here.y_m, here.yaw_rad + math.pi, 8.0), 0.1, CarPhysics())
    assert turned.road_grade() == pytest.approx(-episode.road_grade(), rel=0.05)      # driven the wrong way: down


# Final states computed on the code before grades existed (commit d4d6907): grade 0 must run the same arithmetic.
BEFORE_GRADES_STEP = VehicleState(x_m=221.8544961520714, y_m=16.06506361483598, yaw_rad=0.2918174770319828,
                                  speed_mps=13.4112, wheel_steering=0.26029323019250017)
BEFORE_GRADES_EPISODE_SEED_7 = VehicleState(x_m=-58.8342750517112, y_m=-65.52037539720466,
                                            yaw_rad=-1.3038556420488754, speed_mps=7.599680000000004,
                                            wheel_steering=-0.0423843760267087)


def test_flat_ground_is_bit_identical_to_the_code_before_grades() -> None:
    states = {}
    for grade in (None, 0.0, -0.0):
        state = VehicleState(0.0, 0.0, 0.3, 5.0)
        for i in range(200):
            controls = Controls(0.3 * np.sin(i / 10), 0.6, 0.0)
            state = (step(state, controls, 0.1, CarPhysics()) if grade is None
                     else step(state, controls, 0.1, CarPhysics(), grade))
        states[grade] = state
    assert states[None] == states[0.0] == states[-0.0] == BEFORE_GRADES_STEP


def test_a_generated_tracks_episode_is_bit_identical_to_the_code_before_grades() -> None:
    track = generate_track(7)
    expert = Expert(track, 17.0)
    episode = Episode(track, start_state(track), 0.1, CarPhysics())
    for _ in range(1500):
        assert episode.road_grade() == 0.0
        episode.advance(expert.command(episode.state, 0.1).executed)
    assert episode.state == BEFORE_GRADES_EPISODE_SEED_7


def test_a_hilly_circuit_keeps_its_seeds_plan_view_and_climbs_to_its_steepest_grade() -> None:
    flat = generate_track(41, max_curvature_per_m=0.1)
    hilly = generate_track(41, max_curvature_per_m=0.1, max_grade=0.2)
    assert flat.is_flat and not hilly.is_flat
    np.testing.assert_array_equal(hilly.points_m, flat.points_m)           # hills come from their own stream
    # the centre line's grades (differences between 0.5 m samples) meet the exact derivative's limit
    assert np.abs(hilly.grades).max() == pytest.approx(0.2, abs=0.002)
    spacing_m = hilly.segment_lengths_m.mean()
    assert abs(hilly.heights_m[0] - hilly.heights_m[-1]) <= 0.2 * spacing_m * 1.01   # the lap closes on itself
    assert np.ptp(hilly.heights_m) > 8.0                                    # climbs of metres, not ripples
    assert generate_track(41, max_curvature_per_m=0.1, max_grade=0.2).heights_m.tobytes() == hilly.heights_m.tobytes()
    with pytest.raises(ValueError, match="max_grade"):
        generate_track(41, max_grade=0.5)
