"""Turn split frames into model examples (camera, augmentation, preprocessing), in parallel.

Every example has an index; its random choices come from a Generator seeded with
(seed, split, index) and nothing else, so the bytes do not depend on which worker
process makes it or how many there are. Workers never import TensorFlow: they
encode the image for its record (PNG, pilot.data.codec) and the caller serialises
what they return.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.data.augment import (
    AugmentationDraw,
    apply_augmentation,
    camera_steering,
    check_pan_steering,
    choose_camera,
    draw_augmentation,
    flip_rig,
)
from pilot.data.codec import encode_image
from pilot.imaging import preprocess
from pilot.processes import worker_pool
from pilot.udacity.images import read_jpeg_rgb

SPLIT_CODES = {"train": 0, "val": 1}     # part of each example's seed
TASKS_PER_CHUNK = 32                     # worker round trips are per chunk, not per image
# augment.copies_per_frame: auto. The seed's notebook draws a fresh augmentation for every example it trains on;
# stored examples are drawn once, so a short recording's few are seen many times over (a real 5-minute Lake lap:
# ~2,400 balanced training frames x 10 = 24,000, each seen 16 times in training's 390,000) and learnt by heart.
# auto stores at least this many (the default data's 4,109 frames x 10 = 41,090: ~10 times each), as many
# copies as that takes, never fewer than the seed-era 10 nor more than AUTO_MAX_COPIES.
AUTO_MIN_TRAIN_EXAMPLES = 40_000
AUTO_MIN_COPIES = 10
AUTO_MAX_COPIES = 50                     # a few hundred frames: more copies of one frame add little


@dataclass(frozen=True)
class ExampleTask:
    """One example to make: which frame, and the index that seeds its random choices."""

    index: int
    frame: int
    center: str
    left: str
    right: str
    steering: float


@dataclass(frozen=True)
class ExampleSpec:
    """How examples of one split are made."""

    split: str
    seed: int
    augment: bool                    # train: random camera + the seed's augmentations
    steering_correction: float
    image_root: str = "."            # image paths in the split CSV are relative to this
    image_encoding: str | None = None    # 'png' or 'raw': also encode the image for a record, in the worker
    shadow_probability: float = 0.0  # when augmenting, odds of a shadow after the seed's four; 0: none drawn
    flip: str = "mirror"             # pilot.data.augment.FLIP_MODES: the seed's mirror, or mirrored back to the rig
    pan_steering: str = "none"       # pilot.data.augment.PAN_STEERING_MODES: the seed's label, or turned for the yaw

    def __post_init__(self) -> None:
        flip_rig(self.flip)              # refuses a mode that is not one of FLIP_MODES, in one sentence
        check_pan_steering(self.pan_steering)
        odds = self.shadow_probability
        if isinstance(odds, bool) or not isinstance(odds, (int, float)) or not 0.0 <= odds <= 1.0:
            raise ValueError(f"shadow_probability must be a number from 0 (no shadows) to 1 (a shadow on every "
                             f"training example), got {odds!r}: fix it in params.yaml")


@dataclass(frozen=True)
class Example:
    index: int
    frame: int
    image: np.ndarray                # uint8 (66, 200, 3) YUV, the seed's preprocessing
    steering: float
    camera: str
    draw: AugmentationDraw
    image_bytes: bytes | None = None     # encode_image(image, spec.image_encoding), if one was asked for


@dataclass(frozen=True)
class Skipped:
    index: int
    frame: int
    reason: str


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The Generator for one example: a function of (seed, split, index) only."""
    return np.random.default_rng([seed, SPLIT_CODES[split], index])


def choose_copies(setting: int | str, training_frames: int) -> tuple[int, str]:
    """augment.copies_per_frame -> (copies per training frame, why); ValueError with one sentence for a bad setting.

    auto: enough copies that the training split stores AUTO_MIN_TRAIN_EXAMPLES examples, within
    AUTO_MIN_COPIES..AUTO_MAX_COPIES; a whole number >= 1 is used as set.
    """
    if setting == "auto":
        wanted = -(-AUTO_MIN_TRAIN_EXAMPLES // max(int(training_frames), 1))      # ceiling
        copies = min(max(wanted, AUTO_MIN_COPIES), AUTO_MAX_COPIES)
        return copies, (f"{training_frames} training frames x {copies} = {training_frames * copies} examples "
                        f"(at least {AUTO_MIN_TRAIN_EXAMPLES} wanted, {AUTO_MIN_COPIES}..{AUTO_MAX_COPIES} copies)")
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 1:
        raise ValueError(f"augment.copies_per_frame must be auto or a whole number of at least 1, got {setting!r}")
    return setting, "as set"


def plan_tasks(frames: pd.DataFrame, copies_per_frame: int, shuffle_seed: int | None) -> list[ExampleTask]:
    """copies_per_frame tasks per frame; written in a seeded random order when shuffle_seed is set.

    Example index = frame * copies_per_frame + copy, so an example's content does not
    depend on the order it is written in.
    """
    if copies_per_frame < 1:
        raise ValueError(f"copies_per_frame must be at least 1, got {copies_per_frame}")
    tasks = [
        ExampleTask(
            index=frame * copies_per_frame + copy,
            frame=frame,
            center=str(row.center),
            left=str(row.left),
            right=str(row.right),
            steering=float(row.steering),
        )
        for frame, row in enumerate(frames.itertuples(index=False))
        for copy in range(copies_per_frame)
    ]
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(len(tasks))
        tasks = [tasks[i] for i in order]
    return tasks


def make_example(task: ExampleTask, spec: ExampleSpec) -> Example | Skipped:
    """Read the chosen camera's JPEG (RGB), augment if training (shadows too, at spec's odds), preprocess."""
    rng = example_rng(spec.seed, spec.split, task.index)
    camera = choose_camera(rng) if spec.augment else "center"
    path = Path(spec.image_root) / getattr(task, camera)
    try:
        rgb = read_jpeg_rgb(str(path))
    except (OSError, ValueError) as exc:
        return Skipped(task.index, task.frame, f"{path}: {exc}")
    steering = camera_steering(task.steering, camera, spec.steering_correction)
    draw = AugmentationDraw()
    if spec.augment:
        draw = draw_augmentation(rng, spec.shadow_probability)
        rgb, steering = apply_augmentation(rgb, steering, draw, flip_rig(spec.flip), spec.pan_steering)
    try:
        image = preprocess(rgb)
    except ValueError as exc:
        return Skipped(task.index, task.frame, f"{path}: {exc}")
    image_bytes = encode_image(image, spec.image_encoding) if spec.image_encoding else None
    return Example(task.index, task.frame, image, float(steering), camera, draw, image_bytes)


def _make_chunk(args: tuple[Sequence[ExampleTask], ExampleSpec]) -> list[Example | Skipped]:
    tasks, spec = args
    return [make_example(task, spec) for task in tasks]


def iter_examples(
    tasks: Sequence[ExampleTask], spec: ExampleSpec, workers: int
) -> Iterator[Example | Skipped]:
    """Make every task's example, in task order, using `workers` processes (1: this process)."""
    chunks = [
        (tasks[start:start + TASKS_PER_CHUNK], spec) for start in range(0, len(tasks), TASKS_PER_CHUNK)
    ]
    if workers <= 1:
        for chunk in chunks:
            yield from _make_chunk(chunk)
        return
    with worker_pool(workers) as pool:
        for results in pool.imap(_make_chunk, chunks):
            yield from results
