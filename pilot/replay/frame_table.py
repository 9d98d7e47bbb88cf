"""Replay rows of the canonical frame table (ingest's columns), one recording at a time.

Images are read only when the replay asks for them (one camera per frame), from paths
relative to the repository root, as every stage writes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.replay.loop import (
    FrameHook,
    FrameSource,
    ReplaySettings,
    ReplayTooShort,
    SteeringModel,
    place_frames_on_road,
    prepare_recording,
    replay_prepared,
)
from pilot.replay.reference import CarGeometry
from pilot.replay.result import RecordingReplay, overall_summary
from pilot.replay.rig_fit import RigFit, fit_rig, spread
from pilot.replay.road import MAX_HEADING_RMS_DEG
from pilot.sim.track import named_track
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.frame_time import frame_milliseconds, seconds_since_first
from pilot.udacity.images import read_jpeg_rgb
from pilot.udacity.simulator import CAMERAS

NEEDED_COLUMNS = ("recording", "time", *CAMERAS, "steering", "speed")
# replay.track -> how much heading a stretch may leave unexplained and still be placed on the Lake (degrees)
TRACKS = {"none": 0.0, "auto": MAX_HEADING_RMS_DEG, "lake": 1.5 * MAX_HEADING_RMS_DEG}


@dataclass
class TableReplay:
    """The replayed recordings, and the sentence for each recording too short to replay."""

    replays: list[RecordingReplay] = field(default_factory=list)
    too_short: dict[str, str] = field(default_factory=dict)

    def metrics(self, settings: ReplaySettings = ReplaySettings()) -> dict:
        """metrics/replay.json: overall, per recording, and what could not be replayed."""
        cost_s, limit_deg = settings.intervention_cost_s, settings.grade_change_deg
        return {
            "overall": overall_summary(self.replays, cost_s, limit_deg),
            "recordings": {replay.name: replay.summary(cost_s, limit_deg) for replay in self.replays},
            "too_short": dict(self.too_short),
        }


def frame_source(rows: pd.DataFrame, root: str | Path = ".", keep: int = 8) -> FrameSource:
    """(row position, camera) -> that row's decoded image, read when asked for; the last `keep` are kept (odometry
    and the replay ask for a frame several times in a row)."""
    root = Path(root)
    paths = {camera: rows[camera].tolist() for camera in CAMERAS}

    @lru_cache(maxsize=keep)
    def frame(index: int, camera: str) -> np.ndarray:
        return read_jpeg_rgb(str(root / paths[camera][index]))

    return frame


def recording_rig(rows: pd.DataFrame, frames: FrameSource, min_speed_mph: float) -> RigFit:
    """The rig one recording's own side cameras fit best (pilot.replay.rig_fit), on moving frames spread through it."""
    moving = np.flatnonzero(rows["speed"].to_numpy(np.float64) >= min_speed_mph)
    picks = moving[spread(len(moving))]
    return fit_rig([tuple(frames(int(index), camera) for camera in CAMERAS) for index in picks])


def replay_frame_table(frames: pd.DataFrame, model: SteeringModel, root: str | Path = ".",
                       rig: CameraRig | None = CameraRig(), car: CarGeometry = CarGeometry(),
                       settings: ReplaySettings = ReplaySettings(), on_frame: FrameHook | None = None,
                       track: str = "none", context: pd.DataFrame | None = None) -> TableReplay:
    """Replay every recording in the table (rows in time order within each); too-short ones are listed, not fatal.

    `rig` None fits the rig to each recording's own side cameras. `track`: `none` replays against the
    human's path; `lake` places each stretch on the Lake's centre line (the road test's rule);
    `auto` does so for the stretches that fit the Lake (TRACKS says how strictly). Each recording is placed on the
    road from its frames in `context` (ingest's whole table: every frame of it), else from the frames replayed.
    Raises ReplayTooShort (one sentence) when no recording can be replayed, and ValueError
    when the table lacks a needed column.
    """
    if track not in TRACKS:
        raise ValueError(f"replay.track is '{track}': use one of {', '.join(TRACKS)}.")
    road = None if track == "none" else named_track("lake")
    missing = [column for column in NEEDED_COLUMNS if column not in frames.columns]
    if missing:
        raise ValueError(f"the frame table lacks the columns {', '.join(missing)}: replay needs ingest's columns.")
    if frames.empty:
        raise ReplayTooShort("there are no frames to replay: check the frames the replay was given.")
    result = TableReplay()
    for name, rows in frames.groupby("recording", sort=True):
        rows = rows.sort_values("time", kind="stable").reset_index(drop=True)
        source = frame_source(rows, root)
        fit = recording_rig(rows, source, settings.min_speed_mph) if rig is None else None
        placed = None
        if road is not None:
            whole = rows if context is None else context[context["recording"] == name]
            whole = whole.sort_values("time", kind="stable")
            placed = place_frames_on_road(road, frame_milliseconds(whole["time"]),
                                          whole["steering"].to_numpy(np.float64), whole["speed"].to_numpy(np.float64),
                                          car, settings, TRACKS[track])
        try:
            prepared = prepare_recording(
                str(name), seconds_since_first(rows["time"]), rows["steering"].to_numpy(np.float64),
                rows["speed"].to_numpy(np.float64), source, fit.rig if fit else rig, car, settings, placed,
                frame_milliseconds(rows["time"]), "lake", 0.0 if road is None else road.half_width_m)
        except ReplayTooShort as too_short:
            result.too_short[str(name)] = str(too_short)
            continue
        replay = replay_prepared(prepared, source, model, fit.rig if fit else rig, car, settings, on_frame)
        if fit is not None:
            replay.rig = fit.as_dict()
        result.replays.append(replay)
    if not result.replays:
        if len(result.too_short) == 1:
            raise ReplayTooShort(next(iter(result.too_short.values())))
        raise ReplayTooShort(f"none of the {len(result.too_short)} recordings has a run of frames at least "
                             f"{settings.min_stretch_s:g} s long to replay: record longer drives.")
    return result
