"""View synthesis in closed form: road points and points at infinity land where the pinhole model says."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.replay.geometry import apply_homography, ground_homography, sky_homography, sky_mask, synthesise_view
from pilot.udacity.camera_rig import CameraRig

LEVEL_RIG = CameraRig(yaw_deg=0.0, roll_deg=0.0)        # pitched 9.5 deg down, as §4; mount yaw and roll apart
CENTRE = LEVEL_RIG.camera_position_m("center")


def pinhole_pixel(rig: CameraRig, camera_m: tuple[float, float], car_yaw_rad: float,
                  point_m: tuple[float, float, float]) -> tuple[float, float]:
    """Where a camera of a level rig, on a car turned by car_yaw_rad, sees a point (ahead, left, up), by hand."""
    dx, dy, dz = point_m[0] - camera_m[0], point_m[1] - camera_m[1], point_m[2] - rig.height_m
    ahead = math.cos(car_yaw_rad) * dx + math.sin(car_yaw_rad) * dy
    left = -math.sin(car_yaw_rad) * dx + math.cos(car_yaw_rad) * dy
    pitch = math.radians(rig.pitch_deg)
    right, down = -left, -ahead * math.sin(pitch) - dz * math.cos(pitch)
    depth = ahead * math.cos(pitch) - dz * math.sin(pitch)
    return rig.centre_column_px + rig.focal_px * right / depth, rig.centre_row_px + rig.focal_px * down / depth


def direction_pixel(rig: CameraRig, car_yaw_rad: float, azimuth_rad: float,
                    elevation_rad: float) -> tuple[float, float]:
    """Where a level rig's camera sees a point at infinity (azimuth to the left, elevation up), by hand."""
    far_m = 1e9
    point = (far_m * math.cos(elevation_rad) * math.cos(azimuth_rad),
             far_m * math.cos(elevation_rad) * math.sin(azimuth_rad), far_m * math.sin(elevation_rad))
    return pinhole_pixel(rig, (0.0, 0.0), car_yaw_rad, point)


def test_the_level_rig_puts_road_rows_where_section_4_says() -> None:
    # §4 (1.2 m, 9.5 deg): 3 m ahead of the camera -> row 110, 5 m -> 90, 10 m -> 74, 20 m -> 65 (Unity's rows)
    for ahead_m, row in ((3.0, 110), (5.0, 90), (10.0, 74), (20.0, 65)):
        _, v = pinhole_pixel(LEVEL_RIG, (0.0, 0.0), 0.0, (ahead_m, 0.0, 0.0))
        assert abs(v + 0.5 - row) < 0.6


@pytest.mark.parametrize("shift_m", [-1.0, -0.5, 0.5, 1.0])
@pytest.mark.parametrize("yaw_deg", [-5.0, 0.0, 5.0])
def test_a_road_point_lands_where_the_pinhole_model_says(shift_m: float, yaw_deg: float) -> None:
    yaw = math.radians(yaw_deg)
    target = (CENTRE[0], CENTRE[1] + shift_m)
    homography = ground_homography(LEVEL_RIG, CENTRE, target, yaw)
    for road_point in ((CENTRE[0] + 8.0, 1.5, 0.0), (CENTRE[0] + 4.0, -0.8, 0.0), (CENTRE[0] + 25.0, 0.3, 0.0)):
        seen_from_target = pinhole_pixel(LEVEL_RIG, target, yaw, road_point)
        seen_from_source = pinhole_pixel(LEVEL_RIG, CENTRE, 0.0, road_point)
        mapped = apply_homography(homography, *seen_from_target)
        assert mapped == pytest.approx(seen_from_source, abs=1e-6)


@pytest.mark.parametrize("shift_m, yaw_deg", [(0.5, 0.0), (-1.0, 0.0), (0.0, 5.0), (-0.5, -5.0), (1.0, 5.0)])
def test_a_painted_road_spot_moves_to_the_predicted_pixel(shift_m: float, yaw_deg: float) -> None:
    road_point = (CENTRE[0] + 7.0, 0.6, 0.0)
    source_u, source_v = pinhole_pixel(LEVEL_RIG, CENTRE, 0.0, road_point)
    target = (CENTRE[0], CENTRE[1] + shift_m)
    expected_u, expected_v = pinhole_pixel(LEVEL_RIG, target, math.radians(yaw_deg), road_point)
    rows, columns = np.mgrid[0:160, 0:320]
    spot = np.exp(-((columns - source_u) ** 2 + (rows - source_v) ** 2) / (2 * 2.0**2))
    source = np.repeat((spot * 250).astype(np.uint8)[..., None], 3, axis=2)
    view = synthesise_view(source, CENTRE, target, math.radians(yaw_deg), LEVEL_RIG)[..., 0].astype(float)
    weight = view.sum()
    assert weight > 0.5 * source[..., 0].sum()
    assert (view * columns).sum() / weight == pytest.approx(expected_u, abs=0.5)
    assert (view * rows).sum() / weight == pytest.approx(expected_v, abs=0.5)


