"""train.distribute: the mirrored path on two devices, run on the CPU split in two, and same seed same model.

TensorFlow can split the CPU into logical devices only before it initialises, so each
training runs the real stage script in its own process (tests/stage_runner.py's environment).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.stage_runner import TRAIN, project_env, run_stage, write_params

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Split the CPU into `cpus` logical devices, then run stages/train.py as `python stages/train.py` would.
ON_LOGICAL_CPUS = """
import runpy, sys
import tensorflow as tf
cpus = int(sys.argv[1])
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * cpus)
sys.argv = [sys.argv[2], *sys.argv[3:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def records(tiny_augment) -> Path:
    """The augment stage's shards for the tiny recording (18 train frames x 4 copies, 6 val frames)."""
    return tiny_augment / "data" / "records"


def train(folder: Path, records: Path, distribute: str, cpus: int = 1) -> subprocess.CompletedProcess:
    """Train 2 epochs of 6 steps of 12 (the global batch) in `folder`, on `cpus` logical CPU devices."""
    write_params(folder, train={"epochs": 2, "batch_size": 12, "steps_per_epoch": None,
                                "shuffle_buffer": 72, "distribute": distribute, "precision": "float32"})
    shutil.copytree(records, folder / "data" / "records")
    command = [sys.executable, "-c", ON_LOGICAL_CPUS, str(cpus), str(PROJECT_ROOT / "stages" / "train.py"), *TRAIN]
    done = subprocess.run(command, cwd=folder, env=project_env(folder), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_mirrored_training_on_two_devices_gives_a_working_model(tmp_path, records):
    import keras

    done = train(tmp_path / "mirrored", records, "mirrored", cpus=2)
    assert "distribute: mirrored -> 2 replica(s), 6 examples each per step of 12" in done.stdout
    metrics = json.loads((tmp_path / "mirrored" / "metrics" / "train.json").read_text())
    assert metrics["steps_per_epoch"] == 6 and metrics["examples_per_epoch"] == 72   # 12 is the global batch
    assert np.isfinite([metrics["loss"], metrics["val_loss"]]).all() and metrics["best_val_loss"] < 1.0
    model = keras.models.load_model(tmp_path / "mirrored" / "models" / "model.keras")   # loads off the strategy
    images = np.random.default_rng(0).random((3, 66, 200, 3), dtype=np.float32)
    predictions = model.predict(images, verbose=0)
    assert predictions.shape == (3, 1) and np.isfinite(predictions).all()


@pytest.mark.slow
def test_auto_on_one_device_is_none_and_the_same_seed_gives_the_same_model_file(tmp_path, records):
    runs = [train(tmp_path / name, records, mode, cpus=2 if name == "auto" else 1)
            for name, mode in (("none", "none"), ("auto", "auto"))]
    assert "distribute: none -> 1 replica(s)" in runs[0].stdout
    assert "distribute: auto -> 1 replica(s)" in runs[1].stdout       # two CPUs but no GPU: no mirroring
    # same records, same seed, op determinism on: the same model file, edge model and metrics, byte for byte
    for output in ("models/model.keras", "models/model.tflite", "metrics/train.json"):
        assert (tmp_path / "none" / output).read_bytes() == (tmp_path / "auto" / output).read_bytes(), output


def test_an_unknown_mode_is_one_sentence_and_a_non_zero_exit(tmp_path):
    write_params(tmp_path, train={"distribute": "horovod"})
    done = run_stage("train.py", TRAIN, tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "train.distribute must be one of auto, none, mirrored, got 'horovod'" in done.stderr
