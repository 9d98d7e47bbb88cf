"""Replay on real recordings, proved where the truth is known: headless drives rendered by the simulator's rig.

The reference motion (labels, smoothed labels, visual odometry) against the true poses; the human's path
placed on the Lake against the true cross-track; the rig fitted to side cameras against the rig that drew
them; an oracle that steers as the human did, never taken over; and the road test's rule on the Lake.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from pilot.replay.lateral import lateral_response
from pilot.replay.loop import (
    ReferenceOracle,
    ReplaySettings,
    VirtualCar,
    choose_motion,
    off_road_m,
    replay_recording,
)
from pilot.replay.odometry import PhotometricCheck, arc_step, camera_move, label_steps, step_of_camera_move
from pilot.replay.reference import path_of_steps, reference_path
from pilot.replay.rig_fit import fit_rig, side_view_error
from pilot.replay.road import match_stretch
from pilot.sim.track import named_track
from pilot.udacity.simulator import MPS_PER_MPH, WHEELBASE_M
from tests.replay.drives import HEADLESS_CAR, HEADLESS_RIG, Drive, expert_drive

IDEAL = ReplaySettings(latency_s=0.0, steering_rate_per_s=None)


@pytest.fixture(scope="module")
def lake_drive() -> Drive:
    """The expert wandering across the Lake's lane at 20 mph: 45 s, about 400 m (the truth is its poses)."""
    return expert_drive("lake", frames=450, speed_mph=20.0, start_m=250.0, drift_seed=4)


def true_step(drive: Drive, k: int):
    """The rear axle's true move from frame k to k+1, in frame k's car frame, and the turn."""
    a, b = drive.states[k], drive.states[k + 1]
    dx, dy = b.x_m - a.x_m, b.y_m - a.y_m
    cos_a, sin_a = math.cos(a.yaw_rad), math.sin(a.yaw_rad)
    return cos_a * dx + sin_a * dy, -sin_a * dx + cos_a * dy, b.yaw_rad - a.yaw_rad


def test_a_step_moves_the_camera_and_back():
    step = arc_step(0.02, 2.5)
    camera_m, turn = camera_move(step, HEADLESS_RIG)
    again = step_of_camera_move(*camera_m, turn, HEADLESS_RIG)
    assert (again.ahead_m, again.left_m, again.turn_rad) == pytest.approx((step.ahead_m, step.left_m, step.turn_rad))


def test_label_steps_compose_into_the_bicycle_models_path(lake_drive):
    steps = label_steps(lake_drive.steering, lake_drive.speed_mph * MPS_PER_MPH, lake_drive.time_s)
    composed = path_of_steps(lake_drive.time_s, lake_drive.steering, steps)
    integrated = reference_path(lake_drive.time_s, lake_drive.steering, lake_drive.speed_mph)
    assert np.allclose(composed.x_m, integrated.x_m, atol=1e-6) and np.allclose(composed.y_m, integrated.y_m, atol=1e-6)
    assert np.allclose(composed.driving_steering[:-1], lake_drive.steering[:-1], atol=1e-9)


def test_visual_odometry_recovers_the_true_step_from_the_frames(lake_drive):
    check = PhotometricCheck(HEADLESS_RIG)
    steps = label_steps(lake_drive.steering, lake_drive.speed_mph * MPS_PER_MPH, lake_drive.time_s)
    for k in (40, 160, 300):
        wrong = arc_step(steps[k].turn_rad / steps[k].distance_m + 0.02, steps[k].distance_m)  # a bad start
        found, error = check.visual_step(lake_drive.frame(k, "center"), lake_drive.frame(k + 1, "center"), wrong)
        ahead_m, left_m, turn_rad = true_step(lake_drive, k)
        assert found.ahead_m == pytest.approx(ahead_m, abs=0.1)
        assert found.left_m == pytest.approx(left_m, abs=0.05) and found.turn_rad == pytest.approx(turn_rad, abs=2e-3)
        assert error < check.error(lake_drive.frame(k, "center"), lake_drive.frame(k + 1, "center"), wrong)


