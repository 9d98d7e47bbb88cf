"""The road's tilt in view, measured on a frame's side cameras: 0 on level road and on a steady climb (the car
pitches with it), + at the foot of a climb, - at a crest; and how a replay reports the frames where it is large."""
from __future__ import annotations

import numpy as np
import pytest

from pilot.replay.result import FrameRecord, grade_change_summary
from pilot.replay.rig_fit import road_tilt_deg
from pilot.sim.camera import Renderer
from pilot.sim.episode import start_state
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.simulator import CAMERAS
from tests.sim.test_hill_render import stadium

CLIMB_FROM_M, PLATEAU_FROM_M = 100.0, 150.0      # level, then 20 % up for 50 m, then a 10 m high plateau


@pytest.fixture(scope="module")
def climb() -> Renderer:
    return Renderer(stadium(lambda x: float(np.clip((x - CLIMB_FROM_M) * 0.2, 0.0, 10.0))))


def tilt_at(renderer: Renderer, s_m: float) -> float:
    state = start_state(renderer.track, s_m)
    return road_tilt_deg(CameraRig(), tuple(renderer.render(state, camera) for camera in CAMERAS))


def test_level_road_and_a_steady_climb_do_not_tilt(climb: Renderer) -> None:
    assert abs(tilt_at(climb, 60.0)) < 0.3                       # level, the climb 40 m ahead
    assert abs(tilt_at(climb, 125.0)) < 0.3                      # half way up: the car pitches 11 deg with the road


def test_the_foot_of_a_climb_tilts_up_and_a_crest_tilts_down(climb: Renderer) -> None:
    assert tilt_at(climb, CLIMB_FROM_M - 5.0) > 2.0               # the road ahead rises from the plane under the car
    assert tilt_at(climb, PLATEAU_FROM_M - 5.0) < -2.0            # ... and falls away from it near the top


def record(tilt: float | None, intervention: bool = False) -> FrameRecord:
    return FrameRecord(time_s=0.0, distance_m=0.0, offset_m=0.0, heading_error_deg=0.0, human_steering=0.0,
                       model_steering=0.0, applied_steering=0.0, camera="center", intervention=intervention,
                       stretch=0, road_tilt_deg=tilt)


def test_the_summary_counts_the_frames_and_interventions_beyond_the_limit() -> None:
    records = [record(0.1), record(-0.4, True), record(2.5), record(-3.0, True), record(1.0)]
    summary = grade_change_summary(records, 1.0)
    assert summary == {"grade_change_frames": 2, "grade_change_percent": 40.0, "grade_change_interventions": 1,
                       "grade_change_limit_deg": 1.0, "max_abs_road_tilt_deg": 3.0}
    assert grade_change_summary([record(None)], 1.0) == {}       # not measured: nothing claimed
