"""Render tests: shape, the layout the seed's crop relies on, the rig's closed-form geometry, side views, light."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.sim.camera import CENTRE_COLUMN_PX, HEIGHT_PX, HOOD_DISTANCE_M, Light, Renderer, encode_jpeg, hood_layer
from pilot.sim.episode import start_state
from pilot.sim.scenery import ASPHALT_RGB, EDGE_LINE_INSET_M, MAX_TEXTURE_PX, TEXTURE_M_PER_PX
from pilot.sim.track import Track, circle_track, named_track
from pilot.sim.vehicle import VehicleState
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.images import decode_jpeg_rgb
from pilot.udacity.simulator import REAR_AXLE_BEHIND_ROOT_M

FOCAL_PX = 80.0 / math.tan(math.radians(30.0))      # 60 degree vertical field of view over 160 rows
CENTRE_ROW_PX = 79.5                                 # Unity's principal point row 80, in pixel-centre coordinates
LEVEL_RIG = CameraRig(yaw_deg=0.0, roll_deg=0.0)     # the simulator's rig without the mount's yaw and roll


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
def test_hood_has_the_rows_and_width_of_the_real_simulators(renderer: Renderer, camera: str,
                                                            expected_shift_px: float) -> None:
    rig = renderer.rig
    shift_px = rig.focal_px * rig.camera_position_m(camera)[1] / HOOD_DISTANCE_M   # the side cameras see it aside
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
    # the rolled horizon runs from row 53.0 (left edge) to 59.6 (right edge); the panorama fills it and 1.7 rows below
    assert (renderer.ground_start_row, renderer.sky_end_row) == (55, 62)
    horizon = renderer.rig.horizon_row_px(np.arange(320))
    assert horizon[0] == pytest.approx(52.97, abs=0.01) and horizon[-1] == pytest.approx(59.65, abs=0.01)
    sky = np.arange(160)[:, None] < horizon[None, :] + 1.6
    assert np.array_equal(first[sky], second[sky])                  # sky and hills: at infinity, do not move
    changed = np.abs(first.astype(int) - second.astype(int)).sum(axis=(1, 2))
    assert (changed[renderer.sky_end_row:130] > 0).all()            # the ground below moves


def test_side_cameras_see_the_road_shifted_sideways(renderer: Renderer) -> None:
    state = start_state(renderer.track, 20.0, 8.0)
    # row 80 sees the road ~9 m ahead, all of it inside the frame (nearer, the rolled horizon and the frame's edges
    # skew the median); the exact positions are test_rendered_edge_lines_land_where_ground_pixel_says_in_every_camera's
    centres = {camera: np.median(asphalt_columns(renderer.render(state, camera), 80))
               for camera in ("left", "center", "right")}
    # the left camera sits left of the car, so the road appears to its right, and vice versa
    assert centres["left"] > centres["center"] + 8 and centres["right"] < centres["center"] - 8
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
    """Row of a flat-road point `ahead_m` ahead of a level camera: the ray's angle below the optical axis."""
    return CENTRE_ROW_PX + FOCAL_PX * math.tan(math.atan2(height_m, ahead_m) - math.radians(pitch_deg))


def metres_to_pixels_at(ahead_m: float, height_m: float = 1.2, pitch_deg: float = 9.5) -> float:
    """Image columns per metre of sideways offset for a road point `ahead_m` ahead of a level camera."""
    pitch = math.radians(pitch_deg)
    return FOCAL_PX / (ahead_m * math.cos(pitch) + height_m * math.sin(pitch))


