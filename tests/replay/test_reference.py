"""The reference path: frame times from the file names, stretches, and the bicycle model in closed form."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.replay.reference import CarGeometry, contiguous_stretches, reference_path
from pilot.udacity.simulator import MPS_PER_MPH
from tests.replay.drives import HEADLESS_CAR, expert_drive


def test_stretches_split_at_pauses_and_where_time_goes_back() -> None:
    time_s = np.array([0.0, 0.07, 0.14, 0.9, 0.97, 0.97, 1.04, 1.0, 1.1])
    parts = contiguous_stretches(time_s, max_gap_s=0.5)
    assert [(part.start, part.stop) for part in parts] == [(0, 3), (3, 5), (5, 7), (7, 9)]
    moving = np.array([True, False, True, True, True, True, True, True, False])
    parts = contiguous_stretches(time_s, max_gap_s=0.5, moving=moving)
    assert [(part.start, part.stop) for part in parts] == [(0, 1), (2, 3), (3, 5), (5, 7), (7, 8)]


def test_constant_steering_drives_the_circle_of_the_bicycle_model() -> None:
    car = CarGeometry()
    steering = -0.4                                    # left
    radius_m = car.wheelbase_m / math.tan(math.radians(0.4 * 25.0))
    speed_mph = 20.0
    time_s = np.arange(0.0, 12.0, 1 / 15)
    path = reference_path(time_s, np.full(time_s.size, steering), np.full(time_s.size, speed_mph), car)
    distance = speed_mph * MPS_PER_MPH * time_s
    assert path.distance_m == pytest.approx(distance)
    assert path.heading_rad == pytest.approx(distance / radius_m)
    assert path.x_m == pytest.approx(radius_m * np.sin(distance / radius_m), abs=1e-9)
    assert path.y_m == pytest.approx(radius_m * (1 - np.cos(distance / radius_m)), abs=1e-9)
    assert path.curvature_per_m == pytest.approx(np.full(time_s.size, 1 / radius_m))


def test_the_recorded_steering_and_speed_rebuild_the_true_path() -> None:
    drive = expert_drive(frames=200)                   # 20 s on a curvy generated track
    path = reference_path(drive.time_s, drive.steering, drive.speed_mph, HEADLESS_CAR)
    first = drive.states[0]
    cos_h, sin_h = math.cos(first.yaw_rad), math.sin(first.yaw_rad)
    true_x = np.array([cos_h * (s.x_m - first.x_m) + sin_h * (s.y_m - first.y_m) for s in drive.states])
    true_y = np.array([-sin_h * (s.x_m - first.x_m) + cos_h * (s.y_m - first.y_m) for s in drive.states])
    true_heading = np.unwrap([s.yaw_rad - first.yaw_rad for s in drive.states])
    assert np.abs(drive.steering).max() > 0.15                       # it is curvy
    assert np.hypot(path.x_m - true_x, path.y_m - true_y).max() < 1e-6
    assert np.abs(path.heading_rad - true_heading).max() < 1e-9
