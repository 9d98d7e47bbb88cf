"""simulate: the headless simulator's expert drives laps and records them in the simulator's format.

Writes <out>/driving_log.csv and <out>/IMG/ exactly as the Udacity simulator does (no
header, absolute Windows paths by default, C# numbers, timestamped JPEGs at ~10 fps of
simulated time), a contact sheet of sample frames (a DVC image plot) and a small
metrics JSON about the drive. Same params, same bytes.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from pilot.processes import resolve_workers
from pilot.sim.contact_sheet import contact_sheet, save_png
from pilot.sim.expert import DriftSettings
from pilot.sim.scenery import LOOK_NAMES
from pilot.sim.session import SessionSettings, record_session
from pilot.sim.track import LAYOUTS, check_max_grade, parse_track
from pilot.sim.vehicle import CarPhysics
from pilot.stage_io import load_params, write_metrics
from pilot.udacity.log_writer import RecordingWriter
from pilot.udacity.simulator import DRIVING_LOG_NAME, IMAGE_DIR_NAME, mph_to_mps

TRACK_KEYS = ("length_m", "width_m", "max_curvature_per_m")
HILL_TRACK_KEYS = ("max_grade", "corner_radius_m", "layout", "look")      # simulate.hill_track's own


def session_settings(params: dict[str, Any]) -> SessionSettings:
    """SessionSettings from the `simulate` params section (ValueError with one sentence if wrong)."""
    track = dict(params["track"])
    unknown = sorted(set(track) - set(TRACK_KEYS))
    if unknown:
        raise ValueError(f"simulate.track has unknown keys {unknown}: use {', '.join(TRACK_KEYS)}")
    seeds = [parse_track(params["track_seed"])] + [parse_track(s) for s in params["extra_track_seeds"] or []]
    hills = dict(params["hill_track"] or {})
    unknown = sorted(set(hills) - set(TRACK_KEYS + HILL_TRACK_KEYS))
    if unknown:
        raise ValueError(f"simulate.hill_track has unknown keys {unknown}: "
                         f"use {', '.join(TRACK_KEYS + HILL_TRACK_KEYS)}")
    try:
        check_max_grade(hills.get("max_grade", 0.0))
    except ValueError as error:
        raise ValueError(f"simulate.hill_track.{error}") from None
    if hills.get("layout", "polygon") not in LAYOUTS:
        raise ValueError(f"simulate.hill_track.layout must be one of {', '.join(LAYOUTS)}, got {hills['layout']!r}")
    look = hills.pop("look", "generated")
    if look not in LOOK_NAMES:
        raise ValueError(f"simulate.hill_track.look must be one of {', '.join(LOOK_NAMES)}, got {look!r}")
    hill_seeds = list(params["hill_track_seeds"] or [])
    if not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in hill_seeds):
        raise ValueError(f"simulate.hill_track_seeds must be whole numbers (generated circuits), got {hill_seeds}")
    laps = float(params["laps"])
    step_s = float(params["step_s"])
    if laps <= 0 or step_s <= 0:
        raise ValueError("simulate.laps and simulate.step_s must be positive")
    return SessionSettings(
        track_seeds=tuple(seeds), laps_per_track=laps, step_s=step_s,
        set_speed_mph=float(params["set_speed_mph"]),
        brightness=tuple(params["brightness"]), warmth=tuple(params["warmth"]),
        track_params=track, hill_track_seeds=tuple(hill_seeds), hill_track_params=hills, hill_track_look=look,
        drift=DriftSettings(), physics=CarPhysics.from_params(params["physics"]))


def clear_recording(out_dir: Path) -> None:
    """Remove a previous recording in out_dir (only what this stage writes)."""
    shutil.rmtree(out_dir / IMAGE_DIR_NAME, ignore_errors=True)
    (out_dir / DRIVING_LOG_NAME).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="recording folder (driving_log.csv + IMG/)")
    parser.add_argument("--contact-sheet", required=True, help="PNG of sample frames (DVC image plot)")
    parser.add_argument("--metrics", required=True, help="JSON summary of the expert's drive")
    args = parser.parse_args()
    params = load_params("simulate")
    try:
        settings = session_settings(params)
        start_time = datetime.fromisoformat(str(params["start_time"]))
        out_dir = Path(args.out)
        clear_recording(out_dir)
        writer = RecordingWriter(out_dir, start_time, params["path_style"])
        workers = resolve_workers(int(params["workers"]))
    except (KeyError, TypeError, ValueError) as error:
        sys.exit(f"simulate: bad params.yaml simulate section: {error}")

    length_m = float(params["track"]["length_m"])
    expected = int(len(settings.track_seeds + settings.hill_track_seeds) * settings.laps_per_track * length_m
                   / mph_to_mps(settings.set_speed_mph) / settings.step_s * 1.04)
    started = time.perf_counter()
    try:
        with writer, tqdm(total=expected, desc="simulate", unit="frame") as bar:
            summary, samples = record_session(writer, settings, int(params["seed"]), on_frame=lambda _: bar.update(),
                                              workers=workers)
    except ValueError as error:
        sys.exit(f"simulate: {error}")
    seconds = time.perf_counter() - started

    sheet_path = Path(args.contact_sheet)
    sheet_path.parent.mkdir(parents=True, exist_ok=True)
    save_png(contact_sheet(samples.rows()), sheet_path)
    summary.update(track_seeds=list(settings.track_seeds), hill_track_seeds=list(settings.hill_track_seeds),
                   laps_per_track=settings.laps_per_track, simulated_s=round(summary["frames"] * settings.step_s, 1))
    write_metrics(args.metrics, summary)
    print(f"simulate: {summary['frames']} frames x 3 cameras on tracks {list(settings.track_seeds)}"
          f"{f' and hilly ones {list(settings.hill_track_seeds)}' if settings.hill_track_seeds else ''} "
          f"in {seconds:.1f} s, {summary['interventions']} interventions -> {out_dir}")


if __name__ == "__main__":
    main()