def test_the_lake_drive_is_placed_on_the_lake_where_it_truly_was(lake_drive):
    track = named_track("lake")
    path = reference_path(lake_drive.time_s, lake_drive.steering, lake_drive.speed_mph)
    centre_x = path.x_m + 0.5 * WHEELBASE_M * np.cos(path.heading_rad)
    centre_y = path.y_m + 0.5 * WHEELBASE_M * np.sin(path.heading_rad)
    placed = match_stretch(track, path.distance_m, centre_x, centre_y, path.heading_rad)
    assert placed is not None and placed.direction == 1 and placed.heading_rms_deg < 5.0
    truth = [track.nearest(*state.centre_xy) for state in lake_drive.states]
    along = np.angle(np.exp(2j * np.pi * (placed.s_m - [point.s_m for point in truth]) / track.length_m))
    assert np.abs(along).max() * track.length_m / (2 * np.pi) < 5.0                   # metres along the road
    true_cross = np.array([point.cross_track_m for point in truth])
    assert np.abs(true_cross).max() > 0.6                                             # it did wander
    assert np.sqrt(np.mean((placed.cross_track_m - true_cross) ** 2)) < 0.4


def test_a_generated_track_is_not_taken_for_the_lake():
    drive = expert_drive(7, frames=900)
    path = reference_path(drive.time_s, drive.steering, drive.speed_mph)
    assert match_stretch(named_track("lake"), path.distance_m, path.x_m, path.y_m, path.heading_rad) is None


def test_the_rig_is_fitted_back_from_side_cameras(lake_drive):
    triples = [tuple(lake_drive.frame(k, camera) for camera in ("center", "left", "right")) for k in range(0, 440, 40)]
    wrong = replace(HEADLESS_RIG, height_m=1.3, pitch_deg=8.4, yaw_deg=0.9, roll_deg=1.0)
    fit = fit_rig(triples, start=wrong)
    assert fit.error_after < fit.error_before and fit.error_after == pytest.approx(side_view_error(fit.rig, triples))
    assert fit.rig.height_m == pytest.approx(HEADLESS_RIG.height_m, abs=0.04)
    assert fit.rig.pitch_deg == pytest.approx(HEADLESS_RIG.pitch_deg, abs=0.4)


def test_the_oracle_is_never_taken_over_and_a_model_that_never_steers_leaves_the_lake(lake_drive):
    track = named_track("lake")
    oracle = replay_recording("lake", lake_drive.time_s, lake_drive.steering, lake_drive.speed_mph, lake_drive.frame,
                              ReferenceOracle(), HEADLESS_RIG, HEADLESS_CAR, ReplaySettings(), track=track)
    summary = oracle.summary()
    assert summary["reference"] == "lake centre line" and summary["interventions"] == 0
    assert summary["autonomy_percent"] == 100.0 and summary["max_abs_cross_track_m"] < 2.0
    straight = replay_recording("lake", lake_drive.time_s, lake_drive.steering, lake_drive.speed_mph,
                                lake_drive.frame, lambda view: 0.0, HEADLESS_RIG, HEADLESS_CAR, ReplaySettings(),
                                track=track).summary()
    assert straight["interventions"] >= 1 and straight["max_abs_cross_track_m"] > 1.5


def test_a_wheel_is_off_the_road_when_the_cars_edge_is():
    assert off_road_m(0.0, 0.0, 3.25) == pytest.approx(1.0 - 3.25)
    assert off_road_m(2.5, 0.0, 3.25) == pytest.approx(0.25)                  # its left wheels are out
    assert off_road_m(-2.0, math.radians(10), 3.25) > off_road_m(-2.0, 0.0, 3.25)   # turned: a corner reaches out


