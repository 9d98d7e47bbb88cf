"""Render tests: shape, the layout the seed's crop relies on, side views, light, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from pilot.imaging import decode_jpeg_rgb
from pilot.sim.camera import Light, Renderer, encode_jpeg
from pilot.sim.episode import start_state
from pilot.sim.scenery import ASPHALT_RGB
from pilot.sim.track import circle_track


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
    hood = frame[150:, 140:180].reshape(-1, 3).mean(axis=0)
    assert hood.max() < 90 and hood[2] > hood[0]                    # dark blue-grey hood at the bottom
    road_grey = frame[110, 150:170].astype(int)
    grass = frame[110, 2:12].astype(int)                            # off-road: unlike the road
    assert np.abs(road_grey.mean(axis=0) - grass.mean(axis=0)).sum() > 60


def test_horizon_sits_at_the_top_of_the_seeds_crop(renderer: Renderer) -> None:
    here, ahead = start_state(renderer.track, 20.0, 8.0), start_state(renderer.track, 23.0, 8.0)
    ahead = type(ahead)(ahead.x_m, ahead.y_m, here.yaw_rad, 8.0)   # 3 m further, same heading
    first, second = renderer.render(here), renderer.render(ahead)
    assert np.array_equal(first[:62], second[:62])                 # sky and hills: at infinity, do not move
    changed = np.abs(first.astype(int) - second.astype(int)).sum(axis=(1, 2))
    assert (changed[64:130] > 0).all()                              # the ground below moves


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
