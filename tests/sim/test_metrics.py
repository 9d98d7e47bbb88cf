"""Autonomy by the PilotNet formula and the drive summary."""
from __future__ import annotations

import csv

import pytest

from pilot.sim.metrics import StepRecord, autonomy_pct, summarise, write_trajectory_csv


def test_autonomy_follows_pilotnet() -> None:
    assert autonomy_pct(0, 60.0) == 100.0
    assert autonomy_pct(2, 600.0) == pytest.approx(98.0)           # 1 - 2*6/600
    assert autonomy_pct(20, 60.0) == 0.0                           # floored
    with pytest.raises(ValueError):
        autonomy_pct(0, 0.0)


def test_summary() -> None:
    records = [StepRecord(i, 0.1 * i, 0.0, 0.0, 0.0, 10.0 + i, 0.1 * i, 0.5, 0.0, (-1) ** i * 0.1 * i, 0.0,
                          0.55 * i, i == 2) for i in range(1, 4)]
    metrics = summarise(records, track_length_m=100.0)
    assert metrics["interventions"] == 1 and metrics["laps"] == 1 and metrics["steps"] == 3
    assert metrics["max_abs_cross_track_m"] == pytest.approx(0.3)
    assert metrics["mean_abs_cross_track_m"] == pytest.approx(0.2)
    assert metrics["mean_speed_mph"] == pytest.approx(12.0)
    assert metrics["autonomy_pct"] == 0.0                          # one take-over in 0.3 s
    assert metrics["distance_to_first_intervention_m"] == pytest.approx(110.0)   # 1.1 laps of 100 m
    assert metrics["lap_time_s"] == pytest.approx(0.2)             # progress 1.1 at the second frame
    assert metrics["steering_jitter_per_s"] == pytest.approx(0.2 / 0.3, abs=1e-4)   # 0.1 -> 0.2 -> 0.3 in 0.3 s


def test_a_clean_drive_reports_the_whole_distance_and_no_lap_before_one() -> None:
    records = [StepRecord(i, 0.5 * i, 0.0, 0.0, 0.0, 10.0, 0.2, 0.5, 0.0, 0.0, 0.0, 0.1 * i, False)
               for i in range(1, 5)]
    metrics = summarise(records, track_length_m=200.0)
    assert metrics["distance_to_first_intervention_m"] == pytest.approx(80.0)
    assert metrics["lap_time_s"] is None and metrics["steering_jitter_per_s"] == 0.0


def test_trajectory_csv(tmp_path) -> None:
    records = [StepRecord(i, 0.1 * i, 0.0, 0.0, 0.0, 10.0 + i, 0.0, 0.5, 0.0, 0.0, 0.0, 0.55 * i, i == 2)
               for i in range(1, 4)]
    write_trajectory_csv(records, tmp_path / "t.csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert len(rows) == 3 and rows[1]["intervention"] == "1" and float(rows[2]["speed_mph"]) == 13.0
