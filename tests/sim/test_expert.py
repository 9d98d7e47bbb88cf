"""The expert: laps without interventions, smooth labels, recovery data, side-camera consistency."""
from __future__ import annotations

import numpy as np
import pytest

from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import DriftSchedule, Expert, pure_pursuit_steering
from pilot.sim.track import circle_track, generate_track
from pilot.sim.vehicle import VehicleState


@pytest.mark.parametrize("track_seed, width_m", [(7, 8.0), (19, 6.5)])
def test_expert_laps_with_no_intervention_and_teaches_recovery(track_seed: int, width_m: float) -> None:
    track = generate_track(track_seed, width_m=width_m)
    expert = Expert(track, 17.0, drift=DriftSchedule(np.random.default_rng(42), track.half_width_m))
    episode = Episode(track, start_state(track), 0.1)
    labels, executed, offsets = [], [], []
    while episode.progress_laps < 1.0:
        command = expert.command(episode.state, 0.1)
        labels.append(command.label.steering)
        executed.append(command.executed.steering)
        offsets.append(episode.point.cross_track_m)
        episode.advance(command.executed)
        assert episode.steps < 2000
    labels, offsets = np.array(labels), np.array(offsets)
    assert episode.interventions == 0
    assert np.abs(labels).max() < 0.7                               # bends well below full lock
    assert np.abs(np.diff(labels)).max() < 0.1                      # smooth, like a careful human
    assert (np.abs(offsets) > 0.25 * track.half_width_m).mean() > 0.1   # it does drift off centre (1 m of 4) ...
    far_left = offsets > 0.3 * track.half_width_m
    assert np.mean(labels[far_left] > np.array(executed)[far_left]) > 0.7   # ... and the label steers back
    assert np.mean([r.speed_mph for r in episode.records[200:]]) == pytest.approx(17.0, abs=0.5)


def test_one_metre_off_centre_asks_for_about_the_side_camera_correction() -> None:
    straight = circle_track(5000.0)
    x, y, heading = straight.point_at(100.0, lateral_m=1.0)        # 1 m left of the centre line
    label = pure_pursuit_steering(straight, VehicleState(x, y, heading, 8.0))
    assert label == pytest.approx(0.15, abs=0.02)                    # steers right, as +0.15 for the left camera
    x, y, heading = straight.point_at(100.0, lateral_m=-1.0)
    assert pure_pursuit_steering(straight, VehicleState(x, y, heading, 8.0)) == pytest.approx(-label, abs=0.005)
