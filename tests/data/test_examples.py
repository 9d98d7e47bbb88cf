"""Examples from split frames: planning, per-index seeding, skipping, worker independence."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from pilot.data.codec import encode_image
from pilot.data.examples import (
    AUTO_MAX_COPIES,
    AUTO_MIN_COPIES,
    AUTO_MIN_TRAIN_EXAMPLES,
    ExampleSpec,
    Skipped,
    choose_copies,
    iter_examples,
    make_example,
    plan_tasks,
)
from pilot.imaging import preprocess
from pilot.testing.synthetic import write_split_csvs
from pilot.udacity.images import read_jpeg_rgb


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> pd.DataFrame:
    train_csv, _ = write_split_csvs(tmp_path_factory.mktemp("recording"), frames=8, seed=3)
    return pd.read_csv(train_csv)


def _spec(split: str = "train", augment: bool = True) -> ExampleSpec:
    return ExampleSpec(split, seed=5, augment=augment, steering_correction=0.15)


def test_plan_indexes_copies_and_shuffles_reproducibly(frames):
    tasks = plan_tasks(frames, copies_per_frame=3, shuffle_seed=None)
    assert [t.index for t in tasks] == list(range(3 * len(frames)))
    assert [t.frame for t in tasks[:6]] == [0, 0, 0, 1, 1, 1]
    shuffled = plan_tasks(frames, copies_per_frame=3, shuffle_seed=9)
    assert shuffled == plan_tasks(frames, copies_per_frame=3, shuffle_seed=9)
    assert sorted(shuffled, key=lambda t: t.index) == tasks and shuffled != tasks
    with pytest.raises(ValueError, match="copies_per_frame"):
        plan_tasks(frames, copies_per_frame=0, shuffle_seed=None)


def test_auto_copies_store_enough_examples_for_a_short_recording():
    assert choose_copies(4, 18) == (4, "as set")
    assert choose_copies("auto", 4109)[0] == AUTO_MIN_COPIES            # the default data: 41,090 at the seed-era 10
    copies, why = choose_copies("auto", 2432)                           # a real 5-minute lap, balanced and split
    assert copies == 17 and 2432 * copies >= AUTO_MIN_TRAIN_EXAMPLES > 2432 * (copies - 1)
    assert "2432 training frames x 17 = 41344 examples" in why
    assert choose_copies("auto", 17)[0] == AUTO_MAX_COPIES and choose_copies("auto", 0)[0] == AUTO_MAX_COPIES
    for bad in (0, -3, 2.5, "ten", True, None):
        with pytest.raises(ValueError, match="augment.copies_per_frame must be auto or a whole number"):
            choose_copies(bad, 100)


def test_validation_examples_are_the_plain_centre_image(frames):
    task = plan_tasks(frames, 1, None)[2]
    example = make_example(task, _spec("val", augment=False))
    assert example.camera == "center" and example.steering == task.steering
    assert np.array_equal(example.image, preprocess(read_jpeg_rgb(task.center)))


def test_training_examples_depend_only_on_seed_split_and_index(frames):
    tasks = plan_tasks(frames, 4, None)
    examples = [make_example(task, _spec()) for task in tasks]
    again = make_example(tasks[5], _spec())
    assert np.array_equal(again.image, examples[5].image) and again.steering == examples[5].steering
    assert len({e.image.tobytes() for e in examples}) == len(examples)      # copies differ
    for task, example in zip(tasks, examples):
        expected = task.steering + {"center": 0.0, "left": 0.15, "right": -0.15}[example.camera]
        assert example.steering == pytest.approx(-expected if example.draw.flip else expected)
    assert make_example(tasks[5], ExampleSpec("train", 6, True, 0.15)).image.tobytes() != again.image.tobytes()


def test_unreadable_images_are_skipped_with_the_path(frames, tmp_path):
    task = plan_tasks(frames, 1, None)[0]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    result = make_example(task.__class__(**{**task.__dict__, "center": str(broken)}), _spec("val", False))
    assert isinstance(result, Skipped) and "broken.jpg" in result.reason
    missing = make_example(task.__class__(**{**task.__dict__, "center": "nowhere.jpg"}), _spec("val", False))
    assert isinstance(missing, Skipped) and "nowhere.jpg" in missing.reason


def test_one_or_two_worker_processes_give_the_same_examples_in_the_same_order(frames):
    tasks = plan_tasks(frames, 5, shuffle_seed=2)                # 40 tasks: two chunks of 32 and 8
    one = list(iter_examples(tasks, _spec(), workers=1))
    two = list(iter_examples(tasks, _spec(), workers=2))
    assert [e.index for e in one] == [t.index for t in tasks] == [e.index for e in two]
    assert all(np.array_equal(a.image, b.image) and a.steering == b.steering for a, b in zip(one, two))


def test_workers_encode_the_image_for_its_record_when_asked(frames):
    tasks = plan_tasks(frames, 5, shuffle_seed=2)[:34]                # two chunks: both workers encode
    png_spec = ExampleSpec("train", seed=5, augment=True, steering_correction=0.15, image_encoding="png")
    two = list(iter_examples(tasks, png_spec, workers=2))
    assert all(e.image_bytes == encode_image(e.image, "png") for e in two)
    assert [e.image_bytes for e in two] == [make_example(t, png_spec).image_bytes for t in tasks]
    assert make_example(tasks[0], _spec()).image_bytes is None


def test_shadow_probability_zero_makes_the_examples_without_shadows(frames):
    tasks = plan_tasks(frames, 3, None)
    without = dataclasses.replace(_spec(), image_encoding="png")
    off = dataclasses.replace(without, shadow_probability=0.0)
    for task in tasks:
        plain, zero = make_example(task, without), make_example(task, off)
        assert zero.image_bytes == plain.image_bytes and zero.steering == plain.steering
        assert zero.draw == plain.draw and zero.draw.shadow is None


def test_shadow_probability_one_shades_every_training_example_on_top_of_the_same_draws(frames):
    tasks = plan_tasks(frames, 3, None)
    always = dataclasses.replace(_spec(), shadow_probability=1.0)
    for task in tasks:
        plain, shaded = make_example(task, _spec()), make_example(task, always)
        assert shaded.draw.shadow is not None and shaded.camera == plain.camera
        assert dataclasses.replace(shaded.draw, shadow=None) == plain.draw and shaded.steering == plain.steering
        assert not np.array_equal(shaded.image, plain.image)
    val = make_example(tasks[0], dataclasses.replace(_spec("val", augment=False), shadow_probability=1.0))
    assert val.draw.shadow is None                                  # validation is never augmented


@pytest.mark.parametrize("odds", [-0.1, 1.5, math.nan, "0.5", True, None])
def test_a_shadow_probability_outside_zero_to_one_or_not_a_number_is_refused(odds):
    with pytest.raises(ValueError, match=r"shadow_probability must be a number from 0 .* to 1 .*got"):
        ExampleSpec("train", seed=5, augment=True, steering_correction=0.15, shadow_probability=odds)
