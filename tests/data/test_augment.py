"""The four augmentations (imgaug semantics on OpenCV), their odds and ranges, camera choice; shadows."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from pilot.data.augment import (
    AUGMENT_PROBABILITY,
    BRIGHTNESS_RANGE,
    PAN_RANGE_FRACTION,
    SHADOW_ACROSS_ROWS_FRACTION,
    SHADOW_BRIGHTNESS_RANGE,
    SHADOW_EDGE_BLUR_PX,
    SHADOW_SEGMENT_RANGE_FRACTION,
    ZOOM_RANGE,
    AugmentationDraw,
    Shadow,
    _warp_so_far,
    apply_augmentation,
    brightness,
    camera_steering,
    choose_camera,
    draw_augmentation,
    draw_shadow,
    flip,
    mirrored_rig_homography,
    pan,
    pan_yaw_steering,
    random_augment,
    shadow,
    zoom,
)
from pilot.data.examples import ExampleSpec
from pilot.testing.synthetic import road_frame
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.images import decode_jpeg_rgb

BAND_ALONG = ((0.30, 0.0), (0.55, 0.0), (0.75, 1.0), (0.45, 1.0))     # top edge to bottom edge


def test_pan_shifts_by_a_fraction_of_width_and_height_and_fills_black():
    rgb = road_frame(0.3, noise_seed=1)
    shifted = pan(rgb, 0.1, 0.0)                      # 10 % of 320 px = 32 px to the right
    assert np.array_equal(shifted[:, 32:], rgb[:, :-32])
    assert not shifted[:, :32].any()
    shifted = pan(rgb, 0.0, -0.1)                     # 10 % of 160 px = 16 px up
    assert np.array_equal(shifted[:-16], rgb[16:])
    assert not shifted[-16:].any()


def test_zoom_scales_about_imgaugs_centre():
    # imgaug scales about (w/2 - 0.5, h/2 - 0.5): (160, 80) for a 321x161 image.
    rgb = np.zeros((161, 321, 3), np.uint8)
    rgb[80, 170] = 255                                # 10 px right of the centre
    zoomed = zoom(rgb, 2.0)
    assert zoomed[80, 180].tolist() == [255, 255, 255]   # now 20 px right of it
    assert zoomed.shape == rgb.shape
    assert int(zoomed.astype(int).sum()) > 255 * 3    # bilinear spreads the dot over its neighbours


def test_zoom_of_one_and_pan_of_zero_leave_the_image_alone():
    rgb = road_frame(-0.2, noise_seed=2)
    assert np.array_equal(zoom(rgb, 1.0), rgb)
    assert np.array_equal(pan(rgb, 0.0, 0.0), rgb)


def test_zoom_in_pushes_content_outwards_without_black_borders():
    rgb = road_frame(0.0, noise_seed=3)
    zoomed = zoom(rgb, 1.3)
    assert zoomed.min(axis=2).max() > 0 and (zoomed.sum(axis=2) > 0).all()
    assert not np.array_equal(zoomed, rgb)


def test_brightness_is_imgaugs_clipped_truncating_lookup_table():
    rgb = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    darker = brightness(rgb, 0.5)
    assert np.array_equal(darker[..., 0].ravel(), (np.arange(256) * 0.5).astype(np.uint8))
    brighter = brightness(rgb, 1.2)
    assert brighter.max() == 255 and brighter[0, 0, 0] == 0
    assert brighter[..., 0].ravel()[200] == 240 and brighter[..., 0].ravel()[250] == 255


def test_flip_mirrors_and_negates_steering():
    rgb = road_frame(0.4, noise_seed=4)
    flipped, steering = flip(rgb, 0.4)
    assert steering == -0.4
    assert np.array_equal(flipped, rgb[:, ::-1])
    again, steering = flip(flipped, steering)
    assert np.array_equal(again, rgb) and steering == 0.4


ROAD_POINTS_M = [(4.0, 1.5), (6.0, -2.0), (9.0, 0.0), (14.0, 3.0), (25.0, -1.0)]   # (ahead, left) on the road


def _mirror_column(pixel: np.ndarray, width: int = 320) -> np.ndarray:
    return np.array([width - 1.0 - pixel[0], pixel[1]])


def test_the_seeds_mirror_puts_a_road_point_where_a_camera_yawed_the_other_way_would():
    rig = CameraRig()
    centre_ahead = np.array(rig.ground_pixel(9.0, 0.0))
    mirrored = _mirror_column(centre_ahead)
    # the centre line 9 m ahead: the simulator's camera (yawed 0.72 deg right) sees it left of the middle column,
    # the mirrored frame right of it, ~3.5 px apart: the same straight road, two vanishing points
    assert 3.0 < mirrored[0] - centre_ahead[0] < 4.0


@pytest.mark.parametrize("warp", [None, AugmentationDraw(pan_fraction_xy=(0.06, -0.04), zoom_scale=1.2)])
def test_a_rig_flip_puts_every_road_point_where_the_rig_sees_its_mirror_image(warp):
    rig = CameraRig()
    warped = None if warp is None else _warp_so_far(warp, rig.width_px, rig.height_px)
    lens_map = np.eye(3) if warped is None else warped
    mirror = np.array([[-1.0, 0.0, rig.width_px - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    homography = mirrored_rig_homography(rig, warped)
    for ahead, left in ROAD_POINTS_M:
        # where the output shows the mirrored point (ahead, -left), through the mirrored pan/zoom ...
        target = mirror @ lens_map @ mirror @ np.array([*rig.ground_pixel(ahead, -left), 1.0])
        source = homography @ (target / target[2])
        # ... the input (before the mirror, after its pan/zoom) showed (ahead, left)
        seen = mirror @ (source / source[2])
        expected = lens_map @ np.array([*rig.ground_pixel(ahead, left), 1.0])
        np.testing.assert_allclose(seen[:2], expected[:2] / expected[2], atol=1e-6)


def test_a_rig_flip_moves_painted_road_points_onto_their_mirror_images():
    rig = CameraRig()
    image = np.zeros((rig.height_px, rig.width_px, 3), np.uint8)
    for ahead, left in ROAD_POINTS_M:
        column, row = rig.ground_pixel(ahead, left)
        cv2.circle(image, (round(column), round(row)), 2, (255, 255, 255), -1)
    turned, steering = flip(image, 0.3, rig)
    plain, _ = flip(image, 0.3)
    assert steering == -0.3
    for ahead, left in ROAD_POINTS_M:
        column, row = rig.ground_pixel(ahead, -left)
        patch = (slice(round(row) - 1, round(row) + 2), slice(round(column) - 1, round(column) + 2))
        assert turned[patch].mean() > 200            # the dot is where the rig sees the mirrored point
        assert plain[patch].mean() < turned[patch].mean()


def test_a_flip_mode_other_than_mirror_or_rig_is_refused():
    with pytest.raises(ValueError, match="flip must be mirror or rig"):
        ExampleSpec("train", 1, True, 0.15, flip="camera")


def test_a_pan_label_turns_the_car_back_as_pure_pursuit_does_for_that_yaw():
    import math

    from pilot.udacity.simulator import steering_for_curvature

    rig = CameraRig()
    for yaw_deg in (-8.0, 2.0, 5.0, 12.0):
        yaw = math.radians(yaw_deg)                   # the car points this far left of a straight road
        far = 2000.0
        column, _ = rig.ground_pixel(far * math.cos(yaw), -far * math.sin(yaw))
        straight, _ = rig.ground_pixel(far, 0.0)
        shift = column - straight                      # the road's vanishing point moved right by this
        expected = steering_for_curvature(-2.0 * math.sin(yaw) / 9.0)      # towards the road 9 m ahead
        assert pan_yaw_steering(shift) == pytest.approx(expected, rel=0.03)
        assert np.sign(pan_yaw_steering(shift)) == np.sign(yaw_deg)       # pointing left: steer right (+)
    assert pan_yaw_steering(0.0) == 0.0
    assert pan_yaw_steering(-32.0) == -pan_yaw_steering(32.0)
    assert pan_yaw_steering(32.0) == pytest.approx(0.327, abs=0.001)     # the seed's widest pan, 13 deg


def test_pan_steering_yaw_adds_the_pans_label_before_the_flip_negates_it():
    rgb = road_frame(0.1, noise_seed=6)
    turn = pan_yaw_steering(0.05 * rgb.shape[1])
    panned = AugmentationDraw(pan_fraction_xy=(0.05, -0.02))
    assert apply_augmentation(rgb, 0.1, panned)[1] == 0.1                             # the seed's label
    assert apply_augmentation(rgb, 0.1, panned, pan_steering="yaw")[1] == pytest.approx(0.1 + turn)
    flipped = AugmentationDraw(pan_fraction_xy=(0.05, -0.02), zoom_scale=1.2, flip=True)
    image, steering = apply_augmentation(rgb, 0.1, flipped, pan_steering="yaw")
    assert steering == pytest.approx(-(0.1 + turn))
    assert np.array_equal(image, apply_augmentation(rgb, 0.1, flipped)[0])           # the picture is the seed's
    assert apply_augmentation(rgb, 0.1, AugmentationDraw(zoom_scale=1.2), pan_steering="yaw")[1] == 0.1


def test_a_pan_steering_mode_other_than_none_or_yaw_is_refused():
    with pytest.raises(ValueError, match="augment.pan_steering must be one of none, yaw, got 'shift'"):
        ExampleSpec("train", 1, True, 0.15, pan_steering="shift")


def test_draw_uses_the_seeds_odds_and_ranges():
    rng = np.random.default_rng(0)
    draws = [draw_augmentation(rng) for _ in range(4000)]
    pans = np.array([d.pan_fraction_xy for d in draws if d.pan_fraction_xy is not None])
    zooms = np.array([d.zoom_scale for d in draws if d.zoom_scale is not None])
    factors = np.array([d.brightness_factor for d in draws if d.brightness_factor is not None])
    flips = np.array([d.flip for d in draws])
    for applied in (len(pans), len(zooms), len(factors), int(flips.sum())):
        assert 1840 < applied < 2160                  # p = 0.5, about 5 standard deviations
    assert pans.min() >= -0.1 and pans.max() <= 0.1
    assert pans[:, 0].min() < -0.095 and pans[:, 1].max() > 0.095
    assert abs(np.corrcoef(pans[:, 0], pans[:, 1])[0, 1]) < 0.1     # x and y drawn independently
    assert zooms.min() >= 1.0 and zooms.max() <= 1.3 and zooms.min() < 1.01 and zooms.max() > 1.29
    assert factors.min() >= 0.2 and factors.max() <= 1.2 and factors.min() < 0.21 and factors.max() > 1.19


def test_random_augment_is_a_function_of_the_generator():
    rgb = road_frame(0.25, noise_seed=5)
    first = random_augment(rgb, 0.25, np.random.default_rng(7))
    second = random_augment(rgb, 0.25, np.random.default_rng(7))
    assert np.array_equal(first[0], second[0]) and first[1:] == second[1:]
    image, steering, draw = first
    replayed, replayed_steering = apply_augmentation(rgb, 0.25, draw)
    assert np.array_equal(image, replayed) and steering == replayed_steering
    assert steering == (-0.25 if draw.flip else 0.25)


def test_apply_runs_pan_zoom_brightness_flip_in_the_seeds_order():
    rgb = road_frame(0.1, noise_seed=6)
    draw = AugmentationDraw(pan_fraction_xy=(0.05, -0.02), zoom_scale=1.2, brightness_factor=0.7, flip=True)
    expected, _ = flip(brightness(zoom(pan(rgb, 0.05, -0.02), 1.2), 0.7), 0.1)
    assert np.array_equal(apply_augmentation(rgb, 0.1, draw)[0], expected)


def test_cameras_are_equally_likely_and_side_cameras_get_the_correction():
    rng = np.random.default_rng(1)
    picks = [choose_camera(rng) for _ in range(3000)]
    for camera in ("center", "left", "right"):
        assert 900 < picks.count(camera) < 1100
    assert camera_steering(0.1, "left", 0.15) == pytest.approx(0.25)
    assert camera_steering(0.1, "right", 0.15) == pytest.approx(-0.05)
    assert camera_steering(0.1, "center", 0.15) == 0.1
    with pytest.raises(ValueError, match="unknown camera"):
        camera_steering(0.1, "rear", 0.15)


def _jpeg_frame(steering: float, noise_seed: int) -> np.ndarray:
    """A road frame as augment sees it: encoded as a JPEG and decoded again."""
    buffer = io.BytesIO()
    Image.fromarray(road_frame(steering, noise_seed=noise_seed)).save(buffer, format="JPEG", quality=90)
    return decode_jpeg_rgb(buffer.getvalue())


def _hard_mask(shape: tuple[int, ...], vertices_fraction) -> np.ndarray:
    height, width = shape[:2]
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(vertices_fraction) * (width, height)).astype(np.int32)], 255)
    return mask


def _seeds_draw(rng: np.random.Generator) -> AugmentationDraw:
    """The seed's draw as it was before shadows, written out: the reference for byte identity."""
    pan_xy = zoom_scale = factor = None
    if rng.random() < AUGMENT_PROBABILITY:
        pan_xy = (float(rng.uniform(*PAN_RANGE_FRACTION)), float(rng.uniform(*PAN_RANGE_FRACTION)))
    if rng.random() < AUGMENT_PROBABILITY:
        zoom_scale = float(rng.uniform(*ZOOM_RANGE))
    if rng.random() < AUGMENT_PROBABILITY:
        factor = float(rng.uniform(*BRIGHTNESS_RANGE))
    return AugmentationDraw(pan_xy, zoom_scale, factor, bool(rng.random() < AUGMENT_PROBABILITY))


