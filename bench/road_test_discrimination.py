"""Does the road test tell models apart? Models of graded quality, offline metrics beside closed-loop scores.

Trains models of graded quality from the pipeline's own data (run `dvc repro` first), each in a
temporary copy of the project with one params change, and runs the real evaluate and road_test
stages on each:

- `epochs=1`, `epochs=3`, and the default model (`models/model.keras`, `train.epochs` as in params.yaml);
- `copies=1`: one augmented example per training frame instead of ten (augment runs again).

Then, for the default model, why inference speed matters in closed loop: the road test with the
latency taken from the server's measured time (`road_test.latency_s: null`), through the fast
path and through the seed's per-frame `model.predict` (`road_test.inference: seed`).

Prints one table: per model, offline MSE and R² against autonomy, interventions and mean
|cross-track| for every track at the set speed and at 30 mph (`unseen` pools the unseen tracks),
then each model's 30 mph cross-track and jitter as multiples of the default model's, on every
track and on each unseen track alone.

    .venv/bin/python bench/road_test_discrimination.py [--skip-seed-inference]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.stage_runner import AUGMENT, EVALUATE, TRAIN, copy_project, run_stage, set_params  # noqa: E402

ROAD_TEST_TIMEOUT_S = 3600      # the seed's model.predict with measured latency: about 15 min for 12 runs
RESULTS = REPO / "bench" / "results" / "road_test_discrimination.json"


def road_test_args() -> list[str]:
    """The road_test command line dvc.yaml runs, with simulate's track passed as dvc.yaml passes it."""
    import yaml
    simulate = yaml.safe_load((REPO / "params.yaml").read_text())["simulate"]
    return ["--model", "models/model.keras", "--metrics", "metrics/drive.json", "--plots-dir", "plots/road_test",
            "--video", "plots/road_test/drive.mp4", "--work-dir", "data/road_test",
            "--training-track-seed", str(simulate["track_seed"]),
            "--track-length-m", str(simulate["track"]["length_m"]),
            "--track-width-m", str(simulate["track"]["width_m"]),
            "--track-max-curvature-per-m", str(simulate["track"]["max_curvature_per_m"])]


def checked(result, what: str) -> None:
    if result.returncode != 0:
        raise SystemExit(f"{what} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")


def variant(root: Path, name: str, *, train: dict | None = None, augment: dict | None = None,
            road_test: dict | None = None, reuse_model: bool = False) -> dict:
    """One model through (augment,) train, evaluate and road_test in its own copy; its metrics."""
    started = time.perf_counter()
    copy = copy_project(root / name, with_dvc=False)
    set_params(copy, "road_test", video=False, saliency_frames=1, **(road_test or {}))
    if augment:
        shutil.copytree(REPO / "data" / "split", copy / "data" / "split")
        (copy / "data" / "raw").symlink_to(REPO / "data" / "raw")          # the split's images
        set_params(copy, "augment", **augment)
        checked(run_stage("augment.py", AUGMENT, copy), f"{name}: augment")
    else:
        (copy / "data").mkdir(exist_ok=True)
        (copy / "data" / "records").symlink_to(REPO / "data" / "records")
    if reuse_model:
        (copy / "models").mkdir()
        shutil.copy(REPO / "models" / "model.keras", copy / "models" / "model.keras")
    else:
        set_params(copy, "train", **(train or {}))
        checked(run_stage("train.py", TRAIN, copy), f"{name}: train")
    checked(run_stage("evaluate.py", EVALUATE, copy), f"{name}: evaluate")
    checked(run_stage("roadtest.py", road_test_args(), copy, timeout_s=ROAD_TEST_TIMEOUT_S), f"{name}: road_test")
    evaluation = json.loads((copy / "metrics" / "eval.json").read_text())
    drive = json.loads((copy / "metrics" / "drive.json").read_text())
    print(f"  {name}: done in {time.perf_counter() - started:.0f} s", flush=True)
    return {"eval": evaluation, "drive": drive}


def table(results: dict[str, dict]) -> None:
    runs = [(track, speed) for track in ("training", "unseen", "lake", "jungle")
            for speed in ("set_speed", "top_speed")]
    head = f"{'model':<32}    MSE     R²   " + "".join(f"| {t[:5]}@{'set' if s == 'set_speed' else '30'}".ljust(24)
                                                      for t, s in runs)
    print(head)
    print(" " * 47 + "| autonomy  int  |xte|   " * len(runs))
    for name, metrics in results.items():
        model = metrics["eval"]["model"]
        line = f"{name:<32} {model['mse']:.4f} {model['r2']:6.3f} "
        for track, speed in runs:
            run = metrics["drive"].get(track, {}).get(speed)
            line += ("| " + (f"{run['autonomy_pct']:6.1f} % {run['interventions']:4d} "
                             f"{run['mean_abs_cross_track_m']:5.2f} m"
                             if run else "-").ljust(22))
        print(line)


def ratios_to_default(results: dict[str, dict]) -> None:
    """At 30 mph, each model's mean |cross-track| and steering jitter as multiples of the default model's."""
    tracks = list(results["default"]["drive"])      # training, unseen (pooled), lake, jungle, unseen_23, ...
    print("\nat 30 mph, x the default model's:  " + "".join(f"| {t:<9} |xte| jitter ".ljust(24) for t in tracks))
    default = results["default"]["drive"]
    for name, metrics in results.items():
        line = f"{name:<34} "
        for track in tracks:
            run, base = metrics["drive"].get(track, {}).get("top_speed"), default.get(track, {}).get("top_speed")
            line += ("| " + (f"{run['mean_abs_cross_track_m'] / base['mean_abs_cross_track_m']:10.2f}x "
                             f"{run['steering_jitter_per_s'] / base['steering_jitter_per_s']:6.2f}x"
                             if run and base else "-")).ljust(24)
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-seed-inference", action="store_true", help="leave out the measured-latency runs")
    args = parser.parse_args()
    for needed in ("data/records", "data/split", "models/model.keras"):
        if not (REPO / needed).exists():
            raise SystemExit(f"{needed} is missing: run `dvc repro` first (this benchmark trains from its data).")
    results: dict[str, dict] = {}
    RESULTS.parent.mkdir(exist_ok=True)

    def keep(name: str, metrics: dict) -> None:       # written after each model: a late failure loses nothing
        results[name] = metrics
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    with tempfile.TemporaryDirectory(prefix="discrimination-") as scratch:
        root = Path(scratch)
        keep("epochs=1", variant(root, "epochs1", train={"epochs": 1}))
        keep("epochs=3", variant(root, "epochs3", train={"epochs": 3}))
        keep("copies=1", variant(root, "copies1", augment={"copies_per_frame": 1}))
        keep("default", variant(root, "default", reuse_model=True))
        if not args.skip_seed_inference:
            keep("default, measured latency, fast", variant(root, "fast_measured", reuse_model=True,
                                                            road_test={"latency_s": None}))
            keep("default, measured latency, seed", variant(root, "seed_measured", reuse_model=True,
                                                            road_test={"latency_s": None, "inference": "seed"}))
    print()
    table(results)
    ratios_to_default(results)
    print(f"\nall metrics -> {RESULTS}")


if __name__ == "__main__":
    main()
