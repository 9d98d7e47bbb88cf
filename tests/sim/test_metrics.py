"""Autonomy by the PilotNet formula and the drive summary."""
from __future__ import annotations

import csv

import pytest

from pilot.scoring import autonomy_pct, pool_runs
from pilot.sim.metrics import StepRecord, summarise_drive, write_trajectory_csv


def test_autonomy_follows_pilotnet() -> None:
    assert autonomy_pct(0, 60.0) == 100.0
    assert autonomy_pct(2, 600.0) == pytest.approx(98.0)           # 1 - 2*6/600
    assert autonomy_pct(20, 60.0) == 0.0                           # floored
    with pytest.raises(ValueError):
        autonomy_pct(0, 0.0)


def test_summary() -> None:
    records = [StepRecord(i, 0.1 * i, 0.0, 0.0, 0.0, 10.0 + i, 0.1 * i, 0.5, 0.0, (-1) ** i * 0.1 * i, 0.0,
                          0.55 * i, i == 2) for i in range(1, 4)]
    metrics = summarise_drive(records, track_length_m=100.0)
    assert metrics["interventions"] == 1 and metrics["laps"] == 1 and metrics["steps"] == 3
    assert metrics["max_abs_cross_track_m"] == pytest.approx(0.3)
    assert metrics["mean_abs_cross_track_m"] == pytest.approx(0.2)
    assert metrics["mean_cross_track_m"] == pytest.approx((-0.1 + 0.2 - 0.3) / 3, abs=1e-4)   # signed: + left
    assert metrics["mean_speed_mph"] == pytest.approx(12.0)
    assert metrics["autonomy_pct"] == 0.0                          # one take-over in 0.3 s
    assert metrics["distance_to_first_intervention_m"] == pytest.approx(110.0)   # 1.1 laps of 100 m
    assert metrics["lap_time_s"] == pytest.approx(0.2)             # progress 1.1 at the second frame
    assert metrics["steering_jitter_per_s"] == pytest.approx(0.2 / 0.3, abs=1e-4)   # 0.1 -> 0.2 -> 0.3 in 0.3 s
    assert metrics["right_lane_pct"] == pytest.approx(100.0 * 2 / 3, abs=0.01)      # -0.1 and -0.3: right of centre


def test_a_clean_drive_reports_the_whole_distance_and_no_lap_before_one() -> None:
    records = [StepRecord(i, 0.5 * i, 0.0, 0.0, 0.0, 10.0, 0.2, 0.5, 0.0, 0.0, 0.0, 0.1 * i, False)
               for i in range(1, 5)]
    metrics = summarise_drive(records, track_length_m=200.0)
    assert metrics["distance_to_first_intervention_m"] == pytest.approx(80.0)
    assert metrics["lap_time_s"] is None and metrics["steering_jitter_per_s"] == 0.0


def test_pooled_runs_score_as_one_drive_over_every_track() -> None:
    def run(steps: int, elapsed_s: float, interventions: int, mean_xte: float, jitter: float, lap_s, first_m: float):
        return {"autonomy_pct": autonomy_pct(interventions, elapsed_s), "interventions": interventions,
                "laps": 1 if lap_s else 0, "progress_laps": 1.0 if lap_s else 0.5, "elapsed_s": elapsed_s,
                "steps": steps, "mean_abs_cross_track_m": mean_xte, "mean_cross_track_m": -mean_xte,
                "max_abs_cross_track_m": 2 * mean_xte,
                "mean_speed_mph": 20.0, "distance_to_first_intervention_m": first_m, "lap_time_s": lap_s,
                "steering_jitter_per_s": jitter, "right_lane_pct": 100.0 if mean_xte < 0.3 else 0.0}

    clean = run(steps=300, elapsed_s=100.0, interventions=0, mean_xte=0.1, jitter=0.1, lap_s=100.0, first_m=700.0)
    failing = run(steps=100, elapsed_s=50.0, interventions=2, mean_xte=0.5, jitter=0.4, lap_s=None, first_m=120.0)
    pooled = pool_runs([clean, failing])
    assert pooled["autonomy_pct"] == pytest.approx(92.0)                # 1 - 2 * 6 s / 150 s
    assert pooled["interventions"] == 2 and pooled["steps"] == 400 and pooled["laps"] == 1
    assert pooled["mean_abs_cross_track_m"] == pytest.approx(0.2)      # per frame: (300*0.1 + 100*0.5) / 400
    assert pooled["mean_cross_track_m"] == pytest.approx(-0.2)
    assert pooled["max_abs_cross_track_m"] == pytest.approx(1.0)
    assert pooled["steering_jitter_per_s"] == pytest.approx(0.2)       # per second: (100*0.1 + 50*0.4) / 150
    assert pooled["right_lane_pct"] == pytest.approx(75.0)             # per frame: 300 of 400 frames
    assert pooled["distance_to_first_intervention_m"] == 820.0         # all of the first run, then 120 m
    assert pool_runs([failing, clean])["distance_to_first_intervention_m"] == 120.0
    assert pooled["lap_time_s"] is None                                # one run never finished its lap
    assert pool_runs([clean, clean])["lap_time_s"] == 100.0
    assert pool_runs([clean]) == {k: v for k, v in clean.items()}
    with pytest.raises(ValueError):
        pool_runs([])


def test_trajectory_csv(tmp_path) -> None:
    records = [StepRecord(i, 0.1 * i, 0.0, 0.0, 0.0, 10.0 + i, 0.0, 0.5, 0.0, 0.0, 0.0, 0.55 * i, i == 2)
               for i in range(1, 4)]
    write_trajectory_csv(records, tmp_path / "t.csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert len(rows) == 3 and rows[1]["intervention"] == "1" and float(rows[2]["speed_mph"]) == 13.0
