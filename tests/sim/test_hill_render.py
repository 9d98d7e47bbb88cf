"""Render tests for tracks with heights: flat tracks unchanged to the byte, rows where the geometry puts them,
crests that hide, the horizon moving with the pitch, and the Jungle's bridge deck seen from the deck."""
from __future__ import annotations

import dataclasses
import hashlib
import math

import cv2
import numpy as np
import pytest

from pilot.sim.camera import Light, Renderer
from pilot.sim.episode import start_state
from pilot.sim.scenery import Scenery, build_scenery
from pilot.sim.terrain import build_terrain, scene_ground_m
from pilot.sim.track import Track, generate_track, named_track
from pilot.sim.vehicle import VehicleState
from pilot.udacity.camera_rig import CameraRig

LEVEL_RIG = CameraRig(yaw_deg=0.0, roll_deg=0.0)     # columns and rows in closed form
FOCAL_PX = LEVEL_RIG.focal_px
CENTRE_ROW_PX = LEVEL_RIG.centre_row_px
PITCH_DOWN_RAD = math.radians(LEVEL_RIG.pitch_deg)
STRAIGHT_M = 300.0                                   # the stadium's straights, along +x from (0, 0) and back
BEND_RADIUS_M = 60.0
MAGENTA = (255, 0, 255)
CYAN = (0, 255, 255)


def stadium(heights_along_straight) -> Track:
    """A closed stadium: +x straight from the origin, a bend, -x straight back, a bend; every 0.5 m. Heights:
    `heights_along_straight(x)` on the first straight, then back to its start height along the return."""
    out = np.stack([np.arange(0.0, STRAIGHT_M, 0.5), np.zeros(int(STRAIGHT_M / 0.5))], axis=1)
    angles = np.arange(0.0, math.pi, 0.5 / BEND_RADIUS_M)
    bend = np.stack([STRAIGHT_M + BEND_RADIUS_M * np.sin(angles), BEND_RADIUS_M * (1 - np.cos(angles))], axis=1)
    back = out[::-1] + [0.0, 2 * BEND_RADIUS_M]
    back_bend = np.stack([-BEND_RADIUS_M * np.sin(angles[1:]), BEND_RADIUS_M * (1 + np.cos(angles[1:]))], axis=1)
    points = np.vstack([out, bend, back, back_bend])
    first = np.array([heights_along_straight(x) for x in out[:, 0]])
    end, start = first[-1], first[0]
    ramp_back = np.linspace(end, start, len(bend) + len(back) + len(back_bend))
    return Track(points, 8.0, seed=5, heights_m=np.concatenate([first, ramp_back]))


def world_with_paint(track: Track, boxes: list[tuple[float, float, float, float, tuple[int, int, int]]],
                     rig: CameraRig = LEVEL_RIG) -> tuple[Scenery, Renderer]:
    """A renderer for `track` with no hills, its ground painted with (x0, x1, y0, y1, rgb) boxes."""
    scenery = build_scenery(track, 5, int(math.floor(rig.level_horizon_row_px)) + 2, rig.level_horizon_row_px)
    for x0, x1, y0, y1, rgb in boxes:
        per_px = scenery.m_per_px
        columns = slice(int((x0 - scenery.left_x_m) / per_px), int((x1 - scenery.left_x_m) / per_px))
        rows = slice(int((scenery.top_y_m - y1) / per_px), int((scenery.top_y_m - y0) / per_px))
        scenery.ground_rgb[rows, columns] = rgb
    return scenery, Renderer(track, scenery, rig, build_terrain(track, scenery, hill_height_m=0.0))


def painted_rows(frame: np.ndarray, rgb: tuple[int, int, int], column: int = 160) -> np.ndarray:
    """Rows of a column whose colour is near `rgb` (magenta or cyan: far from anything else in the world)."""
    distance = np.abs(frame[:, column].astype(int) - np.array(rgb)).max(axis=1)
    return np.flatnonzero(distance < 75)


def row_of(distance_m: float, rise_m: float, pitch_up_rad: float = 0.0) -> float:
    """Row where a level rig pitched `pitch_up_rad` nose up sees a point `distance_m` ahead, `rise_m` above it."""
    return CENTRE_ROW_PX + FOCAL_PX * math.tan(math.atan2(-rise_m, distance_m) - PITCH_DOWN_RAD + pitch_up_rad)


