"""What a replay gives: a record per frame, and the scores a person reads (PilotNet's autonomy)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pilot.scoring import SECONDS_PER_INTERVENTION, autonomy_pct


@dataclass(frozen=True)
class FrameRecord:
    """One replayed frame: where the model's car was and what each driver steered."""

    time_s: float                  # since the recording's first frame
    distance_m: float              # along the replayed reference, summed over the recording's stretches
    offset_m: float                # the car's root left (+) or right (-) of the reference's, before any reset
    heading_error_deg: float       # the model's car turned left (+) of the reference, before any reset
    human_steering: float          # recorded, -1..1
    model_steering: float          # the model's answer to this frame's synthesised view
    applied_steering: float        # the front wheels' steering when the frame was seen (latency, rate limit)
    camera: str                    # the recorded camera the view was synthesised from
    intervention: bool             # the car was off the reference (or off the road) here and was put back on it
    stretch: int                   # which contiguous stretch of the recording
    cross_track_m: float | None = None         # on a known road: the model car's centre left (+) of the centre line
    human_cross_track_m: float | None = None   # ... and the recorded car's, where the map matching put it
    road_tilt_deg: float | None = None         # the road in view against the plane under the car (+ rises ahead)


@dataclass
class RecordingReplay:
    """Every replayed frame of one recording, and what was left out."""

    name: str
    records: list[FrameRecord] = field(default_factory=list)
    elapsed_s: float = 0.0
    distance_m: float = 0.0
    stretches: int = 0
    skipped_stretches: int = 0        # too short to replay
    skipped_frames: int = 0           # standing, or in a stretch too short to replay
    motion: str = "labels"            # where the reference motion came from (pilot.replay.odometry)
    motion_errors: dict = field(default_factory=dict)     # each source's photometric error, when chosen by them
    track: str | None = None          # the known road the stretches were placed on, if any
    stretches_on_road: int = 0        # stretches placed on it (the others use the human-path rule)
    road_half_width_m: float | None = None                # that road's half width
    heading_fit_deg: list[float] = field(default_factory=list)   # each placed stretch's unexplained heading
    rig: dict = field(default_factory=dict)               # the camera rig used, and how it was fitted

    @property
    def interventions(self) -> int:
        return sum(record.intervention for record in self.records)

    def summary(self, cost_s: float = SECONDS_PER_INTERVENTION, grade_change_deg: float | None = None) -> dict:
        """The numbers for metrics/replay.json, and how this recording was replayed (grade_change_deg: see
        grade_change_summary)."""
        summary = _summary(self.records, self.elapsed_s, self.distance_m, self.stretches, self.skipped_stretches,
                           self.skipped_frames, cost_s, steering_jitter_per_s(self.records, self.elapsed_s),
                           grade_change_deg)
        summary["reference"] = (f"{self.track} centre line" if self.stretches_on_road == self.stretches
                                else "human path" if not self.stretches_on_road
                                else f"{self.track} centre line for {self.stretches_on_road} of {self.stretches} "
                                     f"stretches, human path for the others")
        summary["motion"] = self.motion
        if self.motion_errors:
            summary["motion_photometric_error"] = self.motion_errors
        if self.heading_fit_deg:
            summary["road_heading_fit_deg"] = round(max(self.heading_fit_deg), 2)
        if self.rig:
            summary["rig"] = self.rig
        return summary


def steering_jitter_per_s(records: list[FrameRecord], elapsed_s: float) -> float:
    """Mean |change of the model's steering| per second, within stretches (the road test's jitter)."""
    if elapsed_s <= 0:
        return 0.0
    change = sum(abs(b.model_steering - a.model_steering) for a, b in zip(records, records[1:])
                 if a.stretch == b.stretch)
    return change / elapsed_s


def overall_summary(replays: list[RecordingReplay], cost_s: float = SECONDS_PER_INTERVENTION,
                    grade_change_deg: float | None = None) -> dict:
    """The same numbers over every recording together (autonomy over the summed time, jitter per second of all)."""
    elapsed_s = sum(replay.elapsed_s for replay in replays)
    jitter = (sum(steering_jitter_per_s(replay.records, replay.elapsed_s) * replay.elapsed_s for replay in replays)
              / elapsed_s if elapsed_s > 0 else 0.0)
    return _summary([record for replay in replays for record in replay.records], elapsed_s,
                    sum(replay.distance_m for replay in replays), sum(replay.stretches for replay in replays),
                    sum(replay.skipped_stretches for replay in replays),
                    sum(replay.skipped_frames for replay in replays), cost_s, jitter, grade_change_deg)


def grade_change_summary(records: list[FrameRecord], grade_change_deg: float) -> dict:
    """How much was replayed where the flat-road synthesis is wrong: frames whose road in view tilts further than
    grade_change_deg from the plane under the car (a crest, a dip), their share, and the interventions there."""
    measured = [record for record in records if record.road_tilt_deg is not None]
    if not measured:
        return {}
    tilted = [record for record in measured if abs(record.road_tilt_deg) > grade_change_deg]
    return {"grade_change_frames": len(tilted),
            "grade_change_percent": round(100.0 * len(tilted) / len(measured), 2),
            "grade_change_interventions": sum(record.intervention for record in tilted),
            "grade_change_limit_deg": grade_change_deg,
            "max_abs_road_tilt_deg": round(max(abs(record.road_tilt_deg) for record in measured), 2)}


def _summary(records: list[FrameRecord], elapsed_s: float, distance_m: float, stretches: int,
             skipped_stretches: int, skipped_frames: int, cost_s: float, jitter_per_s: float,
             grade_change_deg: float | None = None) -> dict:
    offsets = np.abs([record.offset_m for record in records]) if records else np.zeros(1)
    interventions = sum(record.intervention for record in records)
    on_road = [abs(record.cross_track_m) for record in records if record.cross_track_m is not None]
    road = {"mean_abs_cross_track_m": round(float(np.mean(on_road)), 4) if on_road else None,
            "max_abs_cross_track_m": round(float(np.max(on_road)), 4) if on_road else None}
    return {
        "autonomy_percent": round(autonomy_pct(interventions, elapsed_s, cost_s), 2) if elapsed_s > 0 else None,
        "interventions": interventions,
        "mean_abs_offset_m": round(float(offsets.mean()), 4),
        "max_abs_offset_m": round(float(offsets.max()), 4),
        **road,
        "steering_jitter_per_s": round(jitter_per_s, 4),
        "frames_replayed": len(records),
        "elapsed_s": round(elapsed_s, 3),
        "distance_m": round(distance_m, 2),
        "stretches": stretches,
        "stretches_too_short": skipped_stretches,
        "frames_not_replayed": skipped_frames,          # standing, or in a stretch too short
        **({} if grade_change_deg is None else grade_change_summary(records, grade_change_deg)),
    }
