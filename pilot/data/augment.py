"""The seed's four augmentations and camera choice, on OpenCV, with the seed's ranges; and shadows.

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

The seed's flip mirrors the picture, not the camera: the simulator's cameras are yawed 0.72
degrees right and rolled 1.2 degrees, so a mirrored frame is what a camera yawed 0.72 degrees
*left* (and rolled the other way) would see. Half the examples then put a straight road's
vanishing point ~3.5 px to the other side for the same label, and the model settles between
the two: a steady heading error, ~0.1 m off the line at the expert's 9 m look-ahead.
``flip(..., rig=...)`` (``augment.flip: rig``) mirrors and then turns the view back to the
rig's yaw and roll (a rotation about the camera's centre: a homography, exact at any depth).

``random_augment`` applies each with probability 0.5 in the seed's order: pan, zoom,
brightness, flip. All randomness comes from the numpy Generator passed in, so an
example seeded from its index is the same whatever process makes it.

Shadows are not the seed's: the Jungle track has palm shadows across the road, which the
flat training tracks never show. ``shadow`` darkens a soft-edged band (a quadrilateral from
one edge of the image to the opposite one) by one factor. It comes after the seed's four,
with its own probability; at probability 0 nothing is drawn for it, so the Generator, and
every example, is what it was without shadows.

The seed's pan shifts the picture sideways by up to 10 % of its width (32 px: a camera yawed
13 degrees) and keeps the label, which teaches the model to ignore which way the car points.
``augment.pan_steering: yaw`` adds the steering that turns such a view back
(``pan_yaw_steering``); ``none`` keeps the seed's label.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pilot.control import PURE_PURSUIT_LOOKAHEAD_M
from pilot.imaging import CROP_ROWS
from pilot.udacity.camera_rig import SIMULATOR_FOCAL_PX, CameraRig
from pilot.udacity.simulator import CAMERAS, IMAGE_HEIGHT_PX, steering_for_curvature

AUGMENT_PROBABILITY = 0.5
ZOOM_RANGE = (1.0, 1.3)              # imgaug Affine scale, same factor for x and y
PAN_RANGE_FRACTION = (-0.1, 0.1)     # imgaug translate_percent, drawn per axis
BRIGHTNESS_RANGE = (0.2, 1.2)        # imgaug Multiply, one factor per image
_IDENTITY_TOLERANCE = 1e-4           # imgaug skips warps this close to the identity
FLIP_MODES = ("mirror", "rig")       # augment.flip: the seed's mirror | mirrored, then turned back to the rig
PAN_STEERING_MODES = ("none", "yaw")   # augment.pan_steering: the seed's pan keeps the label | the label turns back
                                       # the yaw the sideways shift shows (pan_yaw_steering)

# Shadows: a band between two segments on opposite edges of the image, either across the road
# (left and right edges, the segments within the rows the model sees) or along it (top and bottom).
SHADOW_BRIGHTNESS_RANGE = (0.4, 0.8)       # pixels well inside the shadow are multiplied by this
SHADOW_ACROSS_PROBABILITY = 0.5            # across the road (palm shadows), else along it
SHADOW_SEGMENT_RANGE_FRACTION = (0.1, 0.3)  # each segment's length, a fraction of its edge
SHADOW_ACROSS_ROWS_FRACTION = (CROP_ROWS[0] / IMAGE_HEIGHT_PX, CROP_ROWS[1] / IMAGE_HEIGHT_PX)  # segment centres
SHADOW_EDGE_BLUR_PX = 9                    # Gaussian kernel (odd) that softens the edges: ~4 px each side


@dataclass(frozen=True)
class Shadow:
    """A shadow: a polygon's vertices as (x fraction of the width, y fraction of the height), and its darkness."""

    vertices_fraction: tuple[tuple[float, float], ...]
    brightness_factor: float         # 0..1: pixels well inside are multiplied by this


@dataclass(frozen=True)
class AugmentationDraw:
    """What random_augment decided for one image (None / False: not applied)."""

    pan_fraction_xy: tuple[float, float] | None = None
    zoom_scale: float | None = None
    brightness_factor: float | None = None
    flip: bool = False
    shadow: Shadow | None = None     # after the seed's four, when augment.shadow_probability allows


def _affine_matrix(width: int, height: int, scale: float, shift_x_px: float, shift_y_px: float) -> np.ndarray:
    """The 3x3 pixel map of imgaug's Affine for scale+translation about the image centre."""
    centre_x, centre_y = width / 2.0 - 0.5, height / 2.0 - 0.5
    return np.array(
        [
            [scale, 0.0, centre_x - scale * centre_x + shift_x_px],
            [0.0, scale, centre_y - scale * centre_y + shift_y_px],
            [0.0, 0.0, 1.0],
        ],
        dtype=np.float64,
    )


