"""Interrupted runs lose nothing: Ctrl+C in train resumes to the same model; broken files get one sentence."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.stage_runner import AUGMENT, EVALUATE, TRAIN, code_root, project_env, run_stage, write_params
from tests.stages.conftest import TINY_AUGMENT, TINY_TRAIN, write_test_log

pytestmark = pytest.mark.slow

EPOCHS = 30                      # tiny epochs: the interrupt after the first has 29 to land in on a loaded machine
INTERRUPTED_AUGMENT_COPIES = 250  # examples per frame where augment is interrupted: seconds of work, not a blink
FIRST_EPOCH_STATE = Path(".train_resume") / "epoch-0001" / "state.json"
SAFETY_TIMEOUT_S = 600           # a hung run fails the test instead of hanging it; not a time budget


def _project(root: Path, records: Path | None = None) -> Path:
    write_params(root, augment=TINY_AUGMENT, train={**TINY_TRAIN, "epochs": EPOCHS})
    if records is not None:
        shutil.copytree(records, root / "data" / "records")
        shutil.copytree(records.parent / "split", root / "data" / "split")       # evaluate reads val.csv too
        write_test_log(root)                                                     # and the (empty) test recordings
    return root


@pytest.fixture(scope="module")
def records(tiny_augment) -> Path:
    """The augment stage's shards for the tiny recording (18 train frames x 4, 6 val frames)."""
    return tiny_augment / "data" / "records"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, records) -> Path:
    root = _project(tmp_path_factory.mktemp("uninterrupted"), records)
    result = run_stage("train.py", TRAIN, root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (root / ".train_resume").exists()
    return root


def test_augment_replaces_its_folder_whole(records):
    assert sorted(path.name for path in records.iterdir()) == [
        "manifest.json", "train-00000-of-00003.tfrecord", "train-00001-of-00003.tfrecord",
        "train-00002-of-00003.tfrecord", "val-00000-of-00001.tfrecord"]
    assert sorted(path.name for path in records.parent.iterdir()) == ["records", "split"]


def _interrupt_when(root: Path, script: str, args: tuple[str, ...], sign: Path,
                    started_ignoring_sigint: bool = False) -> subprocess.CompletedProcess:
    """Start a stage, send it SIGINT (Ctrl+C) as soon as `sign` (relative to root) exists.

    started_ignoring_sigint: through a shell that ignores SIGINT and execs the stage, as a background job of a
    script (or `nohup ... &`) starts it.
    """
    command = [sys.executable, str(code_root(root) / "stages" / script), *args]
    if started_ignoring_sigint:
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    process = subprocess.Popen(command,
                               cwd=root, env=project_env(root), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while not (root / sign).exists() and process.poll() is None:
        assert time.monotonic() < deadline, f"{sign} never appeared"
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=SAFETY_TIMEOUT_S)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _interrupt_after_first_epoch(root: Path) -> subprocess.CompletedProcess:
    return _interrupt_when(root, "train.py", TRAIN, FIRST_EPOCH_STATE)


@pytest.mark.parametrize("started_ignoring_sigint", [False, True], ids=["foreground", "background-job"])
def test_interrupted_augment_leaves_the_previous_records(tmp_path, records, started_ignoring_sigint):
    root = _project(tmp_path, records)
    write_params(root, augment={**TINY_AUGMENT, "copies_per_frame": INTERRUPTED_AUGMENT_COPIES},
                 train={**TINY_TRAIN, "epochs": EPOCHS})
    stopped = _interrupt_when(root, "augment.py", AUGMENT, Path("data") / ".records.tmp", started_ignoring_sigint)
    assert stopped.returncode == 130, "augment finished before the interrupt: " + stopped.stderr[-2000:]
    assert stopped.stderr.strip().splitlines()[-1].startswith("augment: interrupted; data/records holds")
    assert "Traceback" not in stopped.stderr
    assert sorted(path.name for path in (root / "data").iterdir()) == ["interim", "records", "split"]  # no temp left
    for previous in records.iterdir():
        assert (root / "data" / "records" / previous.name).read_bytes() == previous.read_bytes()


def test_interrupted_training_resumes_to_the_same_model(tmp_path, records, uninterrupted):
    root = _project(tmp_path, records)
    stopped = _interrupt_after_first_epoch(root)
    assert stopped.returncode == 130, stopped.stderr[-3000:]
    assert "Traceback" not in stopped.stderr
    last_line = stopped.stderr.strip().splitlines()[-1]
    assert last_line.startswith("train: interrupted; epoch ") and "run it again to continue" in last_line
    assert not (root / "models" / "model.keras").exists()       # no model file until training ends
    kept = sorted((root / ".train_resume").glob("epoch-*"))
    assert 1 <= len(kept) <= 2                                  # the last two, which the model will average
    epochs_done = json.loads((kept[-1] / "state.json").read_text())["epochs_done"]
    assert 1 <= epochs_done < EPOCHS, "the interrupt came after training had finished"

    resumed = run_stage("train.py", TRAIN, root)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming after epoch {epochs_done} of {EPOCHS}" in resumed.stdout
    for output in ("models/model.keras", "metrics/train.json"):
        assert (root / output).read_bytes() == (uninterrupted / output).read_bytes(), output
    assert not (root / ".train_resume").exists()
    for split in ("train", "eval"):
        curve = pd.read_csv(root / "dvclive" / "plots" / "metrics" / split / "loss.tsv", sep="\t")
        expected = pd.read_csv(uninterrupted / "dvclive" / "plots" / "metrics" / split / "loss.tsv", sep="\t")
        assert curve["step"].tolist() == list(range(EPOCHS))
        assert curve["loss"].tolist() == expected["loss"].tolist()


def test_a_checkpoint_for_other_params_is_not_resumed(tmp_path, records):
    root = _project(tmp_path, records)
    stopped = _interrupt_after_first_epoch(root)
    assert stopped.returncode == 130, stopped.stderr[-3000:]
    write_params(root, train={**TINY_TRAIN, "epochs": 1})
    fresh = run_stage("train.py", TRAIN, root)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "resuming" not in fresh.stdout
    assert json.loads((root / "metrics" / "train.json").read_text())["epochs"] == 1


def _cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("stage, args, broken, message", [
    ("train", TRAIN, "data/records/train-00001-of-00003.tfrecord",
     "train: data/records/train-00001-of-00003.tfrecord is truncated or corrupt: run `dvc repro augment` again"),
    ("evaluate", EVALUATE, "data/records/val-00000-of-00001.tfrecord",
     "evaluate: data/records/val-00000-of-00001.tfrecord is truncated or corrupt: run `dvc repro augment` again"),
    ("evaluate", EVALUATE, "models/model.keras",
     "evaluate: models/model.keras is truncated or corrupt: train it again (dvc repro train) or copy it again."),
])
def test_a_truncated_file_gets_one_sentence_naming_it(tmp_path, records, uninterrupted, stage, args, broken, message):
    root = _project(tmp_path, records)
    shutil.copytree(uninterrupted / "models", root / "models")
    _cut_in_half(root / broken)
    result = run_stage(f"{stage}.py", args, root)
    assert result.returncode not in (0, 130)
    assert result.stderr.strip().splitlines()[-1] == message
    assert "Traceback" not in result.stderr
