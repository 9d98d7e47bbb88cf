"""Fixtures the stage tests share: one tiny recording augmented once for the whole session.

test_learning_stages, test_resume and test_distribute all train on the same records (the
augment stage on 24 generated frames: 18 train frames x 4 copies, 6 val frames). Augmenting
costs a process and TensorFlow's import; made once here, each test copies what it needs.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pilot.testing.synthetic import write_split_csvs
from pilot.udacity.log_reader import CANONICAL_COLUMNS
from tests.stage_runner import AUGMENT, run_stage, write_params

TINY_AUGMENT = {"copies_per_frame": 4, "shard_size": 25, "workers": 1}
TINY_TRAIN = {"epochs": 2, "batch_size": 12, "steps_per_epoch": None, "shuffle_buffer": 72,
              "average_last_epochs": 2}


@pytest.fixture(scope="session")
def tiny_augment(tmp_path_factory) -> Path:
    """A project folder after `augment` ran on the tiny split: params.yaml, data/split, data/records, plots/augment.

    A stale data/.records.tmp (what an interrupted augment leaves) is planted first: augment must replace it.
    Tests copy from here and never write into it.
    """
    root = tmp_path_factory.mktemp("tiny_augment")
    write_split_csvs(root / "data" / "split", frames=24, seed=8)
    write_params(root, augment=TINY_AUGMENT, train=TINY_TRAIN)
    stale = root / "data" / ".records.tmp"
    stale.mkdir(parents=True)
    (stale / "train-00000-of-00009.tfrecord").write_bytes(b"partial")
    result = run_stage("augment.py", AUGMENT, root)
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def copy_tiny_project(source: Path, destination: Path, *parts: str) -> Path:
    """`destination` with params.yaml and the given parts (data/split, data/records, ...) of the tiny project."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "params.yaml", destination / "params.yaml")
    for part in parts:
        shutil.copytree(source / part, destination / part)
    return destination


def write_test_log(root: Path, frames_csv: Path | None = None, name: str = "other") -> Path:
    """data/interim/test_log.csv as ingest writes it: `frames_csv`'s frames as a test recording called `name`
    (steering_raw the recorded steering), or its header only (no test recording)."""
    path = root / "data" / "interim" / "test_log.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if frames_csv is None:
        pd.DataFrame(columns=[*CANONICAL_COLUMNS, "steering_raw"]).to_csv(path, index=False)
    else:
        frames = pd.read_csv(frames_csv)
        frames.assign(recording=name, steering_raw=frames["steering"]).to_csv(path, index=False)
    return path
