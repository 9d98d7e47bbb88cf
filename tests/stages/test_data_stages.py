"""ingest -> balance -> split as a user runs them: stage scripts and a real `dvc repro`."""
import json
import sys

import pandas as pd
import pytest

from tests.recordings import straight_values, write_recording
from tests.stage_runner import copy_project, run, run_stage, set_params


@pytest.mark.slow
def test_dvc_repro_runs_ingest_balance_split_on_user_recordings(tmp_path):
    root = copy_project(tmp_path / "project")
    write_recording(root / "data/raw/laps one", straight_values(120, seed=1), path_style="windows")
    write_recording(root / "data/raw/laps_two", straight_values(80, seed=2), path_style="relative",
                    separator=", ", header=True, first_index=5000)
    set_params(root, "ingest", sources=["data/raw/laps one", "data/raw/laps_two"])
    set_params(root, "balance", samples_per_bin=10)

    run([sys.executable, "-m", "dvc", "repro", "-s", "ingest", "balance", "split"], root)

    ingest = json.loads((root / "metrics/ingest.json").read_text())
    assert ingest["rows_read"] == 200 and ingest["rows_kept"] == 200
    assert set(ingest["recordings"]) == {"laps one", "laps_two"}
    log = pd.read_csv(root / "data/interim/log.csv")
    assert (root / log["center"][0]).is_file() and log["left"][0].startswith("data/raw/laps one/IMG/left_")
    balanced = pd.read_csv(root / "data/interim/balanced.csv")
    histogram = pd.read_csv(root / "plots/balance/histogram.csv")
    assert histogram["before"].sum() == 200 and histogram["after"].sum() == len(balanced)
    assert histogram["after"].max() <= 10
    train, val = pd.read_csv(root / "data/split/train.csv"), pd.read_csv(root / "data/split/val.csv")
    assert len(train) + len(val) == len(balanced)
    assert set(train["time"]).isdisjoint(val["time"])
    split = json.loads((root / "metrics/split.json").read_text())
    assert split["strategy"] == "blocked" and split["val_frames"] == len(val)

    status = run([sys.executable, "-m", "dvc", "status", "ingest", "balance", "split"], root)
    assert "changed" not in status.stdout          # a second repro would have nothing to do


@pytest.mark.parametrize("script, args, words", [
    ("ingest.py", ["--out", "o.csv", "--metrics", "m.json"], "does not exist"),
    ("balance.py", ["--log", "missing.csv", "--out", "b.csv", "--plot", "p.csv"], "run `dvc repro ingest` first"),
    ("split.py", ["--log", "missing.csv", "--out-dir", "s", "--plot", "p.csv", "--metrics", "m.json"],
     "run `dvc repro balance` first"),
])
def test_missing_input_is_one_sentence_and_a_nonzero_exit(tmp_path, script, args, words):
    root = copy_project(tmp_path / "project", with_dvc=False)
    set_params(root, "ingest", sources=["data/raw/nothing_here"])
    result = run_stage(script, args, root)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_ingest_with_no_usable_row_fails_clearly(tmp_path):
    root = copy_project(tmp_path / "project", with_dvc=False)
    folder = root / "data/raw/broken"
    write_recording(folder, straight_values(3))
    for image in (folder / "IMG").iterdir():
        image.write_bytes(b"broken")
    set_params(root, "ingest", sources=["data/raw/broken"])
    result = run_stage("ingest.py", ["--out", "o.csv", "--metrics", "m.json"], root)
    assert result.returncode != 0 and "no usable row" in result.stderr and "Traceback" not in result.stderr
    assert "dropped 3 rows for bad_image (lines 1, 2, 3)" in result.stdout
