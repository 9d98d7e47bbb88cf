"""road_test: drive the trained model in the headless simulator and score it, as NVIDIA scores PilotNet.

Starts `stages/drive.py MODEL` on a free loopback port (exactly what a user runs), once at the drive
server's set speed and once at the simulator's top speed, and drives each track of the matrix
(the training track, an unseen generated one, the real simulator's Lake track) with the real
simulator's latency and the car's grip and steering-rate limits. Writes metrics/drive.json
(per track and speed: autonomy, interventions, cross-track error, distance to the first
intervention, lap time, steering jitter), the path on each track map, cross-track error over
distance, a saliency grid and a short video.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.drive.process import ServerStartError, drive_server
from pilot.imaging import preprocess, read_jpeg_rgb, to_model_input
from pilot.sim.camera import Light
from pilot.sim.client import ClosedLoopSettings, drive
from pilot.sim.metrics import write_trajectory_csv
from pilot.sim.road_plots import path_on_track_map, saliency_grid
from pilot.sim.track import Track, generate_track, named_track
from pilot.sim.vehicle import CarPhysics
from pilot.sim.wire import WireError
from pilot.stage_io import load_params, write_metrics

TRACK_KINDS = ("training", "unseen", "lake")


def matrix_tracks(names: list[str], training_seed: int, unseen_seed: int, shape: dict) -> dict[str, Track]:
    """The road test's tracks by name (ValueError with one sentence for an unknown name)."""
    unknown = [name for name in names if name not in TRACK_KINDS]
    if unknown:
        raise ValueError(f"road_test.tracks has {unknown}: use {', '.join(TRACK_KINDS)}")
    tracks = {}
    for name in names:
        if name == "lake":
            tracks[name] = named_track("lake")
        else:
            tracks[name] = generate_track(training_seed if name == "training" else unseen_seed, **shape)
    return tracks


def drive_run(name: str, speed_name: str, track: Track, params: dict, port: int, frames_dir: Path | None):
    settings = ClosedLoopSettings(port=port, latency_s=params["latency_s"], render_period_s=params["render_period_s"],
                                  physics=CarPhysics.from_params(params["physics"]), laps=params["laps"],
                                  max_time_s=params["max_time_s"], light=Light(params["brightness"]))
    result = drive(track, settings, frames_dir=frames_dir)
    m = result.metrics
    print(f"road_test: {name} track, {speed_name}: autonomy {m['autonomy_pct']:.1f} %, "
          f"{m['interventions']} interventions in {m['elapsed_s']:.0f} s, "
          f"mean |cross-track| {m['mean_abs_cross_track_m']:.2f} m (max {m['max_abs_cross_track_m']:.2f}), "
          f"{m['mean_speed_mph']:.1f} mph, jitter {m['steering_jitter_per_s']:.2f}/s", flush=True)
    return result


def explain(model_path: Path, frames_dir: Path, records: list, count: int, out: Path) -> None:
    """Saliency for `count` frames spread over the drive."""
    from pilot.drive.predictor import load_steering_model   # TensorFlow only for this step
    from pilot.learn.saliency import visual_backprop
    files = sorted(frames_dir.glob("frame_*.jpg"))
    picks = [files[i] for i in np.linspace(0, len(files) - 1, min(count, len(files))).astype(int)]
    frames = [read_jpeg_rgb(str(p)) for p in picks]
    model_inputs = np.stack([preprocess(f) for f in frames])
    masks = visual_backprop(load_steering_model(model_path), to_model_input(model_inputs))
    steering = [records[min(int(p.stem.split("_")[1]), len(records) - 1)].steering for p in picks]
    saliency_grid(frames, model_inputs, masks, steering, out)


def video(frames_dir: Path, records: list, seconds: float, step_s: float, out: Path) -> int:
    from pilot.drive.video import write_steering_video   # ffmpeg only for this step
    files = sorted(frames_dir.glob("frame_*.jpg"))[: int(seconds / step_s)]
    frames = ((read_jpeg_rgb(str(p)), r.steering, r.throttle, r.speed_mph) for p, r in zip(files, records))
    return write_steering_video(frames, out, fps=1.0 / step_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
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
    if not model_path.is_file():
        sys.exit(f"road_test: {model_path} not found: run `dvc repro train` first.")
    try:
        tracks = matrix_tracks(list(params["tracks"]), args.training_track_seed, params["unseen_track_seed"], shape)
        CarPhysics.from_params(params["physics"])
    except (TypeError, ValueError) as error:
        sys.exit(f"road_test: bad params.yaml road_test section: {error}")

    # the headless simulator advances a fixed time per reply (with a fixed latency): the throttle
    # controller must count the same time; with a measured latency it keeps the wall clock
    frame_dt = () if params["latency_s"] is None else ("--frame-dt", str(params["latency_s"]))
    speeds = {"set_speed": (), "top_speed": ("--set-speed", str(params["top_speed_mph"]))}
    inference = ("--inference", str(params["inference"]))
    report: dict = {name: {} for name in tracks}
    first = None
    try:
        for speed_name, speed_args in speeds.items():
            with drive_server(model_path, extra_args=(*frame_dt, *inference, *speed_args)) as server:
                for name, track in tracks.items():
                    run_dir = work_dir / f"{name}_{speed_name}"
                    keep_frames = first is None
                    result = drive_run(name, speed_name, track, params, server.port,
                                       run_dir / "frames" if keep_frames else None)
                    first = first or (run_dir, result)
                    report[name][speed_name] = {"track": name if name == "lake" else track.seed, **result.metrics}
                    write_trajectory_csv(result.records, run_dir / "trajectory.csv")
                    title = (f"{name} track, {speed_name.replace('_', ' ')}: autonomy "
                             f"{result.metrics['autonomy_pct']:.1f} %, {result.metrics['interventions']} interventions")
                    path_on_track_map(track, result.records, title, plots_dir / f"path_{name}_{speed_name}.png")
                    pd.DataFrame({"distance_m": [round(r.progress_laps * track.length_m, 2) for r in result.records],
                                  "cross_track_m": [round(r.cross_track_m, 4) for r in result.records]}
                                 ).to_csv(plots_dir / f"cross_track_{name}_{speed_name}.csv", index=False)
    except ServerStartError as error:
        sys.exit(f"road_test: {error}")
    except WireError as error:
        sys.exit(f"road_test: the drive server stopped answering ({error}).")

    run_dir, result = first
    explain(model_path, run_dir / "frames", result.records, params["saliency_frames"], plots_dir / "saliency.png")
    out_video = Path(args.video)
    if params["video"]:
        step_s = result.metrics["mean_frame_interval_s"]
        count = video(run_dir / "frames", result.records, params["video_seconds"], step_s, out_video)
        print(f"road_test: {count} frames of video -> {out_video}")
    else:                                   # the out must exist for DVC; an empty file says 'switched off'
        out_video.parent.mkdir(parents=True, exist_ok=True)
        out_video.write_bytes(b"")
    write_metrics(args.metrics, report)


if __name__ == "__main__":
    main()