def spiky(steering: np.ndarray, level: float = 0.3) -> np.ndarray:
    """A keyboard's labels for the same drive: each frame 0 or +-`level`, their running mean the steering
    driven (first-order sigma-delta), so the path over a second is right and every single frame is wrong."""
    out, owed = np.zeros_like(steering), 0.0
    for k, value in enumerate(steering):
        owed += value
        out[k] = level * np.clip(np.round(owed / level), -1, 1)
        owed -= out[k]
    return out


def test_the_motion_that_predicts_the_next_frame_best_is_chosen(lake_drive):
    stretch, check = [slice(0, 200)], PhotometricCheck(HEADLESS_RIG)
    args = (lake_drive.time_s, lake_drive.steering, lake_drive.speed_mph, lake_drive.frame, HEADLESS_CAR, check)
    chosen, errors = choose_motion(stretch, *args)
    assert set(errors) == {"labels", "smoothed", "visual"}
    assert errors["labels"] < errors["smoothed"]       # the labels are the drive's truth, frame by frame
    assert chosen in ("labels", "visual") and errors["visual"] <= errors["labels"] * 1.05

    keys = spiky(lake_drive.steering)
    assert abs(keys.mean() - lake_drive.steering.mean()) < 0.01
    chosen, errors = choose_motion(stretch, lake_drive.time_s, keys, *args[2:])
    assert errors["labels"] > errors["smoothed"] and errors["labels"] > errors["visual"]
    assert chosen != "labels"


class RoadSeeker:
    """A real (if simple) vision model: it steers towards the middle of the grey road it sees ahead."""

    def __call__(self, rgb: np.ndarray) -> float:
        rows = rgb[80:120].astype(np.float32)
        grey = (np.ptp(rows, axis=2) < 20) & (rows.mean(axis=2) > 50) & (rows.mean(axis=2) < 170)
        columns = np.nonzero(grey)[1]
        return 0.0 if columns.size == 0 else float((columns.mean() - rgb.shape[1] / 2) / (rgb.shape[1] / 2))


def test_lateral_response_says_how_a_model_answers_a_sideways_offset(lake_drive):
    triples = [tuple(lake_drive.frame(k, camera) for camera in ("center", "left", "right")) for k in range(0, 440, 55)]
    response = lateral_response(RoadSeeker(), triples, HEADLESS_RIG, trained_correction=0.15)
    assert response["frames"] == len(triples) and response["trained_correction"] == 0.15
    assert response["left_camera"] > 0.02 and response["right_camera"] < -0.02     # it steers back to the road
    offsets = response["synthesised_offset_m"]
    assert offsets["-1"] < offsets["-0.5"] < 0 < offsets["+0.5"] < offsets["+1"]    # further off: steers harder
    assert response["share_of_correction"] == pytest.approx(
        0.5 * (response["left_camera"] - response["right_camera"]) / 0.15, abs=2e-3)
    blind = lateral_response(lambda rgb: 0.1, triples, HEADLESS_RIG, trained_correction=0.15)
    assert blind["left_camera"] == 0 and blind["share_of_correction"] == 0
    assert set(blind["synthesised_offset_m"].values()) == {0}


def test_the_oracle_steers_back_to_the_humans_line_only_when_it_holds_it():
    time_s = np.arange(60) * 0.1
    path = reference_path(time_s, np.zeros(60), np.full(60, 20.0))            # the human drove straight
    car = VirtualCar(HEADLESS_CAR, 0.0, ReplaySettings())
    car.offset_m = 0.5                                                          # the model's car is 0.5 m to the left
    holding, open_loop = ReferenceOracle(), ReferenceOracle(holds_line=False)
    holding.follow(path, 0.1, car)
    open_loop.follow(path, 0.1, car)
    assert open_loop(None) == 0.0                                             # as the human: straight on
    assert 0.0 < holding(None) < 0.2 and holding.feedback_share == 1.0        # steers right, gently
