"""Drive the headless simulator against a running drive server, like the real simulator would.

    python stages/drive.py &                         # any server speaking the simulator's protocol
    python -m pilot.sim --port 4567 --track-seed 7 --laps 1 --out-dir runs/drive --frames

Writes <out-dir>/metrics.json (autonomy by PilotNet's formula, interventions, laps,
cross-track error, speed), <out-dir>/trajectory.csv and, with --frames, the centre
camera's JPEGs. The track is the one params.yaml's `simulate.track` shape gives for the seed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pilot.sim.camera import Light
from pilot.sim.client import ClosedLoopSettings, drive
from pilot.sim.metrics import write_trajectory_csv
from pilot.sim.track import make_track
from pilot.sim.wire import WireError
from pilot.stage_io import load_params, write_metrics


def track_shape(params_path: Path) -> dict:
    """params.yaml's simulate.track (length_m, width_m, max_curvature_per_m); without a params.yaml,
    {} (the defaults)."""
    if not params_path.is_file():
        return {}
    return dict(load_params("simulate", params_path)["track"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pilot.sim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4567)
    parser.add_argument("--track-seed", default="7", help="a seed (7: the default training track) or lake")
    parser.add_argument("--laps", type=float, default=1.0)
    parser.add_argument("--latency-s", type=float, default=0.1,
                        help="a frame's command acts this long after the frame (0: at once)")
    parser.add_argument("--brightness", type=float, default=1.0, help="light: 1 = midday")
    parser.add_argument("--decimal-comma", action="store_true", help="send '12,3456' like a de-DE machine")
    parser.add_argument("--out-dir", default="runs/drive", help="metrics.json, trajectory.csv, frames/")
    parser.add_argument("--frames", action="store_true", help="also save the centre camera's JPEGs")
    parser.add_argument("--params", default="params.yaml", help="where simulate.track is read from")
    args = parser.parse_args()

    out_dir = Path(args.out_dir)
    try:
        track = make_track(args.track_seed, **track_shape(Path(args.params)))
        settings = ClosedLoopSettings(host=args.host, port=args.port, latency_s=args.latency_s, laps=args.laps,
                                 decimal_comma=args.decimal_comma, light=Light(args.brightness))
        result = drive(track, settings, frames_dir=out_dir / "frames" if args.frames else None)
    except WireError as error:
        sys.exit(f"drive: {error}. Is a drive server running there (python stages/drive.py)?")
    except (TypeError, ValueError) as error:
        sys.exit(f"drive: {error}")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_metrics(out_dir / "metrics.json", result.metrics)
    write_trajectory_csv(result.records, out_dir / "trajectory.csv")
    m = result.metrics
    print(f"drive: {m['laps']} laps in {m['elapsed_s']:.0f} s simulated, {m['interventions']} interventions, "
          f"autonomy {m['autonomy_pct']:.1f} %, mean |cross-track| {m['mean_abs_cross_track_m']:.2f} m -> {out_dir}")


if __name__ == "__main__":
    main()
