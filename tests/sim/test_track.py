"""Track geometry against closed-form results; the Lake track against its documented facts."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.sim.lake_track import (
    CAR_START_XZ_M,
    LAKE_LENGTH_M,
    LAKE_ROAD_WIDTH_M,
    LAKE_WAYPOINTS_XZ_M,
    catmull_rom_circuit,
)
from pilot.sim.track import (
    MIN_GAP_M,
    _grid_outline,
    circle_track,
    generate_track,
    make_track,
    named_track,
    parse_track,
    wrap_angle,
)

RADIUS_M = 50.0


def test_circle_matches_closed_form() -> None:
    track = circle_track(RADIUS_M, width_m=8.0)
    assert track.length_m == pytest.approx(2 * math.pi * RADIUS_M, rel=1e-4)
    assert np.allclose(track.curvatures_per_m, 1 / RADIUS_M, rtol=1e-3)
    for theta in (0.3, 2.0, 4.5):
        for rho in (46.0, 50.0, 53.5):                     # counter-clockwise: the centre is to the left
            point = track.nearest(rho * math.cos(theta), rho * math.sin(theta))
            assert point.cross_track_m == pytest.approx(RADIUS_M - rho, abs=2e-3)
            assert point.s_m == pytest.approx(RADIUS_M * theta, abs=2e-2)
            assert (track.progress(rho * math.cos(theta), rho * math.sin(theta))
                    == pytest.approx(theta / (2 * math.pi), abs=1e-4))
            road = theta + math.pi / 2
            assert (track.heading_error_rad(rho * math.cos(theta), rho * math.sin(theta), road + 0.2)
                    == pytest.approx(0.2, abs=2e-3))


def test_point_at_and_offset_lines_on_a_circle() -> None:
    track = circle_track(RADIUS_M)
    x, y, heading = track.point_at(RADIUS_M * math.pi / 2, lateral_m=3.0)      # a quarter lap, 3 m left (inside)
    assert (x, y) == pytest.approx((0.0, RADIUS_M - 3.0), abs=1e-2)
    assert wrap_angle(heading - math.pi) == pytest.approx(0.0, abs=1e-2)
    assert np.allclose(np.hypot(*track.offset_line(-4.0).T), RADIUS_M + 4.0, atol=1e-3)


def test_curvature_and_index_by_arc_length_agree_with_the_projection() -> None:
    assert circle_track(RADIUS_M).curvature_at(123.4) == pytest.approx(1 / RADIUS_M, rel=1e-3)
    assert circle_track(RADIUS_M).curvature_at(-5.0) == pytest.approx(1 / RADIUS_M, rel=1e-3)   # wrapped
    track = generate_track(11)
    for s_m in np.linspace(0.0, track.length_m, 37, endpoint=False) + 0.13:
        on_line = track.nearest(*track.point_at(s_m)[:2])
        assert track.index_at(s_m) == on_line.index
        assert track.curvature_at(s_m) == pytest.approx(on_line.curvature_per_m, abs=1e-9)
    assert track.index_at(track.length_m + track.s_m[5] + 0.01) == 5


def test_nearest_with_a_hint_agrees_with_the_global_search() -> None:
    track = generate_track(11)
    rng = np.random.default_rng(0)
    for index in rng.integers(0, len(track.points_m), 20):
        x, y, _ = track.point_at(track.s_m[index] + 0.2, lateral_m=float(rng.uniform(-4, 4)))
        assert track.nearest(x, y, hint_index=int(index)) == track.nearest(x, y)


@pytest.mark.parametrize("seed", [7, 11, 19, 23])
def test_generated_tracks_respect_their_limits(seed: int) -> None:
    track = generate_track(seed, length_m=700.0, width_m=8.0, max_curvature_per_m=0.045)
    assert track.length_m == pytest.approx(700.0, rel=1e-3)
    assert np.abs(track.curvatures_per_m).max() <= 0.045
    assert np.abs(track.curvatures_per_m).max() > 0.015             # it has real bends
    steps = np.hypot(*np.diff(np.vstack([track.points_m, track.points_m[:1]]), axis=0).T)
    assert steps.max() < 0.51 and steps.min() > 0.49                  # closed and evenly spaced
    assert (abs(np.angle(np.exp(1j * (np.roll(track.headings_rad, -1) - track.headings_rad))).sum())
            == pytest.approx(2 * math.pi, abs=1e-6))
    points = track.points_m[::8]                                     # distant parts stay apart
    distance = np.hypot(*(points[:, None] - points[None]).transpose(2, 0, 1))
    along = np.abs(np.subtract.outer(np.arange(len(points)), np.arange(len(points)))) * 4.0
    along = np.minimum(along, track.length_m - along)
    assert distance[along > 2 * MIN_GAP_M + 8].min() > MIN_GAP_M - 2


def test_a_seed_is_one_track() -> None:
    assert np.array_equal(generate_track(3).points_m, generate_track(3).points_m)
    assert not np.allclose(generate_track(3).points_m, generate_track(4).points_m)
    with pytest.raises(ValueError, match="at least"):
        generate_track(1, length_m=100.0, max_curvature_per_m=0.045)



@pytest.mark.parametrize("seed", [41, 43])
def test_a_cornered_circuit_joins_straights_with_arcs_of_its_radius_bending_both_ways(seed: int) -> None:
    track = generate_track(seed, length_m=700.0, width_m=9.5, max_curvature_per_m=0.1, corner_radius_m=10.0)
    assert track.length_m == pytest.approx(700.0, rel=1e-3) and track.is_flat
    curvature = track.curvatures_per_m
    assert np.abs(curvature).max() <= 0.1 * 1.1                    # resampling rounds the arcs by a few per cent
    on_arcs = np.abs(np.abs(curvature) - 0.1) < 0.01               # a 10 m radius, as the Jungle's bends
    assert on_arcs.mean() > 0.05 and (curvature > 0.09).any() and (curvature < -0.09).any()
    assert (np.abs(curvature) < 1e-3).mean() > 0.5                  # and straights between them
    assert (abs(np.angle(np.exp(1j * (np.roll(track.headings_rad, -1) - track.headings_rad))).sum())
            == pytest.approx(2 * math.pi, abs=1e-6))                 # one closed loop
    assert np.array_equal(generate_track(seed, length_m=700.0, max_curvature_per_m=0.1, corner_radius_m=10.0,
                                         width_m=9.5).points_m, track.points_m)
    hilly = generate_track(seed, length_m=700.0, width_m=9.5, max_curvature_per_m=0.1, corner_radius_m=10.0,
                           max_grade=0.15)
    assert np.array_equal(hilly.points_m, track.points_m)
    assert np.abs(hilly.grades).max() == pytest.approx(0.15, abs=0.002)
    with pytest.raises(ValueError, match="tighter than"):
        generate_track(seed, max_curvature_per_m=0.045, corner_radius_m=10.0)


@pytest.mark.parametrize("seed", [41, 43])
def test_a_grid_circuit_lays_right_angle_bends_u_turns_and_legs_side_by_side(seed: int) -> None:
    track = generate_track(seed, length_m=700.0, width_m=9.5, max_curvature_per_m=0.1, corner_radius_m=10.0,
                           layout="grid")
    assert track.length_m == pytest.approx(700.0, rel=1e-3)
    curvature = track.curvatures_per_m
    assert np.abs(curvature).max() <= 0.1 * 1.1 and (curvature > 0.09).any() and (curvature < -0.09).any()
    headings = np.unwrap(track.headings_rad)
    straight = np.abs(curvature) < 1e-3
    turned = np.degrees(headings - headings[0])[straight] % 90.0       # every straight runs along the grid
    assert np.all(np.minimum(turned, 90.0 - turned) < 2.0)
    assert headings[-1] - headings[0] == pytest.approx(2 * math.pi, abs=0.05) or \
        headings[-1] - headings[0] == pytest.approx(-2 * math.pi, abs=0.05)              # one closed loop
    assert np.array_equal(generate_track(seed, length_m=700.0, width_m=9.5, max_curvature_per_m=0.1,
                                         corner_radius_m=10.0, layout="grid").points_m, track.points_m)
    with pytest.raises(ValueError, match="layout must be one of"):
        generate_track(seed, corner_radius_m=10.0, max_curvature_per_m=0.1, layout="maze")


def test_a_grid_regions_outline_runs_counter_clockwise_round_it_and_refuses_one_that_meets_itself() -> None:
    assert _grid_outline({(0, 0), (1, 0)}).tolist() == [[0, 0], [2, 0], [2, 1], [0, 1]]
    assert len(_grid_outline({(0, 0), (1, 0), (1, 1)})) == 6                       # an L: one concave corner
    assert _grid_outline({(0, 0), (1, 1)}) is None                                 # touching at a corner only
    ring = {(i, j) for i in range(3) for j in range(3)} - {(1, 1)}
    assert _grid_outline(ring) is None                                             # a hole: two loops


def test_catmull_rom_passes_through_every_waypoint_with_a_continuous_direction() -> None:
    square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    curve = catmull_rom_circuit(square, samples_per_segment=50)
    assert np.allclose(curve[::50], square)                            # each segment starts on its waypoint
    # mid-segment: 0.5 (P1 + P2) + (P1 + P2 - P0 - P3) / 16
    assert curve[25] == pytest.approx([5.0, -1.25])
    headings = np.arctan2(*np.diff(np.vstack([curve, curve[:1]]), axis=0).T[::-1])
    turns = np.angle(np.exp(1j * (np.roll(headings, -1) - headings)))
    assert np.abs(turns).max() < 0.1 and turns.sum() == pytest.approx(2 * math.pi)    # no corner (pi/2 at once)


def test_lake_track_closes_with_the_documented_length_and_shape() -> None:
    track = named_track("lake")
    assert track.length_m == pytest.approx(LAKE_LENGTH_M, abs=0.1)     # 1138.9 m, the polygon is 1131.5 m
    steps = np.hypot(*np.diff(np.vstack([track.points_m, track.points_m[:1]]), axis=0).T)
    assert steps.max() < 0.501 and steps.min() > 0.499                 # last point meets the first: no jump
    turns = np.angle(np.exp(1j * (np.roll(track.headings_rad, -1) - track.headings_rad)))
    assert np.abs(turns).max() < 0.05                                   # the heading never jumps either
    assert turns.sum() == pytest.approx(2 * math.pi, abs=1e-6)          # counter-clockwise: mostly left bends
    assert np.ptp(track.points_m, axis=0) == pytest.approx([355.7, 319.0], abs=0.5)
    assert track.width_m == LAKE_ROAD_WIDTH_M


def test_lake_track_follows_the_waypoints_in_order_from_the_cars_spawn_point() -> None:
    track = named_track("lake")
    start = track.nearest(*CAR_START_XZ_M)
    assert start.s_m == pytest.approx(0.0, abs=0.5) or start.s_m == pytest.approx(track.length_m, abs=0.5)
    assert abs(start.cross_track_m) < 0.5                               # the car spawns on the circuit
    progress = []
    for x_m, z_m in LAKE_WAYPOINTS_XZ_M:                                # Unity (x, z) -> track (x, y): not mirrored
        point = track.nearest(x_m, z_m)
        assert abs(point.cross_track_m) < 0.01
        progress.append(point.s_m)
    assert np.all(np.diff(progress) > 0)                                # driven in waypoint order


def test_lake_track_bends_as_section_4_says() -> None:
    curvature = np.abs(named_track("lake").curvatures_per_m)
    assert np.mean(curvature > 1 / 30) == pytest.approx(0.043, abs=0.01)     # "about 4 % under 30 m radius"
    assert np.mean(curvature > 1 / 50) == pytest.approx(0.114, abs=0.01)     # "11 % under 50 m"
    assert 1 / curvature.max() == pytest.approx(11.1, abs=0.3)              # the right-hand hairpin


def test_tracks_by_seed_or_by_name() -> None:
    assert parse_track(7) == 7 and parse_track("19") == 19 and parse_track(" Lake ") == "lake"
    assert np.array_equal(make_track("7").points_m, generate_track(7).points_m)
    assert make_track("lake", length_m=700.0).length_m == pytest.approx(LAKE_LENGTH_M, abs=0.1)   # shape ignored
    for wrong in ("moon", "7.5", True):
        with pytest.raises(ValueError, match="seed .an integer. or one of lake"):
            parse_track(wrong)