@pytest.mark.parametrize("ahead_m, section_4_row", [(3.0, 110), (5.0, 90), (10.0, 74), (20.0, 65)])
def test_the_level_rig_puts_road_points_on_the_rows_section_4_gives(ahead_m: float, section_4_row: int) -> None:
    rig = LEVEL_RIG
    assert rig.focal_px == pytest.approx(138.564, abs=1e-3)
    assert rig.level_horizon_row_px == pytest.approx(79.5 - 138.564 * math.tan(math.radians(9.5)), abs=1e-3)   # 56.31
    assert rig.horizon_row_px(0.0) == pytest.approx(rig.level_horizon_row_px, abs=1e-9)
    assert rig.horizon_row_px(319.0) == pytest.approx(rig.level_horizon_row_px, abs=1e-9)
    camera_ahead_m = rig.camera_position_m("center")[0]                # ground_pixel measures from the car's root
    column, row = rig.ground_pixel(camera_ahead_m + ahead_m, 0.0)
    assert (column == pytest.approx(CENTRE_COLUMN_PX, abs=1e-9)
            and row == pytest.approx(closed_form_row(ahead_m), abs=1e-9))
    assert row + 0.5 == pytest.approx(section_4_row, abs=0.55)      # section 4 counts rows from the top edge
    column, _ = rig.ground_pixel(camera_ahead_m + ahead_m, 1.0)         # 1 m to the left: columns to the left
    assert CENTRE_COLUMN_PX - column == pytest.approx(metres_to_pixels_at(ahead_m), abs=1e-9)
    assert metres_to_pixels_at(10.0) == pytest.approx(13.77, abs=0.01)     # "~14 px per metre at 10 m"
    for camera in ("left", "right"):                                 # each camera from its own place
        camera_ahead_m, camera_left_m = rig.camera_position_m(camera)
        column, row = rig.ground_pixel(camera_ahead_m + ahead_m, camera_left_m, camera)
        assert (column, row) == pytest.approx((CENTRE_COLUMN_PX, closed_form_row(ahead_m)), abs=1e-9)


def test_the_simulators_mount_turns_the_vanishing_point_and_tilts_the_horizon() -> None:
    far_m = 1e7                                                      # the road's direction: its vanishing point
    yawed = CameraRig(roll_deg=0.0)                                  # 0.72 deg right: straight ahead appears left,
    column, row = yawed.ground_pixel(far_m, 0.0)                     # by f tan(0.72 deg), over cos(pitch) as the
    shift_px = FOCAL_PX * math.tan(math.radians(0.72)) / math.cos(math.radians(9.5))   # yaw turns about the vertical
    assert column == pytest.approx(CENTRE_COLUMN_PX - shift_px, abs=1e-3) and shift_px == pytest.approx(1.766, abs=1e-3)
    assert row == pytest.approx(LEVEL_RIG.level_horizon_row_px, abs=1e-3)   # still on the level horizon
    assert LEVEL_RIG.ground_pixel(far_m, 0.0) == pytest.approx((CENTRE_COLUMN_PX, LEVEL_RIG.level_horizon_row_px),
                                                               abs=1e-3)
    # and rolled 1.2 deg: the image turns about its centre
    rig = CameraRig()
    horizon = rig.horizon_row_px(np.array([0.0, 319.0]))
    assert (horizon[1] - horizon[0]) / 319.0 == pytest.approx(math.tan(math.radians(1.2)), abs=1e-9)  # right side lower
    column, row = rig.ground_pixel(far_m, 0.0)
    turn = math.radians(1.2)
    offset = np.array([yawed.ground_pixel(far_m, 0.0)]) - np.array([CENTRE_COLUMN_PX, CENTRE_ROW_PX])
    expected = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]]) @ offset[0]
    assert (column - CENTRE_COLUMN_PX, row - CENTRE_ROW_PX) == pytest.approx(tuple(expected), abs=1e-3)
    assert row == pytest.approx(float(rig.horizon_row_px(column)), abs=1e-3)   # the vanishing point is on the horizon


