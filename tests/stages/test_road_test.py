"""road_test: a real drive server process, the headless simulator's client, and cleanup."""
import json
from pathlib import Path

import numpy as np
import pytest

from pilot.drive.process import DriveServerProcess, ServerStartError
from pilot.learn.model import build_pilotnet
from tests.stage_runner import copy_project, run_stage, set_params


def drive_processes(model_path: Path) -> list[int]:
    """PIDs of processes whose command line names `model_path` (a drive server serving it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "drive.py" in command and str(model_path) in command:
                found.append(int(entry.name))
    return found


TRACK_ARGS = ("--training-track-seed", "7", "--track-length-m", "700", "--track-width-m", "8",
              "--track-max-curvature-per-m", "0.045")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.keras"
    build_pilotnet().save(path)
    return path


@pytest.mark.slow
def test_road_test_drives_the_matrix_and_leaves_no_server_behind(tmp_path, tiny_model):
    root = copy_project(tmp_path / "project", with_dvc=False)
    set_params(root, "road_test", max_time_s=3.0, video_seconds=1.0, saliency_frames=2, unseen_track_seeds=[23, 29])
    result = run_stage("roadtest.py", ["--model", str(tiny_model), "--metrics", "metrics/drive.json",
                                        "--plots-dir", "plots/road_test", "--video", "plots/road_test/drive.mp4",
                                        "--work-dir", "data/road_test", *TRACK_ARGS], root)
    assert result.returncode == 0, result.stderr
    assert drive_processes(tiny_model) == []

    report = json.loads((root / "metrics/drive.json").read_text())
    assert list(report) == ["training", "unseen", "lake", "jungle", "unseen_23", "unseen_29"]
    for name, runs in report.items():
        assert set(runs) == {"set_speed", "top_speed"}
        for speed_name, metrics in runs.items():
            assert metrics["elapsed_s"] == pytest.approx(6.0 if name == "unseen" else 3.0, abs=0.3)
            assert {"interventions", "laps", "mean_abs_cross_track_m", "mean_cross_track_m", "max_abs_cross_track_m",
                    "mean_speed_mph", "distance_to_first_intervention_m", "lap_time_s",
                    "steering_jitter_per_s", "right_lane_pct"} <= set(metrics)
            # the Jungle's hills: the path coloured by height above its height along the road
            assert (root / f"plots/road_test/elevation_{name}_{speed_name}.png").is_file() == (name == "jungle")
            if not name.startswith("unseen_"):           # the pooled unseen tracks: one map with a panel each
                assert (root / f"plots/road_test/path_{name}_{speed_name}.png").stat().st_size > 10_000
                assert (root / f"plots/road_test/cross_track_{name}_{speed_name}.csv").read_text().startswith(
                    "distance_m,cross_track_m")
            assert (root / f"data/road_test/{name}_{speed_name}/trajectory.csv").is_file() != (name == "unseen")
    assert report["training"]["set_speed"]["track"] == 7 and report["unseen"]["set_speed"]["track"] == "23,29"
    assert report["unseen_29"]["top_speed"]["track"] == 29
    pooled, each = report["unseen"]["top_speed"], [report[f"unseen_{seed}"]["top_speed"] for seed in (23, 29)]
    assert pooled["steps"] == sum(run["steps"] for run in each)
    assert pooled["mean_abs_cross_track_m"] == pytest.approx(
        sum(run["mean_abs_cross_track_m"] * run["steps"] for run in each) / pooled["steps"], abs=1e-4)
    unseen_csv = (root / "plots/road_test/cross_track_unseen_top_speed.csv").read_text().splitlines()
    assert unseen_csv[0] == "distance_m,cross_track_m,track" and unseen_csv[-1].endswith(",unseen_29")
    assert report["lake"]["set_speed"]["track"] == "lake" and report["lake"]["set_speed"]["track_length_m"] > 1130
    jungle = report["jungle"]["top_speed"]
    assert jungle["track"] == "jungle" and jungle["track_length_m"] > 1490       # over the ground
    # 3 s from standstill: the car set to 30 mph is faster than the one set to the default speed
    assert report["training"]["top_speed"]["mean_speed_mph"] > report["training"]["set_speed"]["mean_speed_mph"]
    assert (root / "plots/road_test/saliency.png").stat().st_size > 10_000
    assert (root / "plots/road_test/drive.mp4").read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize("seeds", [[], 23, [23, 23], [7, 23], ["23"]])
def test_bad_unseen_track_seeds_are_one_sentence(tmp_path, seeds):
    root = copy_project(tmp_path / "project", with_dvc=False)
    set_params(root, "road_test", unseen_track_seeds=seeds)
    result = run_stage("roadtest.py", ["--model", "params.yaml", "--metrics", "m.json", "--plots-dir", "p",
                                        "--video", "p/v.mp4", *TRACK_ARGS], root)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "bad params.yaml road_test section: unseen_track_seeds" in result.stderr


def test_missing_model_is_one_sentence(tmp_path):
    root = copy_project(tmp_path / "project", with_dvc=False)
    result = run_stage("roadtest.py", ["--model", "models/none.keras", "--metrics", "m.json",
                                        "--plots-dir", "p", "--video", "p/v.mp4", *TRACK_ARGS], root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "road_test: model file models/none.keras not found: train one with `dvc repro` or pass the path of a "
        ".keras file or a Keras 2 model.h5.")


def test_a_server_that_cannot_start_is_reported_and_reaped(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a model")
    server = DriveServerProcess(broken)
    with pytest.raises(ServerStartError, match="did not start"):
        server.start(timeout_s=120)
    assert server.process.poll() is not None


def test_saliency_masks_are_normalised_per_image():
    from pilot.learn.saliency import visual_backprop
    images = np.random.default_rng(0).random((2, 66, 200, 3)).astype(np.float32)
    masks = visual_backprop(build_pilotnet(), images)
    assert masks.shape == (2, 66, 200)
    assert np.allclose(masks.min(axis=(1, 2)), 0) and np.allclose(masks.max(axis=(1, 2)), 1)