def test_shadow_darkens_by_its_factor_inside_and_leaves_the_rest_alone():
    rgb = _jpeg_frame(0.2, noise_seed=7)
    shaded = shadow(rgb, BAND_ALONG, 0.55)
    hard = _hard_mask(rgb.shape, BAND_ALONG)
    reach = np.ones((SHADOW_EDGE_BLUR_PX, SHADOW_EDGE_BLUR_PX), np.uint8)      # the blur's reach, each side
    inside, outside = cv2.erode(hard, reach) > 0, cv2.dilate(hard, reach) == 0
    assert inside.sum() > 5000 and outside.sum() > 20000
    assert np.array_equal(shaded[inside], brightness(rgb, 0.55)[inside])    # x0.55, truncated as Multiply does
    assert np.array_equal(shaded[outside], rgb[outside])
    assert (shaded <= rgb).all()                                           # a shadow never brightens
    edge = ~inside & ~outside
    soft = (shaded[edge] < rgb[edge]) & (shaded[edge] > brightness(rgb, 0.55)[edge])
    assert soft.sum() > 1000                                               # the edges are blurred, not cut


def test_a_shadow_factor_of_one_changes_nothing_and_one_above_is_refused():
    rgb = _jpeg_frame(-0.3, noise_seed=8)
    assert np.array_equal(shadow(rgb, BAND_ALONG, 1.0), rgb)
    with pytest.raises(ValueError, match="from 0 to 1"):
        shadow(rgb, BAND_ALONG, 1.2)


