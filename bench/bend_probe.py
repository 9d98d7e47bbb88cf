"""Open loop: does a model steer the bends as the expert does, and where would that put the car?

The road test gives one number per lap; this says where it comes from, in seconds, without driving. Along
each track, every few metres, the car is put with its rear axle on the centre line heading along it (where
the expert's pure pursuit holds it in a steady bend) and once 0.4 m to each side; the headless camera's
frame is steered as the shipped drive server steers it (flip-averaged, `drive.flip_average: true`; from
the frame alone with --one-view) and compared with the expert's pure pursuit at the same pose:

- shortfall: the model's steering minus the expert's, on the centre line, in left bends, right bends
  and on straights (steering units, + = further right). In a left bend + is steering less into it.
- gain: steering per metre off the line, the model's against the expert's.
- settles at: -mean shortfall / gain, the offset (m, + = left) where a car holding the model's lean
  would balance it; a lap of mostly left-hand bends with + shortfalls settles to the right, the outside.

    .venv/bin/python bench/bend_probe.py [MODEL ...] [--tracks training lake lake_reversed] [--every-m 6]

MODEL defaults to models/model.keras; `training` is simulate's track (params.yaml), `lake_reversed` the Lake
driven the other way round. A bend is where the centre line turns by more than 0.005 rad per m.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pilot.sim.camera import Renderer  # noqa: E402
from pilot.sim.expert import pure_pursuit_steering  # noqa: E402
from pilot.sim.track import TRACK_NAMES, Track, generate_track, named_track  # noqa: E402
from pilot.sim.vehicle import VehicleState  # noqa: E402
from pilot.stage_io import load_params  # noqa: E402

OFFSET_M = 0.4
BEND_CURVATURE_PER_M = 0.005
PROBE_SPEED_MPS = 6.7          # 15 mph: the drive server's set speed (the frame does not depend on it)


def probe_track(name: str) -> Track:
    """`training` (simulate's first track), a named track, or a named track `_reversed`."""
    if name == "training":
        simulate = load_params("simulate", REPO / "params.yaml")
        return generate_track(simulate["track_seed"], **simulate["track"])
    base = name.removesuffix("_reversed")
    if base not in TRACK_NAMES:
        raise SystemExit(f"bend_probe: unknown track {name!r}: use training, {', '.join(TRACK_NAMES)} "
                         "or one of them with _reversed")
    track = named_track(base)
    if base == name:
        return track
    heights = None if track.heights_m is None else track.heights_m[::-1].copy()
    return Track(track.points_m[::-1].copy(), track.width_m, heights_m=heights, name=track.name)


def pose(track: Track, s_m: float, left_m: float) -> VehicleState:
    """The rear axle `left_m` left of the centre line at arc length s, heading along it."""
    x_m, y_m, heading = track.point_at(s_m, left_m)
    return VehicleState(x_m, y_m, heading, PROBE_SPEED_MPS)


def probe(steer, track: Track, every_m: float) -> dict[str, float]:
    """The model's shortfall against the expert (by bend direction), both gains, and where the car settles."""
    renderer = Renderer(track)
    rows = []
    for s_m in np.arange(0.0, track.length_m, every_m):
        # the place is on the centre line at a known arc length: its segment and curvature are read there, not
        # searched for (a search could land on the other road where the Jungle's bridge crosses it)
        hint, curvature = track.index_at(float(s_m)), track.curvature_at(float(s_m))
        seen = {}
        for left_m in (-OFFSET_M, 0.0, OFFSET_M):
            state = pose(track, float(s_m), left_m)
            seen[left_m] = (steer(renderer.render(state, "center")),
                            pure_pursuit_steering(track, state, hint_index=hint))
        rows.append((curvature, seen[0.0][0] - seen[0.0][1],
                     (seen[OFFSET_M][0] - seen[-OFFSET_M][0]) / (2 * OFFSET_M),
                     (seen[OFFSET_M][1] - seen[-OFFSET_M][1]) / (2 * OFFSET_M)))
    curvature, shortfall, gain, expert_gain = (np.array(column) for column in zip(*rows))

    def mean_where(mask: np.ndarray) -> float:
        return float(shortfall[mask].mean()) if mask.any() else float("nan")

    return {"points": len(rows), "shortfall": float(shortfall.mean()),
            "left_bends": mean_where(curvature > BEND_CURVATURE_PER_M),
            "right_bends": mean_where(curvature < -BEND_CURVATURE_PER_M),
            "straights": mean_where(np.abs(curvature) <= BEND_CURVATURE_PER_M),
            "left_bend_share": float((curvature > BEND_CURVATURE_PER_M).mean()),
            "right_bend_share": float((curvature < -BEND_CURVATURE_PER_M).mean()),
            "gain_per_m": float(gain.mean()), "expert_gain_per_m": float(expert_gain.mean()),
            "settles_at_m": float(-shortfall.mean() / gain.mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, default=[REPO / "models" / "model.keras"])
    parser.add_argument("--tracks", nargs="+", default=["training", "lake", "lake_reversed"])
    parser.add_argument("--every-m", type=float, default=6.0, help="metres between probed places")
    parser.add_argument("--one-view", action="store_true", help="steer from the frame alone, not flip-averaged")
    args = parser.parse_args()
    from pilot.learn.runtime import serve_model

    tracks = {name: probe_track(name) for name in args.tracks}
    print(f"{'model':24s} {'track':14s} {'shortfall: all':>14s} {'left bends':>10s} {'right bends':>11s} "
          f"{'straights':>9s}   gain/m (expert)   settles at")
    for model in args.models:
        if not model.is_file():
            sys.exit(f"bend_probe: no model file at {model}")
        predict = serve_model(model, "keras", flip_average=not args.one_view).predictor.predict_rgb

        def steer(rgb: np.ndarray) -> float:
            return float(np.ravel(predict(rgb))[0])

        for name, track in tracks.items():
            found = probe(steer, track, args.every_m)
            print(f"{model.name:24s} {name:14s} {found['shortfall']:+14.4f} {found['left_bends']:+10.4f} "
                  f"{found['right_bends']:+11.4f} {found['straights']:+9.4f}   {found['gain_per_m']:.3f} "
                  f"({found['expert_gain_per_m']:.3f})     {found['settles_at_m']:+.3f} m "
                  f"({found['left_bend_share']:.0%} left, {found['right_bend_share']:.0%} right bends)", flush=True)


if __name__ == "__main__":
    main()
