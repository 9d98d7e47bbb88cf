"""replay: drive the trained model along the held-out recorded drives, by view synthesis (PilotNet's §6).

The frames are every ingest frame inside the validation split's held-out stretches
(pilot/replay/held_out.py says the rule), or, with `replay.frames: all`, every ingest frame
(for recordings the model was never trained on). With --test-log (ingest's table of
ingest.test_sources), every frame of those recordings is replayed too, under `test`. Writes
metrics/replay.json (per recording and overall: autonomy, interventions, mean and max |offset|,
cross-track on a known road, frames replayed, the share replayed on a change of grade where the
flat-road synthesis is wrong; recordings too short to replay, each with its sentence), each
recording's cars over distance with the interventions, and an mp4 of the synthesised drive with
the human's and the model's steering.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import pandas as pd

from pilot.data.frames import frame_seconds, read_frames
from pilot.learn.model_file import TRUST_FLAG
from pilot.learn.runtime import flip_average_setting, load_stage_model
from pilot.replay.frame_table import NEEDED_COLUMNS, TableReplay, replay_frame_table
from pilot.replay.held_out import held_out_frames
from pilot.replay.loop import ReplaySettings, ReplayTooShort
from pilot.replay.pictures import ReplayVideo, offset_plot
from pilot.replay.reference import CarGeometry
from pilot.stage_io import load_params, write_metrics
from pilot.udacity.camera_rig import CameraRig

FRAME_CHOICES = ("held_out", "all")
EMPTY_SUMMARY = {"autonomy_percent": None, "interventions": 0, "mean_abs_offset_m": None, "max_abs_offset_m": None,
                 "frames_replayed": 0}


def chosen_frames(which: str, frames: pd.DataFrame, split_dir: Path) -> pd.DataFrame:
    """The ingest rows to replay (ValueError / FileNotFoundError with one sentence)."""
    if which not in FRAME_CHOICES:
        raise ValueError(f"replay.frames is '{which}': use {' or '.join(FRAME_CHOICES)}.")
    if which == "all":
        return frames
    train = read_frames(split_dir / "train.csv", made_by="split")
    val = read_frames(split_dir / "val.csv", made_by="split")
    held_out = held_out_frames(frames, train, val)
    if held_out.empty:
        raise ValueError(f"no frame of ingest's table lies inside a validation stretch of {split_dir}: "
                         "check that the split was made from these recordings.")
    return held_out


def recorded_fps(frames: pd.DataFrame) -> float:
    """The recording's frame rate (median gap between consecutive frames), for the video; 10 when unknown."""
    gaps = frames.assign(seconds=frame_seconds(frames)).sort_values(["recording", "seconds"]).groupby(
        "recording")["seconds"].diff().dropna()
    gaps = gaps[gaps > 0]
    return float(1.0 / gaps.median()) if len(gaps) else 10.0


def rig_of(value: object) -> CameraRig | None:
    """replay.rig: `auto` (None: fitted to each recording) or the five numbers of a CameraRig."""
    if value == "auto":
        return None
    if not isinstance(value, dict):
        raise ValueError(f"replay.rig is {value!r}: use auto, or focal_px, height_m, pitch_deg, yaw_deg and roll_deg.")
    return CameraRig(**{key: float(value[key]) for key in ("focal_px", "height_m", "pitch_deg", "yaw_deg", "roll_deg")})


