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

from pilot.data.synthetic import write_split_csvs
from tests.stage_runner import AUGMENT, EVALUATE, TRAIN, run_stage, write_params

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _project(root: Path, split_dir: Path, **overrides: dict) -> Path:
    """A working folder with the split CSVs and a params.yaml shrunk for a quick run."""
    sections = {"augment": {"copies_per_frame": 4, "shard_size": 25, "workers": 1},
                "train": {"epochs": 2, "batch_size": 12, "steps_per_epoch": None, "shuffle_buffer": 72}}
    for section, values in overrides.items():
        sections[section] = {**sections.get(section, {}), **values}
    write_params(root, **sections)
    shutil.copytree(split_dir, root / "data" / "split")
    return root


def _run(root: Path, stage: str, *args: str) -> subprocess.CompletedProcess:
    return run_stage(f"{stage}.py", args, root)




@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two copies of the pipeline from augment to evaluate: one augmented by 1 worker, one by 2."""
    base = tmp_path_factory.mktemp("stages")
    write_split_csvs(base / "split", frames=24, seed=8)        # 18 train frames, 6 val frames
    roots = {"one": _project(base / "one", base / "split"),
             "two": _project(base / "two", base / "split", augment={"workers": 2})}
    for root in roots.values():
        for stage, args in (("augment", AUGMENT), ("train", TRAIN), ("evaluate", EVALUATE)):
            result = _run(root, stage, *args)
            assert result.returncode == 0, result.stderr[-3000:]
    return roots


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
    assert (train["frames"], train["examples"], train["skipped"]) == (18, 72, 0)
    assert [s["examples"] for s in train["shards"]] == [25, 25, 22]
    assert sum(train["cameras"].values()) == 72 and set(train["cameras"]) <= {"center", "left", "right"}
    assert (val["frames"], val["examples"], val["cameras"], val["flipped"]) == (6, 6, {"center": 6}, 0)
    assert manifest["image_shape"] == [66, 200, 3] and manifest["image_dtype"] == "uint8"
    assert manifest["schema_version"] == 2 and manifest["image_encoding"] == "png"
    assert manifest["preprocessing"]["crop_rows"] == [60, 135]
    assert manifest["params"] == {"copies_per_frame": 4, "seed": 1, "shard_size": 25, "steering_correction": 0.15}
    for name in ("augmentations.png", "random_augment.png", "preprocessed.png"):
        assert (runs["one"] / "plots" / "augment" / name).read_bytes()[:4] == b"\x89PNG"


def test_train_writes_model_metrics_and_curves_and_is_deterministic(runs):
    import keras

    metrics = json.loads((runs["one"] / "metrics" / "train.json").read_text())
    assert metrics["epochs"] == 2 and metrics["steps_per_epoch"] == 6 and metrics["examples_per_epoch"] == 72
    assert 1 <= metrics["best_epoch"] <= 2 and metrics["best_val_loss"] <= metrics["val_loss"]
    for split in ("train", "eval"):
        assert len(pd.read_csv(runs["one"] / "dvclive" / "plots" / "metrics" / split / "loss.tsv", sep="\t")) == 2
    # Same records, same seed, op determinism on: the same model, weight for weight (and edge model).
    for output in ("metrics/train.json", "models/model.keras", "models/model.tflite"):
        assert (runs["one"] / output).read_bytes() == (runs["two"] / output).read_bytes(), output
    weights = [keras.models.load_model(root / "models" / "model.keras").get_weights() for root in runs.values()]
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


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
