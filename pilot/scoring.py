"""Scoring shared by the road test and replay: NVIDIA's PilotNet autonomy, and several drives pooled into one.

Autonomy = (1 - interventions x 6 s / elapsed s) x 100 (Bojarski et al. 2016): each take-over
costs six seconds of driving.
"""
from __future__ import annotations

SECONDS_PER_INTERVENTION = 6.0       # PilotNet: each take-over costs six seconds of driving


def autonomy_pct(interventions: int, elapsed_s: float,
                 seconds_per_intervention: float = SECONDS_PER_INTERVENTION) -> float:
    """(1 - interventions * 6 s / elapsed s) * 100, floored at 0 (PilotNet's autonomy; the road test's and replay's)."""
    if elapsed_s <= 0:
        raise ValueError("autonomy needs a drive longer than zero seconds")
    return max(0.0, (1.0 - interventions * seconds_per_intervention / elapsed_s) * 100.0)


def pool_runs(runs: list[dict]) -> dict[str, float | int | None]:
    """Several drives' metrics (from pilot.sim.metrics.summarise_drive) as one drive over all their tracks in turn.

    The road test drives several unseen tracks because one track's shape can favour a model by chance; this
    is their score together. Autonomy counts every intervention against all the time driven; mean
    |cross-track|, mean speed and the right lane's share are per frame, jitter per second, over all the runs; the
    maximum is the worst run's; the distance to the first intervention is counted over the runs in turn
    (every run before the first one with an intervention adds its whole distance); the lap time is the mean
    when every run finished a lap.
    """
    if not runs:
        raise ValueError("no runs to pool")
    steps = sum(run["steps"] for run in runs)
    elapsed_s = sum(run["elapsed_s"] for run in runs)
    interventions = sum(run["interventions"] for run in runs)
    lap_times = [run["lap_time_s"] for run in runs]
    to_first_m = 0.0
    for run in runs:
        to_first_m += run["distance_to_first_intervention_m"]
        if run["interventions"]:
            break
    return {
        "autonomy_pct": round(autonomy_pct(interventions, elapsed_s), 3),
        "interventions": interventions,
        "laps": sum(run["laps"] for run in runs),
        "progress_laps": round(sum(run["progress_laps"] for run in runs), 4),
        "elapsed_s": round(elapsed_s, 3),
        "steps": steps,
        "mean_abs_cross_track_m": round(sum(run["mean_abs_cross_track_m"] * run["steps"] for run in runs) / steps, 4),
        "mean_cross_track_m": round(sum(run["mean_cross_track_m"] * run["steps"] for run in runs) / steps, 4),
        "max_abs_cross_track_m": max(run["max_abs_cross_track_m"] for run in runs),
        "mean_speed_mph": round(sum(run["mean_speed_mph"] * run["steps"] for run in runs) / steps, 3),
        "distance_to_first_intervention_m": round(to_first_m, 1),
        "lap_time_s": None if None in lap_times else round(sum(lap_times) / len(lap_times), 2),
        "steering_jitter_per_s": round(sum(run["steering_jitter_per_s"] * run["elapsed_s"] for run in runs)
                                       / elapsed_s, 4),
        "right_lane_pct": round(sum(run["right_lane_pct"] * run["steps"] for run in runs) / steps, 2),
    }