def test_flat_tracks_render_to_the_bytes_they_did_before_hills() -> None:
    # sha256 of frames drawn by commit 49ce2cd (before pilot.sim.hills existed), same track, poses and cameras
    expected = ("b1c74aa4da47993a007b4d2af29e103fd09f364c1a3a2f36d755fbea278ab828",
                "746211440ac1c960009a815228993f22d1b0e3d10905aed99e2545d82e92763a",
                "fdaa4c46bf24f2b30c1a6bcf6a502d73771e886af820d7123ea100f719191ce8",
                "452f3bd6cf8691379714d84ed1ddf45ccdca48c2dc293501f0927ef97f902c2b")
    track = generate_track(3, length_m=500.0)
    renderer = Renderer(track)
    assert renderer.hills is None
    aside_x, aside_y, heading = track.point_at(400.0, 1.5)
    cases = [(start_state(track, 0.0, 5.0), "center", Light()), (start_state(track, 120.0, 5.0), "left", Light()),
             (start_state(track, 260.0, 5.0), "right", Light(0.8, 0.3)),
             (VehicleState(aside_x, aside_y, heading + 0.2), "center", Light())]
    digests = tuple(hashlib.sha256(renderer.render(state, camera, light).tobytes()).hexdigest()
                    for state, camera, light in cases)
    assert digests == expected


def test_a_stripe_on_a_climb_ahead_lands_on_the_row_the_geometry_says() -> None:
    grade = 0.2                                       # flat to x = 100 m, then 20 % up to 5 m, then a plateau
    track = stadium(lambda x: float(np.clip((x - 100.0) * grade, 0.0, 5.0)))
    stripe_x = 112.0                                  # 2.4 m up the climb
    _, renderer = world_with_paint(track, [(stripe_x - 1.0, stripe_x + 1.0, -3.0, 3.0, MAGENTA)])
    state = start_state(track, 80.0)
    camera_x, _ = renderer.camera_position_m(state)
    frame = renderer.render(state)
    rows = painted_rows(frame, MAGENTA)
    assert len(rows) > 0
    expected = row_of(stripe_x - camera_x, (stripe_x - 100.0) * grade - LEVEL_RIG.height_m)
    assert rows.mean() == pytest.approx(expected, abs=1.0)
    flat_expected = row_of(stripe_x - camera_x, -LEVEL_RIG.height_m)
    assert abs(flat_expected - expected) > 5        # the climb lifts it well above where a flat road would put it


def test_a_crest_hides_the_road_beyond_it() -> None:
    # up to a 5 m plateau, then 20 % down to -5 m: from the plateau, the road beyond the crest (x = 150 m) is hidden
    track = stadium(lambda x: float(np.clip((x - 20.0) * 0.1, 0.0, 5.0) - np.clip((x - 150.0) * 0.2, 0.0, 10.0)))
    _, renderer = world_with_paint(track, [(135.0, 150.0, -3.0, 3.0, CYAN), (151.0, 300.0, -4.0, 4.0, MAGENTA)])
    state = start_state(track, 115.0)
    camera_x, _ = renderer.camera_position_m(state)
    frame = renderer.render(state)
    magenta = np.abs(frame.astype(int) - np.array(MAGENTA)).max(axis=2) < 75
    assert not magenta.any()
    crest_row = row_of(150.0 - camera_x, -LEVEL_RIG.height_m)
    cyan = painted_rows(frame, CYAN)
    assert cyan.min() == pytest.approx(crest_row, abs=1.5)      # the crest's edge is the road's silhouette
    # without the crest's cover, the same paint shows: a flat world sees the road down to there
    flat_track = stadium(lambda x: 0.0)
    _, flat_renderer = world_with_paint(flat_track, [(151.0, 300.0, -4.0, 4.0, MAGENTA)])
    assert len(painted_rows(flat_renderer.render(start_state(flat_track, 115.0)), MAGENTA)) >= 2