def test_drawn_shadows_are_bands_across_or_along_the_road_within_their_ranges():
    rng = np.random.default_rng(3)
    shadows = [draw_shadow(rng) for _ in range(2000)]
    across = [s for s in shadows if s.vertices_fraction[0][0] == 0.0 and s.vertices_fraction[1][0] == 1.0]
    along = [s for s in shadows if s.vertices_fraction[0][1] == 0.0 and s.vertices_fraction[2][1] == 1.0]
    assert len(across) + len(along) == 2000 and 900 < len(across) < 1100
    lowest, highest = SHADOW_SEGMENT_RANGE_FRACTION
    for band in across:                               # left and right edges: y segments
        (_, left_top), (_, right_top), (_, right_bottom), (_, left_bottom) = band.vertices_fraction
        for top, bottom in ((left_top, left_bottom), (right_top, right_bottom)):
            assert lowest - 1e-12 <= bottom - top <= highest + 1e-12
            assert SHADOW_ACROSS_ROWS_FRACTION[0] <= (top + bottom) / 2 <= SHADOW_ACROSS_ROWS_FRACTION[1]
    for band in along:
        (top_left, _), (top_right, _), (bottom_right, _), (bottom_left, _) = band.vertices_fraction
        for left, right in ((top_left, top_right), (bottom_left, bottom_right)):
            assert lowest - 1e-12 <= right - left <= highest + 1e-12
    factors = np.array([s.brightness_factor for s in shadows])
    assert SHADOW_BRIGHTNESS_RANGE[0] <= factors.min() < 0.41 and 0.79 < factors.max() <= SHADOW_BRIGHTNESS_RANGE[1]


