"""Render tests: shape, the layout the seed's crop relies on, the rig's closed-form geometry, side views, light."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.imaging import decode_jpeg_rgb
from pilot.sim.camera import (CENTRE_COLUMN_PX, CENTRE_ROW_PX, HEIGHT_PX, HOOD_DISTANCE_M, CameraRig, Light, Renderer,
                               encode_jpeg, hood_layer)
from pilot.sim.episode import start_state
from pilot.sim.scenery import ASPHALT_RGB, EDGE_LINE_INSET_M, MAX_TEXTURE_PX, TEXTURE_M_PER_PX
from pilot.sim.track import Track, circle_track, named_track
from pilot.sim.vehicle import VehicleState

FOCAL_PX = 80.0 / math.tan(math.radians(30.0))      # 60 degree vertical field of view over 160 rows


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    track = circle_track(150.0, width_m=8.0)        # a gentle left bend: near-straight over the crop's few metres
    track.seed = 2
    return Renderer(track)


def asphalt_columns(frame: np.ndarray, row: int) -> np.ndarray:
    """Columns of a row whose colour is close to the asphalt's grey."""
    distance = np.abs(frame[row].astype(int) - np.array(ASPHALT_RGB)).sum(axis=1)
    return np.flatnonzero(distance < 60)


def test_frame_layout_matches_the_simulators(renderer: Renderer) -> None:
    frame = renderer.render(start_state(renderer.track, 20.0, 8.0))
    assert frame.shape == (160, 320, 3) and frame.dtype == np.uint8
    sky = frame[:20].reshape(-1, 3).mean(axis=0)
    assert sky[2] > sky[0] + 40                                     # blue sky on top
    for row in (80, 100, 125):                                      # road straight ahead, inside the crop
        columns = asphalt_columns(frame, row)
        assert len(columns) > 80 and abs(np.median(columns) - 160) < 20
    hood = frame[145:, 140:180].reshape(-1, 3).mean(axis=0)
    assert 95 < hood.mean() < 140 and hood[2] > hood[0] + 10        # blue-grey hood at the bottom ...
    assert len(asphalt_columns(frame, 135)) > 150                    # ... below the seed's crop (rows 60:135)
    road_grey = frame[90, 150:170].astype(int)
    grass = frame[90, 2:12].astype(int)                             # 5 m ahead, 5.5 m aside: off-road, unlike the road
    assert np.abs(road_grey.mean(axis=0) - grass.mean(axis=0)).sum() > 60


@pytest.mark.parametrize("camera, expected_shift_px", [("center", 0.0), ("left", 134.6), ("right", -137.7)])
def test_hood_has_the_rows_and_width_of_the_real_simulators(renderer: Renderer, camera: str, expected_shift_px: float) -> None:
    rig = renderer.rig
    shift_px = rig.focal_px * rig.left_of_centre_m(camera) / HOOD_DISTANCE_M     # the side cameras see it aside
    assert shift_px == pytest.approx(expected_shift_px, abs=0.1)
    rgb, mask = hood_layer(shift_px)
    top = HEIGHT_PX - mask.shape[0]
    middle = int(round(CENTRE_COLUMN_PX + shift_px))
    if 0 <= middle < 320:
        assert top + np.flatnonzero(mask[:, middle])[0] == 137      # the hood's rim, just below the seed's crop
    bottom = np.flatnonzero(mask[-1])                               # ~108 px either side of its middle
    assert bottom.min() == pytest.approx(max(0.0, CENTRE_COLUMN_PX + shift_px - 108), abs=1.5)
    assert bottom.max() == pytest.approx(min(319.0, CENTRE_COLUMN_PX + shift_px + 108), abs=1.5)
    frame = renderer.render(start_state(renderer.track, 20.0, 8.0), camera)
    assert np.array_equal(frame[top:][mask], rgb[mask])              # drawn over the road
    assert (frame[top:][mask][:, 2] > frame[top:][mask][:, 0] + 5).all()    # blue-grey


def test_sky_stays_put_and_the_ground_moves_below_the_horizon(renderer: Renderer) -> None:
    here, ahead = start_state(renderer.track, 20.0, 8.0), start_state(renderer.track, 23.0, 8.0)
    ahead = type(ahead)(ahead.x_m, ahead.y_m, here.yaw_rad, 8.0)   # 3 m further, same heading
    first, second = renderer.render(here), renderer.render(ahead)
    sky_rows = renderer.ground_first_row
    assert sky_rows == 58                                           # horizon at row 56.3, two rows of margin
    assert np.array_equal(first[:sky_rows], second[:sky_rows])     # sky and hills: at infinity, do not move
    changed = np.abs(first.astype(int) - second.astype(int)).sum(axis=(1, 2))
    assert (changed[sky_rows + 2:130] > 0).all()                    # the ground below moves


