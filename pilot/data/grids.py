"""Sample-image grids for the augment stage's DVC image plots (the seed's steps 10 to 14).

Only this module draws figures for augment; it takes images and returns nothing but
PNG files.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pilot.data.augment import (
    BRIGHTNESS_RANGE,
    PAN_RANGE_FRACTION,
    ZOOM_RANGE,
    AugmentationDraw,
    brightness,
    draw_shadow,
    flip,
    pan,
    random_augment,
    shadow,
    zoom,
)
from pilot.figures import plt, save_figure
from pilot.imaging import preprocess
from pilot.udacity.camera_rig import CameraRig

DPI = 64


def _describe(draw: AugmentationDraw) -> str:
    parts = []
    if draw.pan_fraction_xy is not None:
        parts.append("pan {:+.2f},{:+.2f}".format(*draw.pan_fraction_xy))
    if draw.zoom_scale is not None:
        parts.append(f"zoom {draw.zoom_scale:.2f}")
    if draw.brightness_factor is not None:
        parts.append(f"x{draw.brightness_factor:.2f}")
    if draw.flip:
        parts.append("flip")
    if draw.shadow is not None:
        parts.append(f"shadow x{draw.shadow.brightness_factor:.2f}")
    return ", ".join(parts) or "none"


def augmentation_grid(
    samples: Sequence[tuple[np.ndarray, float]], rng: np.random.Generator, path: Path
) -> Path:
    """Step 10: each augmentation on its own (random value from the seed's range), one row per frame."""
    figure, axes = plt.subplots(len(samples), 5, figsize=(20, 2.4 * len(samples)), squeeze=False)
    for row, (rgb, steering) in zip(axes, samples):
        dx, dy = rng.uniform(*PAN_RANGE_FRACTION, size=2)
        scale = rng.uniform(*ZOOM_RANGE)
        factor = rng.uniform(*BRIGHTNESS_RANGE)
        flipped, flipped_steering = flip(rgb, steering)
        panels = [
            (rgb, f"original, steering {steering:+.3f}"),
            (pan(rgb, dx, dy), f"pan x {dx:+.2f}, y {dy:+.2f}"),
            (zoom(rgb, scale), f"zoom {scale:.2f}"),
            (brightness(rgb, factor), f"brightness x{factor:.2f}"),
            (flipped, f"flip, steering {flipped_steering:+.3f}"),
        ]
        for axis, (image, title) in zip(row, panels):
            axis.imshow(image)
            axis.set_title(title)
            axis.axis("off")
    return save_figure(figure, path, DPI)


def random_augment_grid(
    samples: Sequence[tuple[np.ndarray, float]], rng: np.random.Generator, path: Path,
    shadow_probability: float = 0.0, copies: int = 5, flip_rig: CameraRig | None = None, pan_steering: str = "none",
) -> Path:
    """Step 11: each frame, then `copies` draws of random_augment (the seed's four p=0.5 each, then shadows;
    `flip_rig`: flips turned back to that rig, augment.flip: rig; `pan_steering`: augment.pan_steering)."""
    figure, axes = plt.subplots(len(samples), 1 + copies, figsize=(3.6 * (1 + copies), 2.2 * len(samples)),
                                squeeze=False)
    for row, (rgb, steering) in zip(axes, samples):
        row[0].imshow(rgb)
        row[0].set_title(f"original, steering {steering:+.3f}")
        for axis in row[1:]:
            augmented, new_steering, draw = random_augment(rgb, steering, rng, shadow_probability, flip_rig,
                                                             pan_steering)
            axis.imshow(augmented)
            axis.set_title(f"{_describe(draw)} -> {new_steering:+.3f}", fontsize=9)
    for axis in axes.flat:
        axis.axis("off")
    return save_figure(figure, path, DPI)


def shadow_grid(
    samples: Sequence[tuple[np.ndarray, float]], rng: np.random.Generator, path: Path, copies: int = 5
) -> Path:
    """Each frame, then `copies` random shadows on it (the shadow alone, whatever its probability)."""
    figure, axes = plt.subplots(len(samples), 1 + copies, figsize=(3.6 * (1 + copies), 2.2 * len(samples)),
                                squeeze=False)
    for row, (rgb, _) in zip(axes, samples):
        row[0].imshow(rgb)
        row[0].set_title("original")
        for axis in row[1:]:
            drawn = draw_shadow(rng)
            axis.imshow(shadow(rgb, drawn.vertices_fraction, drawn.brightness_factor))
            axis.set_title(f"shadow x{drawn.brightness_factor:.2f}", fontsize=9)
    for axis in axes.flat:
        axis.axis("off")
    return save_figure(figure, path, DPI)


def preprocessing_grid(
    samples: Sequence[tuple[np.ndarray, float]],
    stored_train: Sequence[tuple[np.ndarray, float]],
    stored_val: Sequence[tuple[np.ndarray, float]],
    path: Path,
) -> Path:
    """Steps 12 and 14: original vs preprocessed, and what the TFRecords hold for train and val.

    Preprocessed images are YUV shown as if RGB, as the seed's notebook shows them.
    """
    rows = max(len(samples), len(stored_train), len(stored_val))
    figure, axes = plt.subplots(rows, 4, figsize=(18, 2.4 * rows), squeeze=False)
    for index, row in enumerate(axes):
        if index < len(samples):
            rgb, steering = samples[index]
            row[0].imshow(rgb)
            row[0].set_title(f"original {steering:+.3f}")
            row[1].imshow(preprocess(rgb))
            row[1].set_title("preprocessed (YUV 66x200)")
        for axis, stored, name in ((row[2], stored_train, "training"), (row[3], stored_val, "validation")):
            if index < len(stored):
                image, steering = stored[index]
                axis.imshow(image)
                axis.set_title(f"{name} record {steering:+.3f}")
    for axis in axes.flat:
        axis.axis("off")
    return save_figure(figure, path, DPI)
