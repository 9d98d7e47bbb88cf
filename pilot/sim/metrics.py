"""How well a headless drive went: its frames (StepRecord), their summary (autonomy, cross-track error, laps,
speed, jitter) and the trajectory CSV. The scoring formulas shared with replay are pilot.scoring's."""
from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pilot.scoring import autonomy_pct


@dataclass(frozen=True)
class StepRecord:
    """One frame of a drive (the state after the time to the next frame)."""

    step: int
    time_s: float
    x_m: float
    y_m: float
    yaw_deg: float
    speed_mph: float
    steering: float                   # command applied, -1..1
    throttle: float
    brake: float
    cross_track_m: float              # of the car's centre, positive left (before any reset)
    heading_error_deg: float
    progress_laps: float              # laps driven so far along the centre line
    intervention: bool                # a wheel left the road: the car was put back on the centre line


def summarise_drive(records: list[StepRecord], track_length_m: float) -> dict[str, float | int | None]:
    """The metrics JSON of a drive.

    Beyond autonomy: the signed mean cross-track error (+ left: a steady offset to one side, where
    the mean |cross-track| also counts wandering about the line), the distance along the road to
    the first intervention (the whole distance driven when there was none), the first lap's time
    (None before a lap is done), and steering jitter, the mean |change of the steering command| per
    second (a weaving model jitters), and the share of steps right of the centre line (the Jungle's two lanes).
    """
    if not records:
        raise ValueError("no steps were driven: nothing to summarise")
    elapsed_s = records[-1].time_s
    interventions = sum(r.intervention for r in records)
    errors = [abs(r.cross_track_m) for r in records]
    first = next((r for r in records if r.intervention), records[-1])
    lap = next((r for r in records if r.progress_laps >= 1.0), None)
    jitter = sum(abs(b.steering - a.steering) for a, b in zip(records, records[1:])) / elapsed_s
    return {
        "autonomy_pct": round(autonomy_pct(interventions, elapsed_s), 3),
        "interventions": interventions,
        "laps": int(math.floor(records[-1].progress_laps + 1e-9)),
        "progress_laps": round(records[-1].progress_laps, 4),
        "elapsed_s": round(elapsed_s, 3),
        "steps": len(records),
        "mean_abs_cross_track_m": round(sum(errors) / len(errors), 4),
        "mean_cross_track_m": round(sum(r.cross_track_m for r in records) / len(records), 4),
        "max_abs_cross_track_m": round(max(errors), 4),
        "mean_speed_mph": round(sum(r.speed_mph for r in records) / len(records), 3),
        "distance_to_first_intervention_m": round(max(0.0, first.progress_laps) * track_length_m, 1),
        "lap_time_s": None if lap is None else round(lap.time_s, 2),
        "steering_jitter_per_s": round(jitter, 4),
        "right_lane_pct": round(100.0 * sum(r.cross_track_m < 0.0 for r in records) / len(records), 2),
    }


def write_trajectory_csv(records: list[StepRecord], path: str | Path) -> None:
    """One row per step, with a header: the trajectory plot's data."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(StepRecord)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for record in records:
            row = asdict(record)
            row["intervention"] = int(record.intervention)
            writer.writerow({k: (round(v, 5) if isinstance(v, float) else v) for k, v in row.items()})
