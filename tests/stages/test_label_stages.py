"""ingest's label report and smoothing, run as a user runs the stage, on recordings made by the simulator's rules."""
from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from pilot.testing import input_devices
from tests.recordings import write_recording
from tests.stage_runner import copy_project, run, run_stage, set_params

INGEST = ("--out", "data/interim/log.csv", "--metrics", "metrics/ingest.json")


def device_values(device: str, duration_s: float = 30.0) -> list[tuple[float, float, float, float]]:
    """(steering, throttle, brake, speed) per 0.1 s frame of a synthetic recording from `device`."""
    times_s, intended = input_devices.intended_steering(duration_s, seed=3)
    made = {"keyboard": lambda: input_devices.keyboard(intended),
            "mouse": lambda: input_devices.mouse(intended, seed=3)}[device]()
    _, steering = input_devices.record(times_s, made)
    return [(round(float(s), 4), 0.5, 0.0, 20.0) for s in steering]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """A keyboard and a mouse recording, written once (JPEGs are slow to make) and copied per test."""
    raw = tmp_path_factory.mktemp("raw")
    write_recording(raw / "keys", device_values("keyboard"), path_style="relative")
    write_recording(raw / "mouse", device_values("mouse"), path_style="relative")
    return raw


@pytest.fixture
def project(tmp_path, recordings):
    root = copy_project(tmp_path / "project", with_dvc=False)
    shutil.copytree(recordings, root / "data/raw")
    set_params(root, "ingest", sources=["data/raw/keys", "data/raw/mouse"], check_images=False)
    return root


def test_ingest_reports_exact_zeros_and_the_input_device_per_recording(project):
    result = run_stage("ingest.py", INGEST, project)
    assert result.returncode == 0, result.stderr
    report = json.loads((project / "metrics/ingest.json").read_text())
    keys, mouse = report["recordings"]["keys"], report["recordings"]["mouse"]
    assert keys["input_device"] == "keyboard" and keys["exact_zero_steering_share"] > 0.4
    assert mouse["input_device"] == "mouse" and mouse["exact_zero_steering_share"] < 0.05
    assert "multiples of 0.05" in keys["input_device_reason"]
    assert "keys: " in result.stdout and "input device: keyboard" in result.stdout
    log = pd.read_csv(project / "data/interim/log.csv")
    # shipped: off (the real keyboard recording's unseen-lap figures were worse smoothed): labels as recorded
    assert report["smooth_steering_s"] == 0 and np.array_equal(log["steering"], log["steering_raw"])


def test_ingest_smooths_steering_within_runs_and_keeps_every_row_and_the_raw_value(project):
    set_params(project, "ingest", smooth_steering_s=0)
    run_stage("ingest.py", INGEST, project)
    raw = pd.read_csv(project / "data/interim/log.csv")
    set_params(project, "ingest", smooth_steering_s=1.0)
    result = run_stage("ingest.py", INGEST, project)
    assert result.returncode == 0, result.stderr
    smoothed = pd.read_csv(project / "data/interim/log.csv")
    assert smoothed["center"].tolist() == raw["center"].tolist()           # the same rows, in the same order
    assert np.array_equal(smoothed["steering_raw"], raw["steering"])
    keys = smoothed["recording"] == "keys"
    assert (smoothed["steering"][keys] == 0).mean() < 0.1 < (raw["steering"][keys] == 0).mean()
    assert json.loads((project / "metrics/ingest.json").read_text())["smooth_steering_s"] == 1.0


@pytest.mark.parametrize("window", [-1, "long"])
def test_a_bad_smoothing_window_is_one_sentence(project, window):
    set_params(project, "ingest", smooth_steering_s=window)
    result = run_stage("ingest.py", INGEST, project)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "ingest.smooth_steering_s" in result.stderr


@pytest.mark.slow
def test_dvc_repro_carries_raw_and_smoothed_labels_to_the_split(project):
    run(["git", "init", "-q"], project)
    run([sys.executable, "-m", "dvc", "init", "-q"], project)
    set_params(project, "ingest", smooth_steering_s=0.5)
    run([sys.executable, "-m", "dvc", "repro", "-s", "ingest", "balance", "split"], project)
    val = pd.read_csv(project / "data/split/val.csv")
    assert {"steering", "steering_raw"} <= set(val.columns)
    assert not np.array_equal(val["steering"], val["steering_raw"])


def test_auto_smooths_the_keyboard_recording_and_keeps_the_mouse_one(project):
    set_params(project, "ingest", smooth_steering_s="auto")
    result = run_stage("ingest.py", INGEST, project)
    assert result.returncode == 0, result.stderr
    log = pd.read_csv(project / "data/interim/log.csv")
    keys, mouse = log[log["recording"] == "keys"], log[log["recording"] == "mouse"]
    assert (keys["steering"] == 0).mean() < 0.1 < (keys["steering_raw"] == 0).mean()
    assert np.array_equal(mouse["steering"], mouse["steering_raw"])
    report = json.loads((project / "metrics/ingest.json").read_text())
    assert report["smooth_steering_s"] == "auto"
    assert report["recordings"]["keys"]["smooth_steering_s"] == 1.0
    assert report["recordings"]["mouse"]["smooth_steering_s"] == 0.0
    assert "steering smoothed over 1 s (auto)" in result.stdout


INGEST_WITH_TESTS = (*INGEST[:2], "--test-out", "data/interim/test_log.csv", *INGEST[2:])


def test_test_recordings_go_to_their_own_table_and_never_to_training(project):
    set_params(project, "ingest", sources=["data/raw/keys"], test_sources=["data/raw/mouse"])
    result = run_stage("ingest.py", INGEST_WITH_TESTS, project)
    assert result.returncode == 0, result.stderr
    log = pd.read_csv(project / "data/interim/log.csv")
    tests = pd.read_csv(project / "data/interim/test_log.csv")
    assert set(log["recording"]) == {"keys"} and set(tests["recording"]) == {"mouse"} and len(tests) == 300
    assert list(tests.columns) == list(log.columns)
    report = json.loads((project / "metrics/ingest.json").read_text())
    assert set(report["recordings"]) == {"keys"} and set(report["test_recordings"]) == {"mouse"}
    assert report["test_recordings"]["mouse"]["input_device"] == "mouse"

    set_params(project, "ingest", test_sources=[])
    assert run_stage("ingest.py", INGEST_WITH_TESTS, project).returncode == 0
    assert pd.read_csv(project / "data/interim/test_log.csv").empty          # its header only


@pytest.mark.parametrize("test_sources, message", [
    (["data/raw/keys"], "is both a source and a test source"),
    ("data/raw/mouse", "ingest.test_sources is 'data/raw/mouse': give a list"),
    (["data/raw/nowhere"], "data/raw/nowhere"),
])
def test_a_bad_test_recording_list_is_one_sentence(project, test_sources, message):
    set_params(project, "ingest", test_sources=test_sources)
    result = run_stage("ingest.py", INGEST_WITH_TESTS, project)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]
