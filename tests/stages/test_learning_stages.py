"""The augment, train and evaluate stage scripts, run as dvc runs them, on a tiny generated recording."""
from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilot.testing.synthetic import write_split_csvs
from tests.stage_runner import AUGMENT, EVALUATE, TRAIN, run_stage, write_params
from tests.stages.conftest import TINY_AUGMENT, TINY_TRAIN, copy_tiny_project, write_test_log

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(root: Path, stage: str, *args: str) -> subprocess.CompletedProcess:
    return run_stage(f"{stage}.py", args, root)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_augment) -> dict[str, Path]:
    """The pipeline on the tiny recording: `one` augmented by 1 worker (the shared run), then trained and
    evaluated; `two` augmented by 2 workers. (Same records, same seed, same model: test_distribute.)"""
    base = tmp_path_factory.mktemp("stages")
    one = copy_tiny_project(tiny_augment, base / "one", "data/split", "data/records", "plots/augment")
    write_test_log(one, one / "data" / "split" / "train.csv")         # a recording the model is scored on as unseen
    write_params(one, augment=TINY_AUGMENT, train={**TINY_TRAIN, "precision": "mixed_bfloat16"})  # on any CPU
    two = copy_tiny_project(tiny_augment, base / "two", "data/split")
    write_params(two, augment={**TINY_AUGMENT, "workers": 2}, train=TINY_TRAIN)
    png = copy_tiny_project(tiny_augment, base / "png", "data/split")
    write_params(png, augment={**TINY_AUGMENT, "image_encoding": "png"},
                 train={**TINY_TRAIN, "precision": "mixed_bfloat16"})                  # as `one` trains
    for root, stages in ((one, (("train", TRAIN), ("evaluate", EVALUATE))), (two, (("augment", AUGMENT),)),
                         (png, (("augment", AUGMENT), ("train", TRAIN)))):
        for stage, args in stages:
            result = _run(root, stage, *args)
            assert result.returncode == 0, result.stderr[-3000:]
    return {"one": one, "two": two, "png": png}


def test_png_and_raw_records_hold_the_same_examples_and_train_the_same_model(runs):
    from pilot.data.records import read_manifest, read_raw_examples, shard_files

    raw_dir, png_dir = runs["one"] / "data" / "records", runs["png"] / "data" / "records"
    assert (read_manifest(raw_dir)["image_encoding"], read_manifest(png_dir)["image_encoding"]) == ("raw", "png")
    for split in ("train", "val"):
        raw = read_raw_examples(shard_files(raw_dir, split), encoding="raw")
        png = read_raw_examples(shard_files(png_dir, split), encoding="png")
        assert len(raw) == len(png) > 0
        for (raw_image, raw_steering), (png_image, png_steering) in zip(raw, png):
            assert np.array_equal(raw_image, png_image) and raw_steering == png_steering
    png_bytes = sum(path.stat().st_size for path in png_dir.glob("*.tfrecord"))
    raw_bytes = sum(path.stat().st_size for path in raw_dir.glob("*.tfrecord"))
    assert png_bytes < raw_bytes / 2
    import keras

    weights = [keras.models.load_model(runs[name] / "models" / "model.keras").get_weights() for name in ("one", "png")]
    assert len(weights[0]) == len(weights[1]) > 0
    assert all(np.array_equal(a, b) for a, b in zip(*weights))        # the images the model sees are the same


def test_augment_writes_the_same_bytes_for_one_or_two_workers(runs):
    one, two = runs["one"] / "data" / "records", runs["two"] / "data" / "records"
    names = sorted(path.name for path in one.iterdir())
    assert names == sorted(path.name for path in two.iterdir())
    assert names == ["manifest.json", "train-00000-of-00003.tfrecord", "train-00001-of-00003.tfrecord",
                     "train-00002-of-00003.tfrecord", "val-00000-of-00001.tfrecord"]
    match, mismatch, errors = filecmp.cmpfiles(one, two, names, shallow=False)
    assert mismatch == [] and errors == []


def test_manifest_counts_the_examples_and_records_the_spec(runs):
    manifest = json.loads((runs["one"] / "data" / "records" / "manifest.json").read_text())
    train, val = manifest["splits"]["train"], manifest["splits"]["val"]
    assert (train["frames"], train["copies_per_frame"], train["examples"], train["skipped"]) == (18, 4, 72, 0)
    assert [s["examples"] for s in train["shards"]] == [25, 25, 22]
    assert sum(train["cameras"].values()) == 72 and set(train["cameras"]) <= {"center", "left", "right"}
    assert (val["frames"], val["examples"], val["cameras"], val["flipped"]) == (6, 6, {"center": 6}, 0)
    assert manifest["image_shape"] == [66, 200, 3] and manifest["image_dtype"] == "uint8"
    assert manifest["schema_version"] == 2 and manifest["image_encoding"] == "raw"     # auto, for 78 examples
    assert manifest["preprocessing"]["crop_rows"] == [60, 135]
    assert manifest["params"] == {"copies_per_frame": 4, "flip": "rig", "image_encoding": "auto",
                                  "pan_steering": "yaw", "seed": 1, "shadow_probability": 0, "shard_size": 25,
                                  "steering_correction": 0.15}
    assert "flip (rig)" in manifest["augmentation"]["train"]
    assert "pan (label: yaw)" in manifest["augmentation"]["train"]
    assert manifest["augmentation"]["train"].endswith("then a shadow, p=0")
    for name in ("augmentations.png", "random_augment.png", "preprocessed.png", "shadows.png"):
        assert (runs["one"] / "plots" / "augment" / name).read_bytes()[:4] == b"\x89PNG"


