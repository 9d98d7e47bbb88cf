"""The four augmentations (imgaug semantics on OpenCV), their odds and ranges, camera choice."""
from __future__ import annotations

import numpy as np
import pytest

from pilot.data.augment import (
    AugmentationDraw,
    apply_augmentation,
    brightness,
    camera_steering,
    choose_camera,
    draw_augmentation,
    flip,
    pan,
    random_augment,
    zoom,
)
from pilot.testing.synthetic import road_frame


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
