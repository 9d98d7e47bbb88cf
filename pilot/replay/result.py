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
    intervention: bool             # the car was off the reference here and was put back on it
    stretch: int                   # which contiguous stretch of the recording


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

    @property
    def interventions(self) -> int:
        return sum(record.intervention for record in self.records)

    def summary(self, cost_s: float = SECONDS_PER_INTERVENTION) -> dict:
        """The numbers for metrics/replay.json."""
        return _summary(self.records, self.elapsed_s, self.distance_m, self.stretches, self.skipped_stretches,
                        self.skipped_frames, cost_s)


def overall_summary(replays: list[RecordingReplay], cost_s: float = SECONDS_PER_INTERVENTION) -> dict:
    """The same numbers over every recording together (autonomy over the summed time)."""
    return _summary([record for replay in replays for record in replay.records],
                    sum(replay.elapsed_s for replay in replays), sum(replay.distance_m for replay in replays),
                    sum(replay.stretches for replay in replays), sum(replay.skipped_stretches for replay in replays),
                    sum(replay.skipped_frames for replay in replays), cost_s)


def _summary(records: list[FrameRecord], elapsed_s: float, distance_m: float, stretches: int,
             skipped_stretches: int, skipped_frames: int, cost_s: float) -> dict:
    offsets = np.abs([record.offset_m for record in records]) if records else np.zeros(1)
    interventions = sum(record.intervention for record in records)
    return {
        "autonomy_percent": round(autonomy_pct(interventions, elapsed_s, cost_s), 2) if elapsed_s > 0 else None,
        "interventions": interventions,
        "mean_abs_offset_m": round(float(offsets.mean()), 4),
        "max_abs_offset_m": round(float(offsets.max()), 4),
        "frames_replayed": len(records),
        "elapsed_s": round(elapsed_s, 3),
        "distance_m": round(distance_m, 2),
        "stretches": stretches,
        "stretches_too_short": skipped_stretches,
        "frames_not_replayed": skipped_frames,          # standing, or in a stretch too short
    }
