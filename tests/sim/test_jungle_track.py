"""The Jungle track's 3D centre line against its documented facts, heights and grades on a Track, the bridge.

Expected figures are the ones shared/udacity-simulator.md and the shared centre-line file document,
written down here: the tests read only what the repository holds.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import Expert
from pilot.sim.jungle_track import (
    JUNGLE_LENGTH_M,
    JUNGLE_ROAD_WIDTH_M,
    JUNGLE_START_RIGHT_OF_CENTRE_M,
    jungle_centre_line_m,
    jungle_start_pose,
    jungle_terrain_m,
)
from pilot.sim.terrain import scene_ground_m
from pilot.sim.track import TRACK_NAMES, Track, circle_track, generate_track, make_track, named_track, parse_track
from pilot.sim.vehicle import CarPhysics

LOWEST_M, HIGHEST_M = -94.76, -64.74           # the road's documented lowest and highest point (Unity y)
TRAINING_SPAWN_XZ_M = (170.62, -46.36)          # the car's documented spawn in JungleTrackTraining.unity, facing +x
CROSSING_XY_M = (106.0, -34.0)                  # where the bridge deck (z = -34, heading +x) passes over the road


@pytest.fixture(scope="module")
def jungle() -> Track:
    return named_track("jungle")


def test_the_centre_line_closes_at_its_documented_length(jungle: Track) -> None:
    points, heights = jungle_centre_line_m()
    assert len(points) == len(heights) == 1508
    assert np.hypot(*(points[-1] - points[0])) == pytest.approx(1.0, abs=0.01)     # ~1 m spacing, closed
    assert heights[-1] == heights[0]
    assert jungle.surface_length_m == pytest.approx(JUNGLE_LENGTH_M, abs=2.0)       # along the road: 1508 m
    assert jungle.length_m == pytest.approx(1493.2, abs=0.5)                        # over the ground plane
    steps = np.hypot(*np.diff(np.vstack([jungle.points_m, jungle.points_m[:1]]), axis=0).T)
    assert steps.max() < 0.501 and steps.min() > 0.49                               # no jump at the start line
    assert jungle.width_m == JUNGLE_ROAD_WIDTH_M == 9.5
    turns = np.angle(np.exp(1j * (np.roll(jungle.headings_rad, -1) - jungle.headings_rad)))
    assert turns.sum() == pytest.approx(0.0, abs=1e-6)                              # a figure of eight


def test_heights_span_the_documented_30_m(jungle: Track) -> None:
    _, heights = jungle_centre_line_m()
    for track_heights in (heights, jungle.heights_m):
        assert track_heights.min() == pytest.approx(LOWEST_M, abs=0.01)
        assert track_heights.max() == pytest.approx(HIGHEST_M, abs=0.01)
        assert np.ptp(track_heights) == pytest.approx(30.0, abs=0.1)
    assert jungle.height_at(0.0) == -79.75                                          # the start straight
    index = 1000
    assert jungle.height_at(jungle.s_m[index]) == jungle.heights_m[index]
    middle = jungle.s_m[index] + 0.5 * jungle.segment_lengths_m[index]
    assert jungle.height_at(middle) == pytest.approx(jungle.heights_m[index:index + 2].mean())
    assert jungle.height_at(middle + jungle.length_m) == pytest.approx(jungle.height_at(middle))    # wraps


def test_grades_reach_the_documented_28_to_31_percent_and_are_the_heights_slope(jungle: Track) -> None:
    assert 0.28 <= np.abs(jungle.grades).max() <= 0.315     # 30.8 % over 1 m documented; the heights are to 1 mm
    assert jungle.grades.max() > 0.28 and jungle.grades.min() < -0.28                 # climbs and descents
    ten_m = np.convolve(np.append(jungle.grades, jungle.grades[:19]), np.ones(20) / 20, "valid")
    assert np.abs(ten_m).max() == pytest.approx(0.283, abs=0.005)                     # "up to 28 % over 10 m"
    steep = int(np.argmax(jungle.grades))
    s = jungle.s_m[steep]
    slope = (jungle.height_at(s + 0.5) - jungle.height_at(s - 0.5)) / 1.0
    assert jungle.grade_at(s) == pytest.approx(slope, abs=0.01)
    climb = np.clip(np.diff(np.append(jungle.heights_m, jungle.heights_m[0])), 0, None).sum()
    assert climb == pytest.approx(65.0, abs=1.0)                                      # 13 ramps of 5 m a lap


def test_grade_on_a_closed_form_hill() -> None:
    """A circle of radius R at height A sin(theta): the grade is A cos(theta) / R along the direction of travel."""
    flat = circle_track(100.0)
    theta = np.arctan2(flat.points_m[:, 1], flat.points_m[:, 0])
    hill = Track(flat.points_m, flat.width_m, heights_m=5.0 * np.sin(theta))
    for angle in (0.0, 1.0, 2.5, 4.0):
        s_m = angle * 100.0 * flat.length_m / (2 * math.pi * 100.0)
        assert hill.grade_at(s_m) == pytest.approx(5.0 * math.cos(angle) / 100.0, abs=1e-4)
        assert hill.height_at(s_m) == pytest.approx(5.0 * math.sin(angle), abs=1e-3)
    assert not hill.is_flat
    assert hill.surface_length_m > hill.length_m


def test_flat_tracks_carry_no_heights() -> None:
    for track in (generate_track(7), named_track("lake"), circle_track(50.0)):
        assert track.heights_m is None and track.grades is None and track.is_flat
        assert track.height_at(12.3) == 0.0 and track.grade_at(12.3) == 0.0
        assert track.surface_length_m == track.length_m
    level = circle_track(50.0)
    assert Track(level.points_m, heights_m=np.full(len(level.points_m), 3.0)).is_flat     # one height: flat
    with pytest.raises(ValueError, match="one value per centre-line point"):
        Track(level.points_m, heights_m=np.zeros(3))


def test_unity_axes_map_without_a_mirror(jungle: Track) -> None:
    """The documented spawn (2.36 m right of the centre line, facing +x) lands right, at the start line.

    A mirrored map (Unity z -> -y) would put it 2.36 m LEFT and make every bend turn the wrong way.
    """
    spawn = jungle.nearest(*TRAINING_SPAWN_XZ_M)
    assert spawn.cross_track_m == pytest.approx(-JUNGLE_START_RIGHT_OF_CENTRE_M, abs=0.02)
    assert min(spawn.s_m, jungle.length_m - spawn.s_m) < 0.5                # at the start line (0.3 m before)
    assert spawn.heading_rad == pytest.approx(0.0, abs=1e-6)
    x, y, heading = jungle_start_pose()
    assert jungle.nearest(x, y).cross_track_m == pytest.approx(-2.36) and heading == 0.0
    # the return leg runs 10 m to the LEFT (north, Unity z = -34) of the start straight, the same way
    beside = jungle.nearest(185.0, -34.0)
    assert beside.s_m == pytest.approx(922.0, abs=2.0) and abs(beside.heading_rad) < 0.01   # ground-plane s


def test_the_bridge_crossing_is_ambiguous_on_the_ground_and_the_hint_keeps_each_branch(jungle: Track) -> None:
    deck = jungle.nearest(*CROSSING_XY_M, hint_index=int(np.searchsorted(jungle.s_m, 830.0)))
    lower = jungle.nearest(*CROSSING_XY_M, hint_index=int(np.searchsorted(jungle.s_m, 1345.0)))
    assert abs(deck.cross_track_m) < 0.3 and abs(lower.cross_track_m) < 0.3       # both roads pass right there
    assert deck.s_m == pytest.approx(836.8, abs=1.0) and lower.s_m == pytest.approx(1352.2, abs=1.0)
    assert jungle.height_at(deck.s_m) - jungle.height_at(lower.s_m) == pytest.approx(20.0, abs=0.1)


@pytest.mark.parametrize("start_s_m, deck", [(790.0, True), (1310.0, False)])
def test_a_car_driving_through_the_crossing_stays_on_its_own_branch(jungle: Track, start_s_m: float,
                                                                    deck: bool) -> None:
    episode = Episode(jungle, start_state(jungle, start_s_m, speed_mps=7.0), 0.1, CarPhysics())
    expert = Expert(jungle, 17.0)
    progress, heights_at_crossing = [], []
    while episode.progress_laps * jungle.length_m < 110.0:
        episode.advance(expert.command(episode.state, 0.1).executed)
        progress.append(episode.point.s_m)
        if math.dist(episode.state.centre_xy, CROSSING_XY_M) < 3.0:
            heights_at_crossing.append(jungle.height_at(episode.point.s_m))
    assert episode.interventions == 0
    assert np.all(np.diff(progress) > 0.0)                              # steady progress, no jump between branches
    assert progress[0] > start_s_m and progress[-1] < start_s_m + 115.0
    assert heights_at_crossing, "the drive did not pass the crossing"
    if deck:                                                            # the deck, flat, 20 m above the lower road
        assert heights_at_crossing == pytest.approx([-74.75] * len(heights_at_crossing), abs=0.01)
    else:                                                               # the lower road, climbing away from it
        assert all(-94.8 < height < -94.0 for height in heights_at_crossing)


def test_the_jungle_is_a_named_track() -> None:
    assert "jungle" in TRACK_NAMES and parse_track(" Jungle ") == "jungle"
    track = make_track("jungle", length_m=700.0)                       # a generated track's shape does not apply
    assert track.length_m == pytest.approx(1493.2, abs=0.5)             # (tests/sim/test_hill_render.py draws it)


def test_the_scene_terrain_sits_under_the_road_as_documented(jungle: Track) -> None:
    """shared/udacity/jungle_track_centreline.json: the road a median 0.25 m (its slab) above the terrain, 0.14 m
    at the 5th percentile, 3.78 m at the 95th, 20.14 m at most (under the bridge), never below it."""
    ground = scene_ground_m(jungle, jungle.points_m[:, 0], jungle.points_m[:, 1])
    above = jungle.heights_m - ground
    assert np.median(above) == pytest.approx(0.25, abs=0.02)
    assert np.percentile(above, 5) == pytest.approx(0.14, abs=0.02)
    assert np.percentile(above, 95) == pytest.approx(3.78, abs=0.1)
    assert above.max() == pytest.approx(20.14, abs=0.1)
    assert above.min() > 0.0
    deck_x, deck_y = jungle.points_m[int(np.argmax(above))]       # 20 m up: on the bridge (x = 76..126 at y = -34)
    assert 76.0 <= deck_x <= 126.0 and deck_y == pytest.approx(CROSSING_XY_M[1], abs=0.5)
    heights, origin_x, origin_y, cell = jungle_terrain_m()
    assert heights.shape == (513, 513) and cell * 512 == pytest.approx(500.0)          # 500 m x 500 m
    assert (origin_x, origin_y) == pytest.approx((-136.0, -285.0), abs=1e-3)


def test_generated_circuits_have_no_scene_terrain() -> None:
    track = generate_track(3, max_grade=0.1)
    assert scene_ground_m(track, track.points_m[:, 0], track.points_m[:, 1]) is None