def test_train_writes_model_metrics_curves_and_the_edge_model(runs):
    import keras

    metrics = json.loads((runs["one"] / "metrics" / "train.json").read_text())
    assert metrics["epochs"] == 2 and metrics["steps_per_epoch"] == 6 and metrics["examples_per_epoch"] == 72
    assert metrics["stored_train_examples"] == 72 and metrics["passes_over_stored_examples"] == 2.0
    assert 1 <= metrics["best_epoch"] <= 2 and metrics["best_val_loss"] <= metrics["val_loss"]
    assert metrics["average_last_epochs"] == 2 and metrics["averaged_epochs"] == [1, 2]
    assert np.isfinite(metrics["averaged_val_loss"])
    for split in ("train", "eval"):
        assert len(pd.read_csv(runs["one"] / "dvclive" / "plots" / "metrics" / split / "loss.tsv", sep="\t")) == 2
    assert metrics["precision"] == "mixed_bfloat16"
    model = keras.models.load_model(runs["one"] / "models" / "model.keras")
    assert model.count_params() == 252_219 and (runs["one"] / "models" / "model.tflite").stat().st_size > 4 * 252_219
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}   # trained in bfloat16, saved float32


def test_evaluate_reports_model_and_constant_predictor(runs):
    metrics = json.loads((runs["one"] / "metrics" / "eval.json").read_text())
    assert metrics["examples"] == 6
    for name in ("model", "constant_baseline"):
        assert set(metrics[name]) >= {"mse", "mae", "rmse", "r2"}
        assert metrics[name]["rmse"] == pytest.approx(metrics[name]["mse"] ** 0.5)
    manifest = json.loads((runs["one"] / "data" / "records" / "manifest.json").read_text())
    assert metrics["constant_baseline"]["value"] == manifest["splits"]["train"]["steering_mean"]
    predictions = pd.read_csv(runs["one"] / "plots" / "evaluate" / "predictions.csv")
    assert list(predictions.columns) == ["true_steering", "predicted_steering"] and len(predictions) == 6
    mse = float(np.mean((predictions["predicted_steering"] - predictions["true_steering"]) ** 2))
    assert mse == pytest.approx(metrics["model"]["mse"], abs=1e-4)
    bins = pd.read_csv(runs["one"] / "plots" / "evaluate" / "error_by_bin.csv")
    assert bins["count"].sum() == 6


def test_evaluate_scores_the_model_on_each_test_recording(runs):
    test = json.loads((runs["one"] / "metrics" / "eval.json").read_text())["test"]
    assert set(test) == {"other"}
    scores = test["other"]
    assert scores["frames"] == 6                                          # every third of its 18 frames
    for against in ("vs_raw", "vs_smoothed"):
        assert {"mse", "r2", "correlation", "calibration_slope"} <= set(scores[against])
    assert -1.0 <= scores["vs_raw"]["correlation"] <= 1.0
    assert scores["lateral_response"]["frames"] == 18


def test_evaluate_reports_how_strongly_the_model_answers_a_sideways_offset(runs):
    lateral = json.loads((runs["one"] / "metrics" / "eval.json").read_text())["lateral_response"]
    manifest = json.loads((runs["one"] / "data" / "records" / "manifest.json").read_text())
    assert lateral["trained_correction"] == manifest["params"]["steering_correction"]
    assert 1 <= lateral["frames"] <= 60 and set(lateral["synthesised_offset_m"]) == {"-1", "-0.5", "+0.5", "+1"}
    values = [lateral["left_camera"], lateral["right_camera"], *lateral["synthesised_offset_m"].values()]
    assert all(np.isfinite(values)) and len(set(values)) > 1          # a real model's answers, not one constant
    assert lateral["share_of_correction"] == pytest.approx(
        0.5 * (lateral["left_camera"] - lateral["right_camera"]) / lateral["trained_correction"], abs=2e-3)
    assert lateral["rig"]["side_view_error_fitted_rig"] <= lateral["rig"]["side_view_error_simulator_rig"]


@pytest.mark.parametrize("stage, args, message", [
    ("augment", AUGMENT, "augment: data/split/train.csv not found: run `dvc repro split` first"),
    ("train", TRAIN, "train: data/records/manifest.json not found: run the augment stage first"),
    ("evaluate", EVALUATE, "evaluate: data/records/manifest.json not found: run the augment stage first"),
])
def test_missing_inputs_give_one_sentence_and_a_non_zero_exit(tmp_path, stage, args, message):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    result = _run(tmp_path, stage, *args)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("odds", [1.5, "often"])
def test_a_bad_shadow_probability_gives_one_sentence_and_a_non_zero_exit(tmp_path, odds):
    write_split_csvs(tmp_path / "data" / "split", frames=4, seed=1)
    write_params(tmp_path, augment={**TINY_AUGMENT, "shadow_probability": odds})
    result = _run(tmp_path, "augment", *AUGMENT)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    sentence = (f"augment: shadow_probability must be a number from 0 (no shadows) to 1 (a shadow on every "
                f"training example), got {odds!r}: fix it in params.yaml")
    assert result.stderr.strip().splitlines()[-1] == sentence
    assert not (tmp_path / "data" / "records").exists()