def test_side_cameras_see_the_road_shifted_sideways(renderer: Renderer) -> None:
    state = start_state(renderer.track, 20.0, 8.0)
    centres = {camera: np.median(asphalt_columns(renderer.render(state, camera), 100))
               for camera in ("left", "center", "right")}
    # the left camera sits left of the car, so the road appears to its right, and vice versa
    assert centres["left"] > centres["center"] + 20 and centres["right"] < centres["center"] - 20
    assert centres["left"] - centres["center"] == pytest.approx(centres["center"] - centres["right"], abs=4)


def test_light_and_jpeg(renderer: Renderer) -> None:
    state = start_state(renderer.track, 20.0, 8.0)
    dark, bright = renderer.render(state, light=Light(0.6)), renderer.render(state, light=Light(1.2))
    assert dark.mean() < 0.65 * bright.mean()
    warm = renderer.render(state, light=Light(1.0, warmth=0.8)).reshape(-1, 3).mean(axis=0)
    neutral = renderer.render(state).reshape(-1, 3).mean(axis=0)
    assert warm[0] > neutral[0] and warm[2] < neutral[2]
    jpeg = encode_jpeg(bright)
    decoded = decode_jpeg_rgb(jpeg)
    assert decoded.shape == (160, 320, 3) and np.abs(decoded.astype(int) - bright).mean() < 6


def test_same_track_seed_same_pixels(renderer: Renderer) -> None:
    state = start_state(renderer.track, 50.0, 8.0)
    again = Renderer(renderer.track)
    assert np.array_equal(renderer.render(state, "left"), again.render(state, "left"))


def closed_form_row(ahead_m: float, height_m: float = 1.2, pitch_deg: float = 9.5) -> float:
    """Row of a flat-road point `ahead_m` ahead of the camera: the ray's angle below the optical axis."""
    return CENTRE_ROW_PX + FOCAL_PX * math.tan(math.atan2(height_m, ahead_m) - math.radians(pitch_deg))


def metres_to_pixels_at(ahead_m: float, height_m: float = 1.2, pitch_deg: float = 9.5) -> float:
    """Image columns per metre of sideways offset for a road point `ahead_m` ahead (focal over depth)."""
    pitch = math.radians(pitch_deg)
    return FOCAL_PX / (ahead_m * math.cos(pitch) + height_m * math.sin(pitch))


@pytest.mark.parametrize("ahead_m, section_4_row", [(3.0, 110), (5.0, 90), (10.0, 74), (20.0, 65)])
def test_rig_puts_road_points_on_the_rows_section_4_gives(ahead_m: float, section_4_row: int) -> None:
    rig = CameraRig()
    assert rig.focal_px == pytest.approx(138.564, abs=1e-3)
    assert rig.horizon_row_px == pytest.approx(79.5 - 138.564 * math.tan(math.radians(9.5)), abs=1e-3)   # 56.31
    column, row = rig.ground_pixel(ahead_m, 0.0)
    assert column == CENTRE_COLUMN_PX and row == pytest.approx(closed_form_row(ahead_m), abs=1e-9)
    assert row + 0.5 == pytest.approx(section_4_row, abs=0.55)      # section 4 counts rows from the top edge
    column, _ = rig.ground_pixel(ahead_m, 1.0)                       # 1 m to the left: columns to the left
    assert CENTRE_COLUMN_PX - column == pytest.approx(metres_to_pixels_at(ahead_m), abs=1e-9)
    assert metres_to_pixels_at(10.0) == pytest.approx(13.77, abs=0.01)     # "~14 px per metre at 10 m"


@pytest.mark.parametrize("camera", ["center", "left", "right"])
def test_renderer_maps_each_pixel_to_the_road_point_the_rig_projects_there(renderer: Renderer, camera: str) -> None:
    state = VehicleState(12.0, -7.0, 0.7)
    camera_x, camera_y = renderer.camera_position_m(state, camera)
    ahead, left = np.array([math.cos(0.7), math.sin(0.7)]), np.array([-math.sin(0.7), math.cos(0.7)])
    rear_axle = np.array([state.x_m, state.y_m])
    assert np.allclose(np.array([camera_x, camera_y]) - rear_axle,
                       2.6 * ahead + renderer.rig.left_of_centre_m(camera) * left)   # 1.6 m to the root, 1.0 m on
    s = renderer.scenery
    for ahead_m in (3.0, 5.0, 10.0, 20.0):
        for left_m in (-2.0, 0.0, 2.0):
            column, row = renderer.rig.ground_pixel(ahead_m, left_m)
            u, v, w = renderer.ground_homography(camera_x, camera_y, 0.7) @ [column, row - renderer.ground_first_row, 1.0]
            texture = np.array([u / w, v / w])
            world = np.array([s.left_x_m + texture[0] * s.m_per_px, s.top_y_m - texture[1] * s.m_per_px])
            expected = np.array([camera_x, camera_y]) + ahead_m * ahead + left_m * left
            assert world == pytest.approx(expected, abs=1e-6)


