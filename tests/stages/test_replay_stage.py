"""The replay stage for real: a recording rendered by the headless simulator, a saved PilotNet, the script."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from pilot.replay.held_out import held_out_frames
from pilot.sim.camera import encode_jpeg
from pilot.udacity.frame_time import format_frame_time
from tests.replay.drives import expert_drive
from tests.stage_runner import run_stage, write_params

START = datetime(2026, 11, 21, 12, 0, 0)
CAMERAS = ("center", "left", "right")


def frame_table(folder: Path, name: str, frames: int, start_m: float = 0.0) -> pd.DataFrame:
    """Ingest's frame table of an expert drive, its JPEGs written under folder/name/IMG (paths relative to folder)."""
    drive = expert_drive(frames=frames, start_m=start_m)
    (folder / name / "IMG").mkdir(parents=True)
    rows = []
    for index in range(frames):
        stamp = START + timedelta(seconds=float(drive.time_s[index]))
        paths = {}
        for camera in CAMERAS:
            path = Path(name) / "IMG" / f"{camera}_{index:04d}.jpg"
            (folder / path).write_bytes(encode_jpeg(drive.frame(index, camera)))
            paths[camera] = str(path)
        rows.append({"recording": name, "time": format_frame_time(stamp), **paths,
                     "steering": drive.steering[index], "throttle": 0.3, "brake": 0.0, "speed": drive.speed_mph[index]})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    from pilot.learn.model import build_pilotnet
    path = tmp_path_factory.mktemp("model") / "model.keras"
    build_pilotnet().save(path)
    return path


def run_replay(folder: Path, model: Path, frames: str = "held_out",
               test_log: str | None = None) -> tuple[int, str, dict | None]:
    write_params(folder, replay={"frames": frames, "video_seconds": 2})
    tests = ["--test-log", test_log] if test_log else []
    result = run_stage("replay.py", ["--log", "log.csv", "--split-dir", "split", "--model", str(model),
                                     "--metrics", "replay.json", "--plots-dir", "plots", *tests], folder)
    metrics = json.loads((folder / "replay.json").read_text()) if (folder / "replay.json").is_file() else None
    return result.returncode, result.stdout + result.stderr, metrics


def test_held_out_frames_lie_between_validation_frames_only():
    times = [format_frame_time(START + timedelta(seconds=0.1 * i)) for i in range(30)]
    ingest = pd.DataFrame({"recording": "a", "time": times})
    train = ingest.iloc[[0, 4, 8, 24]]           # balance kept a few frames of each block
    val = ingest.iloc[[10, 14, 19, 28]]
    kept = held_out_frames(ingest, train, val).index.tolist()
    # 10..19 lie between validation frames; 9 (train 8 before it) and 20..27 (train 24 between) do not; 28 is a
    # validation frame itself, and after it no split frame closes the stretch, so 29 is not held out
    assert kept == list(range(10, 20)) + [28]


def test_the_stage_replays_the_held_out_stretch_and_writes_the_metrics(tmp_path, model_file):
    log = frame_table(tmp_path, "sim", 60)
    log.to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "split").mkdir()
    log.iloc[0:20:2].to_csv(tmp_path / "split" / "train.csv", index=False)    # a balanced subset of each side
    log.iloc[20:60:2].to_csv(tmp_path / "split" / "val.csv", index=False)

    code, output, metrics = run_replay(tmp_path, model_file)

    assert code == 0, output
    assert "Traceback" not in output
    for summary in (metrics["overall"], metrics["recordings"]["sim"]):
        assert {"autonomy_percent", "interventions", "mean_abs_offset_m", "max_abs_offset_m",
                "frames_replayed"} <= set(summary)
    assert metrics["overall"]["frames_replayed"] == 39          # frames 20..58: the first to the last validation frame
    assert metrics["too_short"] == {}
    assert (tmp_path / "plots" / "offset" / "offset_sim.png").stat().st_size > 0
    assert (tmp_path / "plots" / "drive.mp4").stat().st_size > 0


def test_a_recording_too_short_to_replay_is_one_sentence_and_the_others_still_count(tmp_path, model_file):
    short = frame_table(tmp_path, "short", 17)             # the real sample's length: 1.6 s of driving
    short.to_csv(tmp_path / "log.csv", index=False)

    code, output, metrics = run_replay(tmp_path, model_file, frames="all")

    assert code == 0, output
    assert "Traceback" not in output
    sentence = next(line for line in output.splitlines() if line.startswith("replay: nothing replayed"))
    assert "'short' cannot be replayed" in sentence and "record a longer drive" in sentence
    assert metrics["overall"]["frames_replayed"] == 0 and "short" in metrics["too_short"]
    assert (tmp_path / "plots" / "drive.mp4").stat().st_size == 0

    both = pd.concat([short, frame_table(tmp_path, "long", 40, start_m=200.0)])
    both.to_csv(tmp_path / "log.csv", index=False)
    code, output, metrics = run_replay(tmp_path, model_file, frames="all")
    assert code == 0, output
    assert set(metrics["recordings"]) == {"long"} and set(metrics["too_short"]) == {"short"}
    assert any(line.startswith("replay: left out: recording 'short'") for line in output.splitlines())


def test_a_test_recording_is_replayed_whole_beside_the_held_out_stretches(tmp_path, model_file):
    log = frame_table(tmp_path, "sim", 60)
    log.to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "split").mkdir()
    log.iloc[0:20:2].to_csv(tmp_path / "split" / "train.csv", index=False)
    log.iloc[20:60:2].to_csv(tmp_path / "split" / "val.csv", index=False)
    unseen = frame_table(tmp_path, "unseen", 50, start_m=300.0)
    unseen.assign(steering_raw=unseen["steering"]).to_csv(tmp_path / "test_log.csv", index=False)

    code, output, metrics = run_replay(tmp_path, model_file, test_log="test_log.csv")

    assert code == 0, output
    assert metrics["overall"]["frames_replayed"] == 39 and set(metrics["recordings"]) == {"sim"}
    test = metrics["test"]
    assert set(test["recordings"]) == {"unseen"} and test["overall"]["frames_replayed"] == 50
    assert test["recordings"]["unseen"]["reference"] == "human path"          # a generated track: not the Lake
    assert (tmp_path / "plots" / "offset" / "test_unseen.png").stat().st_size > 0
    assert any(line.startswith("replay: test recording unseen: autonomy") for line in output.splitlines())

    pd.DataFrame(columns=[*unseen.columns, "steering_raw"]).to_csv(tmp_path / "test_log.csv", index=False)
    code, output, metrics = run_replay(tmp_path, model_file, test_log="test_log.csv")
    assert code == 0, output
    assert "test" not in metrics                                              # no test recording: no section
