"""Replay from recordings on disk: the simulator's log format, read by ingest's reader, scored per recording."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from pilot.replay.frame_table import replay_frame_table
from pilot.replay.loop import ReplaySettings, ReplayTooShort
from pilot.sim.camera import encode_jpeg
from pilot.udacity.log_reader import read_recording
from pilot.udacity.log_writer import RecordingWriter
from tests.recordings import write_recording
from tests.replay.drives import HEADLESS_CAR, HEADLESS_RIG, CopyHuman, Drive, expert_drive


def record(drive: Drive, folder: Path) -> None:
    """Write the drive as the simulator would: driving_log.csv with Windows paths and C# numbers, IMG/ JPEGs."""
    with RecordingWriter(folder, datetime(2026, 11, 21, 12, 0, 0)) as writer:
        for index, time_s in enumerate(drive.time_s):
            jpegs = {camera: encode_jpeg(drive.frame(index, camera)) for camera in ("center", "left", "right")}
            writer.write(float(time_s), jpegs, float(drive.steering[index]), 0.3, 0.0, float(drive.speed_mph[index]))


def ingest(root: Path, *folders: str) -> pd.DataFrame:
    return pd.DataFrame([row for folder in folders for row in read_recording(root / folder, repo_root=root).rows])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("repo")
    record(expert_drive(frames=45), root / "data" / "raw" / "lap")
    write_recording(root / "data" / "raw" / "parked", [(0.0, 0.0, 0.0, 0.001)] * 17, step_ms=70)
    return root, ingest(root, "data/raw/lap", "data/raw/parked")


def test_a_recording_on_disk_scores_100_percent_for_the_humans_steering(recorded) -> None:
    root, frames = recorded
    lap = frames[frames["recording"] == "lap"]
    copy_human = CopyHuman(lap["steering"].to_numpy())            # the steering as the log holds it (7 digits)
    result = replay_frame_table(lap, copy_human, root, HEADLESS_RIG, HEADLESS_CAR,
                                ReplaySettings(latency_s=0.0, steering_rate_per_s=None))
    metrics = result.metrics()
    assert metrics["recordings"]["lap"]["autonomy_percent"] == 100.0
    assert metrics["overall"]["frames_replayed"] == 45 and metrics["overall"]["max_abs_offset_m"] < 1e-6
    assert metrics["overall"]["elapsed_s"] == pytest.approx(4.4)
    lap_summary = metrics["recordings"]["lap"]                    # a level circuit: no frame on a change of grade
    assert lap_summary["grade_change_frames"] == 0 and lap_summary["max_abs_road_tilt_deg"] < 0.5
    unmeasured = replay_frame_table(lap, CopyHuman(lap["steering"].to_numpy()), root, HEADLESS_RIG, HEADLESS_CAR,
                                    ReplaySettings(grade_change_deg=None)).metrics()
    assert "grade_change_percent" not in unmeasured["overall"]


def test_a_too_short_recording_is_listed_beside_the_replayed_ones(recorded) -> None:
    root, frames = recorded
    result = replay_frame_table(frames, lambda view: 0.0, root, HEADLESS_RIG, HEADLESS_CAR)
    metrics = result.metrics()
    assert list(metrics["recordings"]) == ["lap"] and list(metrics["too_short"]) == ["parked"]
    assert "never drives at 2 mph or more" in metrics["too_short"]["parked"]
    assert metrics["overall"]["interventions"] >= 1 and metrics["overall"]["autonomy_percent"] < 100.0


def test_only_too_short_recordings_give_one_sentence(recorded) -> None:
    root, frames = recorded
    with pytest.raises(ReplayTooShort) as caught:
        replay_frame_table(frames[frames["recording"] == "parked"], lambda view: 0.0, root)
    message = str(caught.value)
    assert message.startswith("recording 'parked' cannot be replayed") and "\n" not in message
    with pytest.raises(ValueError, match="lacks the columns speed"):
        replay_frame_table(frames.drop(columns="speed"), lambda view: 0.0, root)