def stadium_track(straight_m: float = 240.0, radius_m: float = 30.0, width_m: float = 8.0) -> Track:
    """Two long straights joined by half circles, counter-clockwise, the lower straight along y = -radius."""
    spacing = 0.5
    bottom = np.stack([np.arange(0.0, straight_m, spacing), np.full(int(straight_m / spacing), -radius_m)], axis=1)
    angles = np.arange(-np.pi / 2, np.pi / 2, spacing / radius_m)
    right_bend = np.stack([straight_m + radius_m * np.cos(angles), radius_m * np.sin(angles)], axis=1)
    top = np.stack([straight_m - bottom[:, 0], np.full(len(bottom), radius_m)], axis=1)
    left_bend = np.stack([-radius_m * np.cos(angles), -radius_m * np.sin(angles)], axis=1)
    track = Track(np.vstack([bottom, right_bend, top, left_bend]), width_m)
    track.seed = 4
    return track


def yellow_line_column(frame: np.ndarray, row: int, near: float, window: int) -> float:
    """Centre of the yellow edge line on a row, within `window` columns of `near` (weighted by yellowness)."""
    lo = int(round(near)) - window
    pixels = frame[row, lo: lo + 2 * window + 1].astype(float)
    yellowness = np.clip((pixels[:, 0] + pixels[:, 1]) / 2 - pixels[:, 2] - 100.0, 0, None)   # line 138, grass < 100
    assert yellowness.sum() > 0, f"no yellow line near column {near:.1f} on row {row}"
    return lo + float((yellowness * np.arange(len(yellowness))).sum() / yellowness.sum())


def ahead_of_row(row: float, height_m: float = 1.2, pitch_deg: float = 9.5) -> float:
    """Distance ahead of the camera of the flat-road points a row sees (inverse of closed_form_row)."""
    return height_m / math.tan(math.atan((row - CENTRE_ROW_PX) / FOCAL_PX) + math.radians(pitch_deg))


def test_rendered_edge_lines_land_where_the_pinhole_says_and_shift_in_the_side_cameras() -> None:
    track = stadium_track()
    renderer = Renderer(track)
    state = VehicleState(60.0, -30.0, 0.0)                 # on the lower straight's centre line, heading +x
    for line_left_m in (3.65, -3.65):                      # both edge lines: half width 4 m less the 0.35 m inset
        assert track.half_width_m - EDGE_LINE_INSET_M == abs(line_left_m)
        frames = {camera: renderer.render(state, camera) for camera in ("center", "left", "right")}
        for ahead_m in (5.0, 10.0, 20.0):
            row = int(round(closed_form_row(ahead_m)))     # 89, 73, 65: the pixel rows nearest those distances
            px_per_m = metres_to_pixels_at(ahead_of_row(row))
            expected = {camera: CENTRE_COLUMN_PX - (line_left_m - renderer.rig.left_of_centre_m(camera)) * px_per_m
                        for camera in frames}
            seen = {camera: yellow_line_column(frames[camera], row, expected[camera], max(3, int(0.35 * px_per_m)))
                    for camera in frames}
            texture_px = 0.6 * TEXTURE_M_PER_PX * px_per_m   # lines are painted to the nearest ground texel
            for camera in frames:
                assert seen[camera] == pytest.approx(expected[camera], abs=0.5 + texture_px), (line_left_m, ahead_m, camera)
            # the side cameras are pure sideways shifts: 0.806 m and 0.825 m at ~14 px per metre at 10 m
            assert seen["left"] - seen["center"] == pytest.approx(0.806 * px_per_m, abs=0.5), (line_left_m, ahead_m)
            assert seen["center"] - seen["right"] == pytest.approx(0.825 * px_per_m, abs=0.5), (line_left_m, ahead_m)


def test_the_lake_track_fits_the_scenery_and_the_car_starts_looking_down_the_road() -> None:
    lake = named_track("lake")
    renderer = Renderer(lake)                                   # the 356 x 319 m loop and its margins
    assert max(renderer.scenery.ground_rgb.shape[:2]) <= MAX_TEXTURE_PX
    frame = renderer.render(start_state(lake, 0.0, 0.0))
    for row in (100, 120, 134):
        columns = asphalt_columns(frame, row)
        assert len(columns) > 100 and abs(np.median(columns) - 160) < 25
