"""Replay rows of the canonical frame table (ingest's columns), one recording at a time.

Images are read only when the replay asks for them (one camera per frame), from paths
relative to the repository root, as every stage writes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.replay.loop import FrameHook, FrameSource, ReplaySettings, ReplayTooShort, SteeringModel, replay_recording
from pilot.replay.reference import CarGeometry
from pilot.replay.result import RecordingReplay, overall_summary
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.frame_time import seconds_since_first
from pilot.udacity.images import read_jpeg_rgb
from pilot.udacity.simulator import CAMERAS

NEEDED_COLUMNS = ("recording", "time", *CAMERAS, "steering", "speed")


@dataclass
class TableReplay:
    """The replayed recordings, and the sentence for each recording too short to replay."""

    replays: list[RecordingReplay] = field(default_factory=list)
    too_short: dict[str, str] = field(default_factory=dict)

    def metrics(self, settings: ReplaySettings = ReplaySettings()) -> dict:
        """metrics/replay.json: overall, per recording, and what could not be replayed."""
        cost_s = settings.intervention_cost_s
        return {
            "overall": overall_summary(self.replays, cost_s),
            "recordings": {replay.name: replay.summary(cost_s) for replay in self.replays},
            "too_short": dict(self.too_short),
        }


def frame_source(rows: pd.DataFrame, root: str | Path = ".") -> FrameSource:
    """(row position, camera) -> that row's decoded image, read when asked for."""
    root = Path(root)
    paths = {camera: rows[camera].tolist() for camera in CAMERAS}

    def frame(index: int, camera: str) -> np.ndarray:
        return read_jpeg_rgb(str(root / paths[camera][index]))

    return frame


def replay_frame_table(frames: pd.DataFrame, model: SteeringModel, root: str | Path = ".",
                       rig: CameraRig = CameraRig(), car: CarGeometry = CarGeometry(),
                       settings: ReplaySettings = ReplaySettings(), on_frame: FrameHook | None = None) -> TableReplay:
    """Replay every recording in the table (rows in time order within each); too-short ones are listed, not fatal.

    Raises ReplayTooShort (one sentence) when no recording can be replayed, and ValueError
    when the table lacks a needed column.
    """
    missing = [column for column in NEEDED_COLUMNS if column not in frames.columns]
    if missing:
        raise ValueError(f"the frame table lacks the columns {', '.join(missing)}: replay needs ingest's columns.")
    if frames.empty:
        raise ReplayTooShort("there are no frames to replay: check the frames the replay was given.")
    result = TableReplay()
    for name, rows in frames.groupby("recording", sort=True):
        rows = rows.sort_values("time", kind="stable").reset_index(drop=True)
        try:
            result.replays.append(replay_recording(
                str(name), seconds_since_first(rows["time"]), rows["steering"].to_numpy(np.float64),
                rows["speed"].to_numpy(np.float64), frame_source(rows, root), model, rig, car, settings, on_frame))
        except ReplayTooShort as too_short:
            result.too_short[str(name)] = str(too_short)
    if not result.replays:
        if len(result.too_short) == 1:
            raise ReplayTooShort(next(iter(result.too_short.values())))
        raise ReplayTooShort(f"none of the {len(result.too_short)} recordings has a run of frames at least "
                             f"{settings.min_stretch_s:g} s long to replay: record longer drives.")
    return result