def _affine(rgb: np.ndarray, scale: float, shift_x_px: float, shift_y_px: float) -> np.ndarray:
    """imgaug's Affine for scale+translation: about the centre, bilinear, black fill."""
    height, width = rgb.shape[:2]
    full = _affine_matrix(width, height, scale, shift_x_px, shift_y_px)
    if np.average(np.abs(np.eye(3) - full)) <= _IDENTITY_TOLERANCE:
        return rgb
    return cv2.warpAffine(
        np.ascontiguousarray(rgb),
        full[:2],
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


def mirrored_rig_homography(rig: CameraRig, warped: np.ndarray | None = None) -> np.ndarray:
    """Pixel of the rig's own view of the mirrored world -> pixel of the mirrored frame (for cv2.WARP_INVERSE_MAP).

    A mirrored frame is the mirrored world seen through the mount D M S (D: the image's x mirrored,
    M: the rig's car -> camera rotation, S: the car's left mirrored), the rig's mount with yaw and
    roll negated; the map back to M is the rotation D M S M^T through the lens K. `warped` (3x3) is
    an affine pan/zoom the frame had before it was mirrored: the lens is then that map times K, mirrored.
    """
    mount = rig.mount_rotation()
    turn = np.diag([-1.0, 1.0, 1.0]) @ mount @ np.diag([1.0, -1.0, 1.0]) @ mount.T
    lens = rig.intrinsics()
    if warped is not None:
        mirror_x = np.array([[-1.0, 0.0, rig.width_px - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        lens = mirror_x @ warped @ mirror_x @ lens
    return lens @ turn @ np.linalg.inv(lens)


def flip_rig(mode: str) -> CameraRig | None:
    """The rig a flip is turned back to for `augment.flip` (FLIP_MODES): the simulator's for rig, None for mirror."""
    if mode not in FLIP_MODES:
        raise ValueError(f"flip must be {' or '.join(FLIP_MODES)}, got {mode!r}: fix it in params.yaml")
    return CameraRig() if mode == "rig" else None


def flip(rgb: np.ndarray, steering: float, rig: CameraRig | None = None,
         warped: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Mirror left-right; the steering changes sign. With `rig`, the mirrored view is turned back to the rig's
    yaw and roll (`warped`: the 3x3 pan/zoom the frame had before, which the lens is seen through)."""
    mirrored = cv2.flip(rgb, 1)
    if rig is None:
        return mirrored, -steering
    height, width = rgb.shape[:2]
    homography = mirrored_rig_homography(rig, warped)
    turned = cv2.warpPerspective(mirrored, homography, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return turned, -steering


def shadow(rgb: np.ndarray, vertices_fraction: tuple[tuple[float, float], ...], factor: float) -> np.ndarray:
    """Darken the polygon (vertices as fractions of width and height) by `factor` (0..1), edges softened.

    Pixels well inside become what brightness(rgb, factor) makes of them; pixels more than
    SHADOW_EDGE_BLUR_PX // 2 outside are unchanged; none gets brighter.
    """
    if not 0.0 <= factor <= 1.0:
        raise ValueError(f"a shadow's brightness factor must be from 0 to 1, got {factor}")
    height, width = rgb.shape[:2]
    corners_px = np.round(np.asarray(vertices_fraction, np.float64) * (width, height)).astype(np.int32)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [corners_px], 255)
    mask = cv2.GaussianBlur(mask, (SHADOW_EDGE_BLUR_PX, SHADOW_EDGE_BLUR_PX), 0)
    inside = mask.astype(np.float32) / np.float32(255)                  # exactly 1 and 0 away from the edges
    multiplier = inside * np.float32(factor) + (np.float32(1) - inside)   # exactly factor and 1 there
    return (rgb.astype(np.float32) * multiplier[..., np.newaxis]).astype(np.uint8)


def _segment(rng: np.random.Generator, centre_range: tuple[float, float]) -> tuple[float, float]:
    """A segment of one edge (fractions of its length): its centre in `centre_range`, its length drawn."""
    centre = float(rng.uniform(*centre_range))
    half = float(rng.uniform(*SHADOW_SEGMENT_RANGE_FRACTION)) / 2
    return centre - half, centre + half


def draw_shadow(rng: np.random.Generator) -> Shadow:
    """A shadow band across the road (left to right edge) or along it (top to bottom edge), and its darkness."""
    if rng.random() < SHADOW_ACROSS_PROBABILITY:
        (left_top, left_bottom), (right_top, right_bottom) = (
            _segment(rng, SHADOW_ACROSS_ROWS_FRACTION) for _ in range(2))
        vertices = ((0.0, left_top), (1.0, right_top), (1.0, right_bottom), (0.0, left_bottom))
    else:
        (top_left, top_right), (bottom_left, bottom_right) = (_segment(rng, (0.0, 1.0)) for _ in range(2))
        vertices = ((top_left, 0.0), (top_right, 0.0), (bottom_right, 1.0), (bottom_left, 1.0))
    return Shadow(vertices, float(rng.uniform(*SHADOW_BRIGHTNESS_RANGE)))


def draw_augmentation(rng: np.random.Generator, shadow_probability: float = 0.0) -> AugmentationDraw:
    """Decide the seed's four augmentations, each with probability 0.5, in the seed's order; then a shadow.

    With shadow_probability 0 nothing more is drawn: the Generator ends where the seed's four left it.
    """
    pan_xy = zoom_scale = factor = None
    if rng.random() < AUGMENT_PROBABILITY:
        pan_xy = (float(rng.uniform(*PAN_RANGE_FRACTION)), float(rng.uniform(*PAN_RANGE_FRACTION)))
    if rng.random() < AUGMENT_PROBABILITY:
        zoom_scale = float(rng.uniform(*ZOOM_RANGE))
    if rng.random() < AUGMENT_PROBABILITY:
        factor = float(rng.uniform(*BRIGHTNESS_RANGE))
    flipped = bool(rng.random() < AUGMENT_PROBABILITY)
    shadowed = draw_shadow(rng) if shadow_probability > 0 and rng.random() < shadow_probability else None
    return AugmentationDraw(pan_xy, zoom_scale, factor, flipped, shadowed)


def _warp_so_far(draw: AugmentationDraw, width: int, height: int) -> np.ndarray:
    """The 3x3 pixel map of the draw's pan then zoom (identity if neither)."""
    warped = np.eye(3)
    if draw.pan_fraction_xy is not None:
        dx, dy = draw.pan_fraction_xy
        warped = _affine_matrix(width, height, 1.0, dx * width, dy * height) @ warped
    if draw.zoom_scale is not None:
        warped = _affine_matrix(width, height, draw.zoom_scale, 0.0, 0.0) @ warped
    return warped


def check_pan_steering(mode: str) -> str:
    """augment.pan_steering, or one sentence naming the choices."""
    if mode not in PAN_STEERING_MODES:
        raise ValueError(f"augment.pan_steering must be one of {', '.join(PAN_STEERING_MODES)}, got {mode!r}")
    return mode


def pan_yaw_steering(shift_x_px: float, focal_px: float = SIMULATOR_FOCAL_PX,
                     lookahead_m: float = PURE_PURSUIT_LOOKAHEAD_M) -> float:
    """The steering to add to a view panned right by `shift_x_px` (in the simulator's 320 px frame).

    A sideways shift of the whole picture is what a camera yawed by atan(shift / f) sees (to
    first order): panned right, the car points left of the road, which now runs off to the
    right. The label turns back as the expert's pure pursuit would: towards the road's point
    `lookahead_m` ahead, which lies at that angle, so curvature 2 sin(angle) / lookahead. At
    10 % of the width (32 px, 13 deg) that is 0.33; the side cameras' 0.81 m is worth ~0.13
    by the same rule (augment.steering_correction: 0.15).
    """
    yaw_left_rad = math.atan2(shift_x_px, focal_px)
    return steering_for_curvature(-2.0 * math.sin(yaw_left_rad) / lookahead_m)


def apply_augmentation(
    rgb: np.ndarray, steering: float, draw: AugmentationDraw, flip_rig: CameraRig | None = None,
    pan_steering: str = "none",
) -> tuple[np.ndarray, float]:
    """Apply a drawn augmentation: pan, zoom, brightness, flip (the seed's order), then the shadow.

    `flip_rig`: flip mirrors the camera, not only the picture (module docstring); None: the seed's mirror.
    `pan_steering`: yaw adds pan_yaw_steering to the label of a panned view (before a flip negates it);
    none keeps the seed's label."""
    height, width = rgb.shape[:2]
    if draw.pan_fraction_xy is not None:
        rgb = pan(rgb, *draw.pan_fraction_xy)
        if check_pan_steering(pan_steering) == "yaw":
            steering = steering + pan_yaw_steering(draw.pan_fraction_xy[0] * width)
    if draw.zoom_scale is not None:
        rgb = zoom(rgb, draw.zoom_scale)
    if draw.brightness_factor is not None:
        rgb = brightness(rgb, draw.brightness_factor)
    if draw.flip:
        warped = None if flip_rig is None else _warp_so_far(draw, width, height)
        rgb, steering = flip(rgb, steering, flip_rig, warped)
    if draw.shadow is not None:
        rgb = shadow(rgb, draw.shadow.vertices_fraction, draw.shadow.brightness_factor)
    return rgb, steering


def random_augment(
    rgb: np.ndarray, steering: float, rng: np.random.Generator, shadow_probability: float = 0.0,
    flip_rig: CameraRig | None = None, pan_steering: str = "none",
) -> tuple[np.ndarray, float, AugmentationDraw]:
    """The seed's random_augment on an RGB uint8 image (and a shadow, if asked); also returns what was applied."""
    draw = draw_augmentation(rng, shadow_probability)
    augmented, steering = apply_augmentation(rgb, steering, draw, flip_rig, pan_steering)
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