def test_no_shadow_probability_draws_nothing_more_than_the_seeds_four():
    for seed in range(300):
        ours, seeds = np.random.default_rng(seed), np.random.default_rng(seed)
        assert draw_augmentation(ours, shadow_probability=0.0) == _seeds_draw(seeds)
        assert ours.bit_generator.state == seeds.bit_generator.state       # the next example's draws unchanged


def test_a_shadow_comes_after_the_seeds_four_and_leaves_their_draws_alone():
    shadowed = 0
    for seed in range(300):
        draw = draw_augmentation(np.random.default_rng(seed), shadow_probability=1.0)
        assert draw.shadow is not None                                      # p = 1: every time
        assert AugmentationDraw(draw.pan_fraction_xy, draw.zoom_scale, draw.brightness_factor,
                                draw.flip) == _seeds_draw(np.random.default_rng(seed))
        shadowed += draw_augmentation(np.random.default_rng(seed), shadow_probability=0.3).shadow is not None
    assert 60 < shadowed < 120                                              # p = 0.3 of 300: 90, about 4 sd


def test_random_augment_with_shadows_is_a_function_of_the_generator():
    rgb = _jpeg_frame(0.1, noise_seed=9)
    first = random_augment(rgb, 0.1, np.random.default_rng(11), shadow_probability=1.0)
    second = random_augment(rgb, 0.1, np.random.default_rng(11), shadow_probability=1.0)
    assert first[0].tobytes() == second[0].tobytes() and first[1:] == second[1:]
    plain = random_augment(rgb, 0.1, np.random.default_rng(11))
    assert (first[0] <= plain[0]).all() and (first[0] < plain[0]).any()   # the same picture, darker in places


def test_apply_puts_the_shadow_after_the_flip():
    rgb = _jpeg_frame(0.4, noise_seed=10)
    band = Shadow(BAND_ALONG, 0.5)
    draw = AugmentationDraw(brightness_factor=0.9, flip=True, shadow=band)
    flipped, steering = flip(brightness(rgb, 0.9), 0.4)
    image, new_steering = apply_augmentation(rgb, 0.4, draw)
    assert np.array_equal(image, shadow(flipped, BAND_ALONG, 0.5)) and new_steering == steering == -0.4
