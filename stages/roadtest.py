"""road_test: drive the trained model in the headless simulator and score it, as NVIDIA scores PilotNet.

Starts the drive server (`python -m pilot.drive MODEL`: what `stages/drive.py` runs, default flags but
one inference thread, as beside a simulator on a small machine) on a free loopback port, once at the drive
server's set speed and once at the simulator's top speed, and drives each track of the matrix
(the training track, several unseen generated ones, the real simulator's Lake track) with the real
simulator's latency and the car's grip and steering-rate limits. With a fixed latency the drives do
not depend on wall time, so the two speeds run side by side, one process each. Writes
metrics/drive.json (per track and speed: autonomy, interventions, cross-track error, distance to
the first intervention, lap time, steering jitter; `unseen` pools the unseen tracks, and each one
is also reported as `unseen_SEED`), the paths on the track maps, cross-track error over distance,
a saliency grid and a short video.
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.drive.process import ServerStartError, drive_server
from pilot.learn.model_file import TRUST_FLAG
from pilot.learn.runtime import load_stage_model
from pilot.scoring import pool_runs
from pilot.sim.camera import Light
from pilot.sim.client import ClosedLoopSettings, DriveResult, drive
from pilot.sim.metrics import write_trajectory_csv
from pilot.sim.road_plots import path_and_elevation, paths_on_track_maps, saliency_grid
from pilot.sim.track import TRACK_NAMES, Track, generate_track, named_track
from pilot.sim.vehicle import CarPhysics
from pilot.sim.wire import WireError
from pilot.stage_io import load_params, write_metrics
from pilot.udacity.images import read_jpeg_rgb

TRACK_KINDS = ("training", "unseen", *TRACK_NAMES)   # lake, jungle: the real simulator's, by name
SPEEDS = ("set_speed", "top_speed")
SERVER_THREADS = 1     # the drive server's --threads: its simulator and the other speed's pair share the cores


def matrix_tracks(names: list[str], training_seed: int, unseen_seeds: list[int],
                  shape: dict) -> dict[str, dict[str, Track]]:
    """The road test's tracks by kind, each under its run's name: the kind, or `unseen_29` where a kind has
    several tracks (ValueError with one sentence for an unknown name or bad seeds)."""
    unknown = [name for name in names if name not in TRACK_KINDS]
    if unknown:
        raise ValueError(f"road_test.tracks has {unknown}: use {', '.join(TRACK_KINDS)}")
    if "unseen" in names:
        if (not isinstance(unseen_seeds, list) or not unseen_seeds
                or not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in unseen_seeds)):
            raise ValueError(f"unseen_track_seeds must be a list of one or more whole numbers, got {unseen_seeds!r}")
        if len(set(unseen_seeds)) != len(unseen_seeds) or training_seed in unseen_seeds:
            raise ValueError(f"unseen_track_seeds {unseen_seeds} must differ from each other and from the "
                             f"training track's seed {training_seed}")
    tracks = {}
    for name in names:
        if name in TRACK_NAMES:
            tracks[name] = {name: named_track(name)}
        elif name == "training":
            tracks[name] = {name: generate_track(training_seed, **shape)}
        else:
            tracks[name] = {f"{name}_{seed}" if len(unseen_seeds) > 1 else name: generate_track(seed, **shape)
                            for seed in unseen_seeds}
    return tracks


def drive_speed(model_path: Path, speed_name: str, server_args: tuple[str, ...], runs: list[tuple[str, Track]],
                params: dict, frames_dir: Path | None) -> dict[str, DriveResult]:
    """One drive server at one speed; each (name, track) driven against it in turn (frames kept of the first)."""
    settings = dict(latency_s=params["latency_s"], render_period_s=params["render_period_s"],
                    physics=CarPhysics.from_params(params["physics"]), laps=params["laps"],
                    max_time_s=params["max_time_s"], light=Light(params["brightness"]))
    results = {}
    with drive_server(model_path, extra_args=server_args) as server:
        for name, track in runs:
            results[name] = drive(track, ClosedLoopSettings(port=server.port, **settings),
                                  frames_dir=frames_dir if not results else None)
            print(report_line(f"{name} track", speed_name, results[name].metrics), flush=True)
    return results


def report_line(label: str, speed_name: str, m: dict) -> str:
    return (f"road_test: {label}, {speed_name}: autonomy {m['autonomy_pct']:.1f} %, "
            f"{m['interventions']} interventions in {m['elapsed_s']:.0f} s, "
            f"mean |cross-track| {m['mean_abs_cross_track_m']:.2f} m (max {m['max_abs_cross_track_m']:.2f}, "
            f"mean {m['mean_cross_track_m']:+.2f} left), "
            f"{m['mean_speed_mph']:.1f} mph, jitter {m['steering_jitter_per_s']:.2f}/s")


def score_kind(kind: str, kind_runs: dict[str, Track], results: dict[str, DriveResult]) -> dict:
    """One kind's metrics: its one run's, or its runs pooled (pilot.scoring.pool_runs) with the seeds named."""
    runs = [results[name].metrics for name in kind_runs]
    tracks = list(kind_runs.values())
    if len(runs) == 1:
        return {"track": kind if kind in TRACK_NAMES else tracks[0].seed, **runs[0]}
    pooled = pool_runs(runs)
    return {"track": ",".join(str(track.seed) for track in tracks), **pooled,
            "track_length_m": round(sum(track.length_m for track in tracks), 2), "latency_s": runs[0]["latency_s"],
            "mean_frame_interval_s": round(pooled["elapsed_s"] / max(1, pooled["steps"]), 4)}


def draw_kind(kind: str, speed_name: str, kind_runs: dict[str, Track], results: dict[str, DriveResult],
              scored: dict, plots_dir: Path) -> None:
    """The kind's track maps (one panel per track) and its cross-track error over distance (tracks in turn)."""
    several = len(kind_runs) > 1
    drives = [(track, results[name].records,
               f"track {track.seed}: autonomy {results[name].metrics['autonomy_pct']:.1f} %, "
               f"mean |cross-track| {results[name].metrics['mean_abs_cross_track_m']:.2f} m" if several else "")
              for name, track in kind_runs.items()]
    title = (f"{kind} track{'s' if several else ''}, {speed_name.replace('_', ' ')}: autonomy "
             f"{scored['autonomy_pct']:.1f} %, {scored['interventions']} interventions")
    paths_on_track_maps(drives, title, plots_dir / f"path_{kind}_{speed_name}.png")
    for name, track in kind_runs.items():
        if not track.is_flat:               # the Jungle: where on the hills the car was put back
            path_and_elevation(track, results[name].records, f"{title}, {scored['right_lane_pct']:.0f} % in the "
                               "right lane", plots_dir / f"elevation_{name}_{speed_name}.png")
    start_m, parts = 0.0, []
    for name, track in kind_runs.items():
        records = results[name].records
        parts.append(pd.DataFrame({
            "distance_m": [round(start_m + r.progress_laps * track.length_m, 2) for r in records],
            "cross_track_m": [round(r.cross_track_m, 4) for r in records],
            "track": name}))
        start_m += records[-1].progress_laps * track.length_m if records else 0.0
    table = pd.concat(parts, ignore_index=True)
    (table if several else table.drop(columns="track")).to_csv(
        plots_dir / f"cross_track_{kind}_{speed_name}.csv", index=False)


