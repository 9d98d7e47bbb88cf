"""The simulate stage end to end: the script with small params, and a real `dvc repro simulate`."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from pilot.udacity.log_reader import read_recording
from tests.stage_runner import run, run_stage, write_params

REPO = Path(__file__).resolve().parents[2]


def small_params(folder: Path, **overrides) -> None:
    """The project's params.yaml with a short recording (one flat track, a tenth of a lap)."""
    write_params(folder, simulate={"laps": 0.08, "extra_track_seeds": [], "hill_track_seeds": [], **overrides})


def run_simulate(folder: Path) -> subprocess.CompletedProcess:
    return run_stage("simulate.py", ["--out", "data/raw/sim", "--contact-sheet", "plots/sheet.png",
                                     "--metrics", "metrics/simulate.json"], folder)


def test_stage_writes_recording_contact_sheet_and_metrics(tmp_path: Path) -> None:
    small_params(tmp_path)
    done = run_simulate(tmp_path)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "metrics" / "simulate.json").read_text())
    assert metrics["interventions"] == 0 and metrics["track_seeds"] == [7]
    lines = (tmp_path / "data/raw/sim/driving_log.csv").read_text().splitlines()
    assert len(lines) == metrics["frames"] and lines[0].startswith("C:\\Users\\sim\\Desktop\\sim run\\IMG\\center_")
    assert len(list((tmp_path / "data/raw/sim/IMG").glob("*.jpg"))) == 3 * metrics["frames"]
    sheet = cv2.imread(str(tmp_path / "plots" / "sheet.png"))
    assert sheet.shape[0] > 4 * 160 and sheet.shape[1] > 3 * 320     # 4 rows x 3 cameras
    previous = (tmp_path / "data/raw/sim/driving_log.csv").read_bytes()
    assert run_simulate(tmp_path).returncode == 0                       # a re-run replaces, byte for byte
    assert (tmp_path / "data/raw/sim/driving_log.csv").read_bytes() == previous


@pytest.mark.parametrize("override, words", [({"path_style": "mac"}, "path_style"),
                                             ({"track": {"lenght_m": 700}}, "unknown keys"),
                                             ({"track_seed": "moon"}, "unknown track 'moon'"),
                                             ({"hill_track": {"max_grade": 0.9}}, "max_grade"),
                                             ({"hill_track": {"grade": 0.2}}, "unknown keys"),
                                             ({"hill_track": {"look": "moon"}}, "look must be one of"),
                                             ({"hill_track": {"layout": "maze"}}, "layout must be one of"),
                                             ({"hill_track_seeds": ["jungle"]}, "whole numbers"),
                                             ({"workers": -1}, "workers must be 0")])
def test_bad_params_give_one_sentence_and_a_non_zero_exit(tmp_path: Path, override: dict, words: str) -> None:
    small_params(tmp_path, **override)
    done = run_simulate(tmp_path)
    assert done.returncode != 0 and words in done.stderr and "Traceback" not in done.stderr


def test_stage_records_the_lake_track_by_name(tmp_path: Path) -> None:
    small_params(tmp_path, track_seed="lake", laps=0.03)
    done = run_simulate(tmp_path)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "metrics" / "simulate.json").read_text())
    assert metrics["track_seeds"] == ["lake"] and metrics["tracks"][0]["length_m"] == pytest.approx(1138.9, abs=0.1)
    assert metrics["interventions"] == 0 and metrics["frames"] > 10


def test_hilly_circuits_are_recorded_after_the_flat_ones_and_the_expert_keeps_the_road(tmp_path: Path) -> None:
    small_params(tmp_path, laps=0.1, hill_track_seeds=[41], hill_track={"max_grade": 0.2, "max_curvature_per_m": 0.1})
    done = run_simulate(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "on tracks [7] and hilly ones [41]" in done.stdout
    metrics = json.loads((tmp_path / "metrics" / "simulate.json").read_text())
    assert metrics["track_seeds"] == [7] and metrics["hill_track_seeds"] == [41]
    assert [track["track_seed"] for track in metrics["tracks"]] == [7, 41] and metrics["interventions"] == 0
    rows = read_recording(tmp_path / "data/raw/sim", repo_root=tmp_path).rows
    assert len(rows) == metrics["frames"] == sum(track["frames"] for track in metrics["tracks"])


@pytest.mark.slow
def test_dvc_repro_simulate_gives_a_recording_ingest_reads_whole(tmp_path: Path) -> None:
    shutil.copy(REPO / "dvc.yaml", tmp_path)
    shutil.copytree(REPO / "pilot", tmp_path / "pilot", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "stages").mkdir()
    shutil.copy(REPO / "stages" / "simulate.py", tmp_path / "stages")
    small_params(tmp_path)
    dvc = [sys.executable, "-m", "dvc"]
    run(dvc + ["init", "--no-scm", "-q"], tmp_path)
    run(dvc + ["config", "core.analytics", "false"], tmp_path)
    run(dvc + ["repro", "simulate"], tmp_path)
    readout = read_recording(tmp_path / "data/raw/sim", repo_root=tmp_path)
    assert readout.rows_read > 20 and len(readout.rows) == readout.rows_read
    assert (tmp_path / "plots/simulate/contact_sheet.png").is_file()
