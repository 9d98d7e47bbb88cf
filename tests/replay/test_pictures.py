"""Replay pictures: the offset plot and the mp4 of the synthesised drive, made from a real replay."""
from __future__ import annotations

import imageio_ffmpeg
import numpy as np
import pytest

from pilot.replay.loop import replay_recording
from pilot.replay.pictures import ReplayVideo, draw_replay_frame, offset_plot
from tests.replay.drives import HEADLESS_CAR, HEADLESS_RIG, Drive, expert_drive


@pytest.fixture(scope="module")
def drive() -> Drive:
    return expert_drive(frames=40)


def test_a_replay_streams_into_an_mp4_and_plots_its_offset(drive: Drive, tmp_path) -> None:
    with ReplayVideo(tmp_path / "replay.mp4", fps=10.0, max_frames=30) as video:
        result = replay_recording("run", drive.time_s, drive.steering, drive.speed_mph, drive.frame,
                                  lambda view: 0.0, HEADLESS_RIG, HEADLESS_CAR, on_frame=video.add)
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "replay.mp4"))
    meta = reader.__next__()
    assert meta["size"] == (640, 320) and len(list(reader)) == 30
    plot = offset_plot(result.records, "run: model 'always 0'", tmp_path / "plots" / "offset.png")
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_an_intervention_frame_is_framed_in_red(drive: Drive) -> None:
    records = replay_recording("run", drive.time_s, drive.steering, drive.speed_mph, drive.frame,
                               lambda view: -1.0, HEADLESS_RIG, HEADLESS_CAR).records
    hit = next(record for record in records if record.intervention)
    calm = records[0]
    view = drive.frame(0, "center")
    border = draw_replay_frame(view, hit)[100:200, :3].reshape(-1, 3).mean(axis=0)
    assert border[0] > 180 and border[1] < 80
    assert not np.array_equal(draw_replay_frame(view, calm)[100:200, :3], draw_replay_frame(view, hit)[100:200, :3])