def report(table: TableReplay, metrics: dict, settings: ReplaySettings, plots_dir: Path, prefix: str,
           what: str = "") -> None:
    """Each replayed recording's plot and line (`metrics`: table.metrics()), and the recordings left out."""
    for replay in table.replays:
        summary = metrics["recordings"][replay.name]
        offset_plot(replay.records, f"replay of {what}{replay.name}: autonomy {summary['autonomy_percent']} %, "
                    f"{summary['interventions']} interventions", plots_dir / f"{prefix}{safe_name(replay.name)}.png",
                    settings.max_offset_m, replay.road_half_width_m)
    for sentence in table.too_short.values():
        print(f"replay: left out: {sentence}")
    for name, summary in metrics["recordings"].items():
        rig = summary.get("rig", {})
        fitted = (f"; rig fitted to its side cameras: {rig['height_m']:.2f} m up, {rig['pitch_deg']:.1f} deg down "
                  f"(side-view error {rig['side_view_error_simulator_rig']:.1f} -> "
                  f"{rig['side_view_error_fitted_rig']:.1f})" if rig else "")
        errors = summary.get("motion_photometric_error")
        chosen = f" (photometric error {errors})" if errors else ""
        graded = (f"; {summary['grade_change_percent']} % of it on a change of grade (the road in view tilted over "
                  f"{summary['grade_change_limit_deg']:g} deg from the plane under the car: the flat-road synthesis "
                  f"is wrong there), {summary['grade_change_interventions']} of the interventions"
                  if "grade_change_percent" in summary else "")
        print(f"replay: {what}{name}: autonomy {summary['autonomy_percent']} %, {summary['interventions']} "
              f"interventions in {summary['elapsed_s']:.0f} s; reference {summary['reference']}; "
              f"motion {summary['motion']}{chosen}{fitted}{graded}")


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True, help="ingest's frame table (data/interim/log.csv)")
    parser.add_argument("--split-dir", type=Path, required=True, help="split's folder (train.csv, val.csv)")
    parser.add_argument("--model", type=Path, required=True, help="the trained model (.keras)")
    parser.add_argument("--metrics", type=Path, required=True, help="metrics/replay.json")
    parser.add_argument("--plots-dir", type=Path, required=True, help="offset plots and the mp4")
    parser.add_argument("--test-log", type=Path, help="ingest's test_log.csv: recordings training never saw")
    parser.add_argument(TRUST_FLAG, dest="trust_model_code", action="store_true",
                        help="let code stored in the model file run (only for a file you made or trust)")
    args = parser.parse_args()
    params = load_params("replay")
    threads = int(params["inference_threads"])          # the fastest runtime that steers the same (LiteRT, as drive)
    try:
        flip_average = flip_average_setting(params["flip_average"], "replay")
    except ValueError as error:
        sys.exit(f"replay: {error}")
    served = load_stage_model("replay", args.model, args.trust_model_code, "auto", threads, threads,
                              flip_average=flip_average)
    model = served.predictor.predict_rgb
    try:
        rig = rig_of(params["rig"])
        car = CarGeometry(wheelbase_m=float(params["car"]["wheelbase_m"]),
                          rear_axle_behind_root_m=float(params["car"]["rear_axle_behind_root_m"]))
        settings = ReplaySettings(latency_s=float(params["latency_s"]),
                                  steering_rate_per_s=params["steering_rate_per_s"],
                                  max_offset_m=float(params["max_offset_m"]),
                                  min_stretch_s=float(params["min_stretch_s"]),
                                  min_speed_mph=float(params["min_speed_mph"]), motion=str(params["motion"]),
                                  grade_change_deg=(None if params["grade_change_deg"] is None
                                                    else float(params["grade_change_deg"])))
        log = read_frames(args.log, made_by="ingest", columns=NEEDED_COLUMNS)
        frames = chosen_frames(str(params["frames"]), log, args.split_dir)
        tests = (read_frames(args.test_log, made_by="ingest", columns=NEEDED_COLUMNS, allow_empty=True)
                 if args.test_log else None)
    except (TypeError, ValueError, FileNotFoundError) as error:
        sys.exit(f"replay: {error}")

    args.plots_dir.mkdir(parents=True, exist_ok=True)
    video_path = args.plots_dir / "drive.mp4"
    fps = recorded_fps(frames)
    max_frames = int(round(float(params["video_seconds"]) * fps)) if params["video"] else 0
    started = time.perf_counter()
    with ReplayVideo(video_path, fps, max_frames) as video:
        try:
            table = replay_frame_table(frames, model, ".", rig, car, settings, on_frame=video.add,
                                       track=str(params["track"]), context=log)
        except ReplayTooShort as too_short:
            table = None
            sentence = str(too_short)
        except (FileNotFoundError, ValueError) as error:      # an unreadable image, a model answering NaN
            sys.exit(f"replay: {error}")
    seconds = time.perf_counter() - started
    if video.frames == 0:                      # the out must exist for DVC; an empty file: nothing to show
        video_path.write_bytes(b"")
    if table is None:
        names = sorted(frames["recording"].astype(str).unique())       # the sentence covers every one of them
        write_metrics(args.metrics, {"overall": EMPTY_SUMMARY, "recordings": {},
                                     "too_short": {name: sentence for name in names}})
        print(f"replay: nothing replayed: {sentence}")
        return
    metrics = table.metrics(settings)
    report(table, metrics, settings, args.plots_dir / "offset", "offset_")
    if tests is not None and not tests.empty:
        try:
            test_table = replay_frame_table(tests, model, ".", rig, car, settings, track=str(params["track"]),
                                            context=tests)
            metrics["test"] = test_table.metrics(settings)
            report(test_table, metrics["test"], settings, args.plots_dir / "offset", "test_", "test recording ")
        except ReplayTooShort as too_short:
            metrics["test"] = {"overall": EMPTY_SUMMARY, "recordings": {},
                               "too_short": {name: str(too_short) for name in sorted(tests["recording"].unique())}}
            print(f"replay: no test recording replayed: {too_short}")
        except (FileNotFoundError, ValueError) as error:
            sys.exit(f"replay: {error}")
    write_metrics(args.metrics, metrics)
    overall = metrics["overall"]
    print(f"replay: {overall['frames_replayed']} frames in {overall['stretches']} stretches "
          f"({overall['distance_m']:.0f} m): autonomy {overall['autonomy_percent']} %, "
          f"{overall['interventions']} interventions, mean |offset| {overall['mean_abs_offset_m']:.2f} m "
          f"(max {overall['max_abs_offset_m']:.2f}); {overall['frames_replayed'] / max(seconds, 1e-9):.0f} frames/s "
          f"with the video")


if __name__ == "__main__":
    main()