def test_the_horizon_moves_with_the_cars_pitch() -> None:
    grade = 0.1
    track = stadium(lambda x: float(np.clip((x - 100.0) * grade, 0.0, 10.0)))
    scenery, _ = world_with_paint(track, [])
    band_row = 30                                     # a red line painted across the sky, ~10 degrees up
    panorama = np.full_like(scenery.panorama_rgb, (90, 140, 220))
    panorama[band_row] = (255, 0, 0)
    scenery = dataclasses.replace(scenery, panorama_rgb=panorama)
    renderer = Renderer(track, scenery, LEVEL_RIG, build_terrain(track, scenery, hill_height_m=0.0))
    rows = []
    for s_m in (40.0, 140.0):                         # on the flat, then well up the 10 % climb
        frame = renderer.render(start_state(track, s_m))
        rows.append(np.flatnonzero((frame[:, 160, 0] > 170) & (frame[:, 160, 1] < 80)).mean())
    pitch = math.atan(grade)
    # a sky row seen at elevation e: the level rig sees it at cy - f tan(e - pitch down); nose up adds `pitch`
    elevation = math.atan2(CENTRE_ROW_PX - band_row, FOCAL_PX) - PITCH_DOWN_RAD
    assert rows[0] == pytest.approx(band_row, abs=0.6)
    assert rows[1] == pytest.approx(CENTRE_ROW_PX - FOCAL_PX * math.tan(elevation + PITCH_DOWN_RAD - pitch), abs=0.8)
    assert rows[1] - rows[0] == pytest.approx(FOCAL_PX * math.tan(pitch), rel=0.15)   # ~ f tan(pitch change)


@pytest.fixture(scope="module")
def jungle() -> Track:
    return named_track("jungle")


def test_from_the_bridge_deck_the_road_ahead_is_the_deck_not_the_road_below(jungle: Track) -> None:
    rig = CameraRig()
    scenery = build_scenery(jungle, 0, int(math.floor(rig.level_horizon_row_px)) + 2, rig.level_horizon_row_px)
    below = np.flatnonzero(np.abs(jungle.s_m - 1352.2) < 40.0)         # the lower road, 40 m either side of the bridge
    to_px = np.stack([(jungle.points_m[below, 0] - scenery.left_x_m) / scenery.m_per_px,
                      (scenery.top_y_m - jungle.points_m[below, 1]) / scenery.m_per_px], axis=1)
    cv2.polylines(scenery.ground_rgb, [np.round(to_px).astype(np.int32)], False, MAGENTA,
                  int(jungle.width_m / scenery.m_per_px))
    renderer = Renderer(jungle, scenery, rig)
    state = start_state(jungle, 826.0)                 # on the deck, 10 m before it crosses the lower road
    deck_height = jungle.height_at(826.0)
    frame = renderer.render(state)
    assert renderer.terrain.crossings[0].deck_in_use
    top, bottom = (int(round(row_of(d, -rig.height_m))) for d in (18.0, 3.0))
    deck_view = frame[top: bottom + 1, 140:181].astype(int)
    assert not (np.abs(deck_view - np.array(MAGENTA)).max(axis=2) < 75).any()
    assert np.median(np.abs(deck_view - np.array(scenery.look.asphalt_rgb)).sum(axis=2)) < 45   # the deck's asphalt
    assert deck_height - jungle.height_at(1352.2) == pytest.approx(20.0, abs=0.1)
    # from the lower road, the lower road under the bridge is the surface (its own branch, not the deck)
    renderer.render(start_state(jungle, 1330.0))
    assert not renderer.terrain.crossings[0].deck_in_use


def test_the_jungle_stands_on_its_scene_terrain_off_the_road(jungle: Track) -> None:
    rig = CameraRig()
    scenery = build_scenery(jungle, 0, int(math.floor(rig.level_horizon_row_px)) + 2, rig.level_horizon_row_px)
    terrain = build_terrain(jungle, scenery)
    rows, columns = np.mgrid[0:terrain.heights_m.shape[0]:37, 0:terrain.heights_m.shape[1]:37]
    x = terrain.left_x_m + (columns + 0.5) * terrain.cell_m
    y = terrain.top_y_m - (rows + 0.5) * terrain.cell_m
    scene = scene_ground_m(jungle, x, y)
    off_road = np.array([abs(jungle.nearest(px, py).cross_track_m) > jungle.half_width_m + 1.0
                         for px, py in zip(x.ravel(), y.ravel())]).reshape(x.shape) & np.isfinite(scene)
    assert off_road.sum() > 500
    np.testing.assert_allclose(terrain.heights_m[rows, columns][off_road], scene[off_road], atol=1e-3)
    on_road = np.argmin(np.abs(jungle.s_m - 300.0))                 # and the road keeps its own heights
    px, py = jungle.points_m[on_road]
    row, column = int((terrain.top_y_m - py) / terrain.cell_m), int((px - terrain.left_x_m) / terrain.cell_m)
    assert terrain.heights_m[row, column] == pytest.approx(jungle.heights_m[on_road], abs=0.05)
