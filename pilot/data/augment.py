"""The seed's four augmentations and camera choice, on OpenCV, with the seed's ranges.

The seed used imgaug (which cannot be imported under NumPy 2). These functions
reproduce imgaug 0.4.0's semantics for the calls the seed makes:

- ``iaa.Affine(scale=(1, 1.3))`` and ``iaa.Affine(translate_percent={"x": (-0.1, 0.1),
  "y": (-0.1, 0.1)})``: one affine warp about the point (w/2 - 0.5, h/2 - 0.5),
  translation in pixels = fraction * width (x) or height (y), bilinear
  (``cv2.INTER_LINEAR``), constant black fill; a warp whose matrix is within 1e-4 of
  the identity is skipped, as imgaug does.
- ``iaa.Multiply((0.2, 1.2))``: one factor per image; uint8 through a 256-entry
  float32 lookup table, clipped to 0..255 and truncated, as imgaug's uint8 path.
- ``cv2.flip(image, 1)`` with the steering negated.

``random_augment`` applies each with probability 0.5 in the seed's order: pan, zoom,
brightness, flip. All randomness comes from the numpy Generator passed in, so an
example seeded from its index is the same whatever process makes it.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pilot.udacity.simulator import CAMERAS

AUGMENT_PROBABILITY = 0.5
ZOOM_RANGE = (1.0, 1.3)              # imgaug Affine scale, same factor for x and y
PAN_RANGE_FRACTION = (-0.1, 0.1)     # imgaug translate_percent, drawn per axis
BRIGHTNESS_RANGE = (0.2, 1.2)        # imgaug Multiply, one factor per image
_IDENTITY_TOLERANCE = 1e-4           # imgaug skips warps this close to the identity


@dataclass(frozen=True)
class AugmentationDraw:
    """What random_augment decided for one image (None / False: not applied)."""

    pan_fraction_xy: tuple[float, float] | None = None
    zoom_scale: float | None = None
    brightness_factor: float | None = None
    flip: bool = False


def _affine(rgb: np.ndarray, scale: float, shift_x_px: float, shift_y_px: float) -> np.ndarray:
    """imgaug's Affine for scale+translation: about the centre, bilinear, black fill."""
    height, width = rgb.shape[:2]
    centre_x, centre_y = width / 2.0 - 0.5, height / 2.0 - 0.5
    matrix = np.array(
        [
            [scale, 0.0, centre_x - scale * centre_x + shift_x_px],
            [0.0, scale, centre_y - scale * centre_y + shift_y_px],
        ],
        dtype=np.float64,
    )
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    if np.average(np.abs(identity - full)) <= _IDENTITY_TOLERANCE:
        return rgb
    return cv2.warpAffine(
        np.ascontiguousarray(rgb),
        matrix,
        dsize=(width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )


def zoom(rgb: np.ndarray, scale: float) -> np.ndarray:
    """Scale the image about its centre by `scale` (>1 zooms in); size unchanged."""
    return _affine(rgb, scale, 0.0, 0.0)


def pan(rgb: np.ndarray, dx_fraction: float, dy_fraction: float) -> np.ndarray:
    """Shift the image by dx_fraction of its width and dy_fraction of its height (+ = right/down)."""
    height, width = rgb.shape[:2]
    return _affine(rgb, 1.0, dx_fraction * width, dy_fraction * height)


def brightness(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Multiply every channel by `factor`, clipped to 0..255 (imgaug's uint8 lookup table)."""
    table = np.arange(0, 256, dtype=np.float32) * np.float32(factor)
    return cv2.LUT(rgb, np.clip(table, 0, 255).astype(np.uint8))


def flip(rgb: np.ndarray, steering: float) -> tuple[np.ndarray, float]:
    """Mirror left-right; the steering changes sign."""
    return cv2.flip(rgb, 1), -steering


def draw_augmentation(rng: np.random.Generator) -> AugmentationDraw:
    """Decide the seed's four augmentations, each with probability 0.5, in the seed's order."""
    pan_xy = zoom_scale = factor = None
    if rng.random() < AUGMENT_PROBABILITY:
        pan_xy = (float(rng.uniform(*PAN_RANGE_FRACTION)), float(rng.uniform(*PAN_RANGE_FRACTION)))
    if rng.random() < AUGMENT_PROBABILITY:
        zoom_scale = float(rng.uniform(*ZOOM_RANGE))
    if rng.random() < AUGMENT_PROBABILITY:
        factor = float(rng.uniform(*BRIGHTNESS_RANGE))
    flipped = bool(rng.random() < AUGMENT_PROBABILITY)
    return AugmentationDraw(pan_xy, zoom_scale, factor, flipped)


def apply_augmentation(
    rgb: np.ndarray, steering: float, draw: AugmentationDraw
) -> tuple[np.ndarray, float]:
    """Apply a drawn augmentation: pan, zoom, brightness, flip (the seed's order)."""
    if draw.pan_fraction_xy is not None:
        rgb = pan(rgb, *draw.pan_fraction_xy)
    if draw.zoom_scale is not None:
        rgb = zoom(rgb, draw.zoom_scale)
    if draw.brightness_factor is not None:
        rgb = brightness(rgb, draw.brightness_factor)
    if draw.flip:
        rgb, steering = flip(rgb, steering)
    return rgb, steering


def random_augment(
    rgb: np.ndarray, steering: float, rng: np.random.Generator
) -> tuple[np.ndarray, float, AugmentationDraw]:
    """The seed's random_augment on an RGB uint8 image; also returns what was applied."""
    draw = draw_augmentation(rng)
    augmented, steering = apply_augmentation(rgb, steering, draw)
    return augmented, steering, draw


def choose_camera(rng: np.random.Generator) -> str:
    """Centre, left or right with equal probability, as the seed's 3-way expansion implies."""
    return CAMERAS[int(rng.integers(len(CAMERAS)))]


def camera_steering(steering: float, camera: str, steering_correction: float) -> float:
    """The seed's side-camera label: +correction for the left camera, -correction for the right."""
    if camera == "left":
        return steering + steering_correction
    if camera == "right":
        return steering - steering_correction
    if camera == "center":
        return steering
    raise ValueError(f"unknown camera {camera!r}: expected one of {CAMERAS}")