@pytest.mark.parametrize("camera", ["center", "left", "right"])
def test_renderer_maps_each_pixel_to_the_road_point_the_rig_projects_there(renderer: Renderer, camera: str) -> None:
    state = VehicleState(12.0, -7.0, 0.7)
    rig = renderer.rig
    camera_x, camera_y = renderer.camera_position_m(state, camera)
    ahead, left = np.array([math.cos(0.7), math.sin(0.7)]), np.array([-math.sin(0.7), math.cos(0.7)])
    root = np.array([state.x_m, state.y_m]) + REAR_AXLE_BEHIND_ROOT_M * ahead
    camera_ahead_m, camera_left_m = rig.camera_position_m(camera)
    assert np.allclose(np.array([camera_x, camera_y]) - root, camera_ahead_m * ahead + camera_left_m * left)
    s = renderer.scenery
    for ahead_m in (4.0, 6.0, 11.0, 21.0):
        for left_m in (-2.0, 0.0, 2.0):
            column, row = rig.ground_pixel(ahead_m, left_m, camera)
            u, v, w = (renderer.ground_homography(camera_x, camera_y, 0.7)
                       @ [column, row - renderer.ground_start_row, 1.0])
            texture = np.array([u / w, v / w])
            world = np.array([s.left_x_m + texture[0] * s.m_per_px, s.top_y_m - texture[1] * s.m_per_px])
            expected = root + ahead_m * ahead + left_m * left
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


def line_column_on_row(rig: CameraRig, camera: str, line_left_m: float, row: int) -> tuple[float, float]:
    """Where the camera sees a straight road line `line_left_m` left of the car's root cross a pixel row, and how
    many columns one metre sideways moves it there: the line's image is the straight line through two ground_pixels."""
    near, far = rig.ground_pixel(4.0, line_left_m, camera), rig.ground_pixel(40.0, line_left_m, camera)
    column = near[0] + (row - near[1]) * (far[0] - near[0]) / (far[1] - near[1])
    nudged_near, nudged_far = (rig.ground_pixel(4.0, line_left_m + 1.0, camera),
                               rig.ground_pixel(40.0, line_left_m + 1.0, camera))
    nudged = (nudged_near[0]
              + (row - nudged_near[1]) * (nudged_far[0] - nudged_near[0]) / (nudged_far[1] - nudged_near[1]))
    return column, abs(column - nudged)


def test_rendered_edge_lines_land_where_ground_pixel_says_in_every_camera() -> None:
    track = stadium_track()
    renderer = Renderer(track)
    rig = renderer.rig
    state = VehicleState(60.0, -30.0, 0.0)                 # on the lower straight's centre line, heading +x
    frames = {camera: renderer.render(state, camera) for camera in ("center", "left", "right")}
    for line_left_m in (3.65, -3.65):                      # both edge lines: half width 4 m less the 0.35 m inset
        assert track.half_width_m - EDGE_LINE_INSET_M == abs(line_left_m)
        for ahead_m in (6.0, 11.0, 21.0):                  # ahead of the car's root: ~5, 10, 20 m ahead of the cameras
            for camera, frame in frames.items():
                row = int(round(rig.ground_pixel(ahead_m, line_left_m, camera)[1]))
                expected, px_per_m = line_column_on_row(rig, camera, line_left_m, row)
                seen = yellow_line_column(frame, row, expected, max(3, int(0.35 * px_per_m)))
                texture_px = 0.6 * TEXTURE_M_PER_PX * px_per_m   # lines are painted to the nearest ground texel
                assert seen == pytest.approx(expected, abs=0.5 + texture_px), (line_left_m, ahead_m, camera)


def test_the_lake_track_fits_the_scenery_and_the_car_starts_looking_down_the_road() -> None:
    lake = named_track("lake")
    renderer = Renderer(lake)                                   # the 356 x 319 m loop and its margins
    assert max(renderer.scenery.ground_rgb.shape[:2]) <= MAX_TEXTURE_PX
    frame = renderer.render(start_state(lake, 0.0, 0.0))
    for row in (100, 120, 134):
        columns = asphalt_columns(frame, row)
        assert len(columns) > 100 and abs(np.median(columns) - 160) < 25
