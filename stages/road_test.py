"""road_test: drive the trained model in the headless simulator and score it, as NVIDIA scores PilotNet.

Starts `stages/drive.py MODEL` on a free loopback port (exactly what a user runs), drives the
closed-loop client on the training track and on an unseen track, stops the server, and writes
metrics/drive.json (autonomy, interventions, laps, cross-track error, speed per track), the
path on each track map, cross-track error over distance, a saliency grid and a short video.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.imaging import preprocess, read_jpeg_rgb, to_model_input
from pilot.metrics_file import write_metrics
from pilot.params import load_params
from pilot.road_plots import path_on_track_map, saliency_grid
from pilot.server_process import ServerStartError, drive_server
from pilot.sim.camera import Light
from pilot.sim.client import DriveSettings, drive
from pilot.sim.metrics import write_trajectory_csv
from pilot.sim.track import make_track
from pilot.sim.wire import WireError


def drive_track(name: str, seed: int, shape: dict, params: dict, port: int, frames_dir: Path | None) -> tuple:
    track = make_track(seed, **shape)
    settings = DriveSettings(port=port, step_s=params["step_s"], laps=params["laps"],
                             max_time_s=params.get("max_time_s"), light=Light(params.get("brightness", 1.0)))
    result = drive(track, settings, frames_dir=frames_dir)
    m = result.metrics
    print(f"road_test: {name} track (seed {seed}): autonomy {m['autonomy_pct']:.1f} %, "
          f"{m['interventions']} interventions in {m['elapsed_s']:.0f} s, {m['laps']} laps, "
          f"mean |cross-track| {m['mean_abs_cross_track_m']:.2f} m, {m['mean_speed_mph']:.1f} mph", flush=True)
    return track, result


def explain(model_path: Path, frames_dir: Path, records: list, count: int, out: Path) -> None:
    """Saliency for `count` frames spread over the drive."""
    from pilot.predictor import load_steering_model   # TensorFlow only for this step
    from pilot.saliency import visual_backprop
    files = sorted(frames_dir.glob("frame_*.jpg"))
    picks = [files[i] for i in np.linspace(0, len(files) - 1, min(count, len(files))).astype(int)]
    frames = [read_jpeg_rgb(str(p)) for p in picks]
    model_inputs = np.stack([preprocess(f) for f in frames])
    masks = visual_backprop(load_steering_model(model_path), to_model_input(model_inputs))
    steering = [records[min(int(p.stem.split("_")[1]), len(records) - 1)].steering for p in picks]
    saliency_grid(frames, model_inputs, masks, steering, out)


def video(frames_dir: Path, records: list, seconds: float, step_s: float, out: Path) -> int:
    from pilot.video import write_steering_video   # ffmpeg only for this step
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
    args = parser.parse_args()
    params = load_params("road_test")
    simulate = load_params("simulate")          # the training track is the one simulate recorded
    shape = simulate.get("track", {})
    tracks = {"training": simulate["track_seed"], "unseen": params["unseen_track_seed"]}
    model_path, plots_dir, work_dir = Path(args.model), Path(args.plots_dir), Path(args.work_dir)
    if not model_path.is_file():
        sys.exit(f"road_test: {model_path} not found: run `dvc repro train` first.")

    report, drives = {}, {}
    try:
        # the headless simulator advances step_s per reply: the throttle controller must count the same time
        with drive_server(model_path, extra_args=("--frame-dt", str(params["step_s"]))) as server:
            for name, seed in tracks.items():
                frames_dir = work_dir / name / "frames"
                track, result = drive_track(name, seed, shape, params, server.port, frames_dir)
                report[name] = {"track_seed": seed, **result.metrics}
                drives[name] = result
                write_trajectory_csv(result.records, work_dir / name / "trajectory.csv")
                path_on_track_map(track, result.records,
                                  f"{name} track (seed {seed}): autonomy {result.metrics['autonomy_pct']:.1f} %",
                                  plots_dir / f"path_{name}.png")
                pd.DataFrame({"distance_m": [round(r.progress_laps * track.length_m, 2) for r in result.records],
                              "cross_track_m": [round(r.cross_track_m, 4) for r in result.records]}
                             ).to_csv(plots_dir / f"cross_track_{name}.csv", index=False)
    except ServerStartError as error:
        sys.exit(f"road_test: {error}")
    except WireError as error:
        sys.exit(f"road_test: the drive server stopped answering ({error}).")

    training, records = work_dir / "training", drives["training"].records
    explain(model_path, training / "frames", records, params["saliency_frames"], plots_dir / "saliency.png")
    out_video = Path(args.video)
    if params.get("video", True):
        count = video(training / "frames", records, params["video_seconds"], params["step_s"], out_video)
        print(f"road_test: {count} frames of video -> {out_video}")
    else:                                   # the out must exist for DVC; an empty file says 'switched off'
        out_video.parent.mkdir(parents=True, exist_ok=True)
        out_video.write_bytes(b"")
    write_metrics(args.metrics, report)


if __name__ == "__main__":
    main()