def explain(served, frames_dir: Path, records: list, count: int, out: Path) -> None:
    """Saliency for `count` frames spread over the drive."""
    from pilot.learn.saliency import visual_backprop  # TensorFlow only for this step
    files = sorted(frames_dir.glob("frame_*.jpg"))
    picks = [files[i] for i in np.linspace(0, len(files) - 1, min(count, len(files))).astype(int)]
    frames = [read_jpeg_rgb(str(p)) for p in picks]
    contract = served.loaded.contract
    model_inputs = np.stack([contract.prepare(f) for f in frames])
    try:
        masks = visual_backprop(served.keras_model, model_inputs.astype(np.float32) / np.float32(contract.divisor))
    except ValueError as error:
        print(f"road_test: no saliency grid: {error}")
        return
    steering = [records[min(int(p.stem.split("_")[1]), len(records) - 1)].steering for p in picks]
    saliency_grid(frames, model_inputs, masks, steering, out)


def video(frames_dir: Path, records: list, seconds: float, step_s: float, out: Path) -> int:
    from pilot.drive.video import write_steering_video  # ffmpeg only for this step
    files = sorted(frames_dir.glob("frame_*.jpg"))[: int(seconds / step_s)]
    frames = ((read_jpeg_rgb(str(p)), r.steering, r.throttle, r.speed_mph) for p, r in zip(files, records))
    return write_steering_video(frames, out, fps=1.0 / step_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument(TRUST_FLAG, dest="trust_model_code", action="store_true",
                        help="let code stored in the model file run (only for a file you made or trust)")
    parser.add_argument("--metrics", required=True, help="metrics/drive.json")
    parser.add_argument("--plots-dir", required=True, help="track maps, cross-track CSVs, saliency")
    parser.add_argument("--video", required=True, help="mp4 of the training-track drive")
    parser.add_argument("--work-dir", default="data/road_test", help="frames and trajectories")
    parser.add_argument("--training-track-seed", type=int, required=True,
                        help="the track the recording began on (dvc.yaml passes simulate.track_seed)")
    parser.add_argument("--track-length-m", type=float, required=True, help="circuit length (simulate.track)")
    parser.add_argument("--track-width-m", type=float, required=True, help="road width (simulate.track)")
    parser.add_argument("--track-max-curvature-per-m", type=float, required=True,
                        help="tightest bend (simulate.track)")
    args = parser.parse_args()
    params = load_params("road_test")
    shape = {"length_m": args.track_length_m, "width_m": args.track_width_m,
             "max_curvature_per_m": args.track_max_curvature_per_m}
    model_path, plots_dir, work_dir = Path(args.model), Path(args.plots_dir), Path(args.work_dir)
    try:
        tracks = matrix_tracks(list(params["tracks"]), args.training_track_seed, params["unseen_track_seeds"], shape)
        CarPhysics.from_params(params["physics"])
    except (TypeError, ValueError) as error:
        sys.exit(f"road_test: bad params.yaml road_test section: {error}")
    served = load_stage_model("road_test", model_path, args.trust_model_code)   # the drive server's sentences

    # the headless simulator advances a fixed time per reply (with a fixed latency): the throttle
    # controller must count the same time; with a measured latency it keeps the wall clock
    frame_dt = () if params["latency_s"] is None else ("--frame-dt", str(params["latency_s"]))
    speed_args = {"set_speed": (), "top_speed": ("--set-speed", str(params["top_speed_mph"]))}
    # one inference thread per server: the two speeds' servers and simulators already share the cores (the same
    # drives to the byte as on two threads, and 6-9 % sooner)
    inference = ("--threads", str(SERVER_THREADS), "--inference", str(params["inference"]),
                 *((TRUST_FLAG,) if args.trust_model_code else ()))
    runs = [(name, track) for kind_runs in tracks.values() for name, track in kind_runs.items()]
    first_run_dir = work_dir / f"{runs[0][0]}_{SPEEDS[0]}"
    jobs = {speed: (model_path, speed, (*frame_dt, *inference, *speed_args[speed]), runs, params,
                    first_run_dir / "frames" if speed == SPEEDS[0] else None) for speed in SPEEDS}
    results: dict[str, dict[str, DriveResult]] = {}
    try:
        if params["latency_s"] is None:     # measured latency: drives side by side would slow each other
            for speed in SPEEDS:
                results[speed] = drive_speed(*jobs[speed])
        else:
            with ProcessPoolExecutor(len(SPEEDS), mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = {speed: pool.submit(drive_speed, *jobs[speed]) for speed in SPEEDS}
                results = {speed: future.result() for speed, future in futures.items()}
    except ServerStartError as error:
        sys.exit(f"road_test: {error}")
    except WireError as error:
        sys.exit(f"road_test: the drive server stopped answering ({error}).")

    report: dict = {}
    each_track: dict = {}                   # unseen_23, unseen_29, ...: after the pooled kinds
    plots_dir.mkdir(parents=True, exist_ok=True)
    for kind, kind_runs in tracks.items():
        for speed in SPEEDS:
            scored = score_kind(kind, kind_runs, results[speed])
            report.setdefault(kind, {})[speed] = scored
            draw_kind(kind, speed, kind_runs, results[speed], scored, plots_dir)
            for name, track in kind_runs.items():
                write_trajectory_csv(results[speed][name].records, work_dir / f"{name}_{speed}" / "trajectory.csv")
                if name != kind:
                    each_track.setdefault(name, {})[speed] = {"track": track.seed, **results[speed][name].metrics}
            if len(kind_runs) > 1:
                print(report_line(f"{kind} tracks ({len(kind_runs)} pooled)", speed, scored), flush=True)
    report.update(each_track)

    result = results[SPEEDS[0]][runs[0][0]]
    explain(served, first_run_dir / "frames", result.records, params["saliency_frames"], plots_dir / "saliency.png")
    out_video = Path(args.video)
    if params["video"]:
        step_s = result.metrics["mean_frame_interval_s"]
        count = video(first_run_dir / "frames", result.records, params["video_seconds"], step_s, out_video)
        print(f"road_test: {count} frames of video -> {out_video}")
    else:                                   # the out must exist for DVC; an empty file says 'switched off'
        out_video.parent.mkdir(parents=True, exist_ok=True)
        out_video.write_bytes(b"")
    write_metrics(args.metrics, report)


if __name__ == "__main__":
    main()
