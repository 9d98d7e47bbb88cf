"""Each track's look: the Jungle's white paint, dashed centre line and palm shadows; the generated circuits' kerbs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.sim.scenery import (
    CURB_RED_RGB,
    EDGE_LINE_INSET_M,
    GENERATED_LOOK,
    JUNGLE_LOOK,
    Scenery,
    build_scenery,
    centre_dashes,
    look_of,
)
from pilot.sim.track import circle_track, make_track, named_track
from pilot.udacity.camera_rig import CameraRig

RIG = CameraRig()


def scenery_of(track) -> Scenery:
    return build_scenery(track, track.seed or 0, int(math.floor(RIG.level_horizon_row_px)) + 2,
                         RIG.level_horizon_row_px)


def texture_at(scenery: Scenery, points_m: np.ndarray) -> np.ndarray:
    """The ground texture's RGB at each (x, y) in metres (nearest pixel)."""
    columns = np.round((points_m[:, 0] - scenery.left_x_m) / scenery.m_per_px).astype(int)
    rows = np.round((scenery.top_y_m - points_m[:, 1]) / scenery.m_per_px).astype(int)
    return scenery.ground_rgb[rows, columns].astype(int)


def is_paint(rgb: np.ndarray) -> np.ndarray:
    return rgb.min(axis=1) > 200


@pytest.fixture(scope="module")
def jungle_scenery() -> Scenery:
    return scenery_of(named_track("jungle"))


def test_named_tracks_choose_their_look() -> None:
    assert look_of(named_track("jungle")) is JUNGLE_LOOK
    assert look_of(named_track("lake")) is GENERATED_LOOK
    assert look_of(make_track(7)) is GENERATED_LOOK


def test_a_generated_circuit_can_wear_the_jungles_paint_and_an_unknown_look_is_refused() -> None:
    track = make_track(7)
    painted = build_scenery(track, 7, int(math.floor(RIG.level_horizon_row_px)) + 2, RIG.level_horizon_row_px,
                            look="jungle")
    assert painted.look is JUNGLE_LOOK
    centre = is_paint(texture_at(painted, track.points_m)).mean()
    assert centre == pytest.approx(1 / 3, abs=0.06)                  # 3 m dashes every 9 m
    with pytest.raises(ValueError, match="unknown look 'moon'"):
        look_of(track, "moon")


def test_centre_dashes_are_a_dash_long_and_one_period_apart() -> None:
    track = circle_track(150.0)                                # 942 m: 104 full periods of 3 + 6 m
    dashes = centre_dashes(track, JUNGLE_LOOK)
    period = JUNGLE_LOOK.centre_dash_m + JUNGLE_LOOK.centre_gap_m
    spacing = track.length_m / len(track.points_m)
    lengths = [float(np.hypot(*np.diff(dash, axis=0).T).sum()) for dash in dashes]
    assert len(dashes) == math.ceil(track.length_m / period)
    assert all(abs(length - JUNGLE_LOOK.centre_dash_m) <= 1.01 * spacing for length in lengths[:-1])
    starts = [track.nearest(*dash[0]).s_m for dash in dashes]
    assert np.allclose(np.diff(starts), period, atol=1.01 * spacing)
    assert centre_dashes(track, GENERATED_LOOK) == []             # no centre line on the generated circuits


def test_the_jungle_has_white_edges_a_dashed_centre_line_and_no_kerbs(jungle_scenery: Scenery) -> None:
    jungle = named_track("jungle")
    look = jungle_scenery.look
    centre = is_paint(texture_at(jungle_scenery, jungle.points_m))
    assert centre.mean() == pytest.approx(look.centre_dash_m / (look.centre_dash_m + look.centre_gap_m), abs=0.06)
    for side in (-1.0, 1.0):
        edge = texture_at(jungle_scenery, jungle.offset_line(side * (jungle.half_width_m - EDGE_LINE_INSET_M)))
        assert is_paint(edge).mean() > 0.8                          # white (where no palm's shadow falls)
    red = np.abs(jungle_scenery.ground_rgb.astype(int) - np.array(CURB_RED_RGB)).sum(axis=2) < 60
    assert not red.any()


def test_generated_circuits_keep_their_yellow_edges_and_kerbs() -> None:
    track = make_track(7)
    scenery = scenery_of(track)
    assert not is_paint(texture_at(scenery, track.points_m)).any()   # no centre line
    edge = texture_at(scenery, track.offset_line(track.half_width_m - EDGE_LINE_INSET_M))
    assert (edge[:, 2] < edge[:, 0] - 60).mean() > 0.9              # yellow: blue well under red
    red = np.abs(scenery.ground_rgb.astype(int) - np.array(CURB_RED_RGB)).sum(axis=2) < 60
    assert red.any()


def shaded_share(scenery: Scenery, track, lane_offset_m: float) -> float:
    """Share of mid-lane texture pixels darker than 0.6 of the lanes' median: shadows, not the asphalt's grain."""
    lanes = np.vstack([track.offset_line(side * lane_offset_m) for side in (-1.0, 1.0)])
    brightness = texture_at(scenery, lanes).mean(axis=1)
    return float((brightness < 0.6 * np.median(brightness)).mean())


def test_palm_shadows_darken_a_small_share_of_the_jungles_lanes(jungle_scenery: Scenery) -> None:
    assert 0.01 < shaded_share(jungle_scenery, named_track("jungle"), 2.4) < 0.15
    lake = named_track("lake")                                           # the other looks draw none
    assert shaded_share(scenery_of(lake), lake, 1.6) < 0.002