@pytest.mark.parametrize("shift_m", [-1.0, 0.5])
@pytest.mark.parametrize("yaw_deg", [-5.0, 0.0, 5.0])
def test_a_point_at_infinity_moves_only_with_yaw(shift_m: float, yaw_deg: float) -> None:
    yaw = math.radians(yaw_deg)
    homography = sky_homography(LEVEL_RIG, yaw)
    for azimuth_deg, elevation_deg in ((0.0, 5.0), (20.0, 2.0), (-30.0, 10.0)):
        azimuth, elevation = math.radians(azimuth_deg), math.radians(elevation_deg)
        seen_from_source = direction_pixel(LEVEL_RIG, 0.0, azimuth, elevation)
        seen_from_target = direction_pixel(LEVEL_RIG, yaw, azimuth, elevation)   # a shift: nothing at infinity
        assert apply_homography(homography, *seen_from_target) == pytest.approx(seen_from_source, abs=1e-6)
        if yaw_deg == 0.0:
            assert seen_from_target == pytest.approx(seen_from_source, abs=1e-9)
    # and the composed view: a sky spot moves with the yaw, not with the shift
    u, v = direction_pixel(LEVEL_RIG, 0.0, math.radians(10.0), math.radians(8.0))
    expected = direction_pixel(LEVEL_RIG, yaw, math.radians(10.0), math.radians(8.0))
    rows, columns = np.mgrid[0:160, 0:320]
    spot = (np.exp(-((columns - u) ** 2 + (rows - v) ** 2) / 8.0) * 250).astype(np.uint8)
    view = synthesise_view(np.repeat(spot[..., None], 3, axis=2), CENTRE, (CENTRE[0], CENTRE[1] + shift_m), yaw,
                           LEVEL_RIG)[..., 0].astype(float)
    centroid = ((view * columns).sum() / view.sum(), (view * rows).sum() / view.sum())
    assert centroid == pytest.approx(expected, abs=0.5)


def test_no_move_gives_the_source_frame_back() -> None:
    source = np.random.default_rng(0).integers(0, 256, (160, 320, 3), dtype=np.uint8)
    assert np.array_equal(synthesise_view(source, CENTRE, CENTRE, 0.0), source)


def test_the_sky_mask_follows_the_rigs_tilted_horizon() -> None:
    # the rig's own closed-form horizon and vanishing point: tests/sim/test_camera.py; here the mask replay splits by
    level_rows = np.argmax(~sky_mask(LEVEL_RIG), axis=0)        # first ground row in each column
    assert np.all(level_rows == level_rows[0])
    assert abs(level_rows[0] - (79.5 - 138.564 * math.tan(math.radians(9.5)))) < 1
    rig = CameraRig()                                           # §4: rolled 1.2 deg (top to the left)
    rows = np.argmax(~sky_mask(rig), axis=0)
    assert rows[-1] - rows[0] == pytest.approx(319 * math.tan(math.radians(1.2)), abs=1.0)   # the right side lower
    assert np.all(rows == np.ceil(rig.horizon_row_px(np.arange(320.0))))   # ground from the first row below the line


def test_a_road_point_lands_right_with_the_full_simulator_mount() -> None:
    rig = CameraRig()
    k, mount = rig.intrinsics(), rig.mount_rotation()

    def project(camera_m: tuple[float, float], yaw_rad: float, point: np.ndarray) -> tuple[float, float]:
        relative = point - np.array([camera_m[0], camera_m[1], rig.height_m])
        c, s = math.cos(yaw_rad), math.sin(yaw_rad)
        in_car = np.array([c * relative[0] + s * relative[1], -s * relative[0] + c * relative[1], relative[2]])
        pixel = k @ mount @ in_car
        return pixel[0] / pixel[2], pixel[1] / pixel[2]

    source = rig.camera_position_m("left")
    target = (1.0, 0.3)
    homography = ground_homography(rig, source, target, math.radians(-4.0))
    point = np.array([9.0, -1.0, 0.0])
    assert apply_homography(homography, *project(target, math.radians(-4.0), point)) == pytest.approx(
        project(source, 0.0, point), abs=1e-6)
