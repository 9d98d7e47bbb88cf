"""The seed's notebook as a peer: both trained on the same real recordings, both scored on recordings neither saw.

The seed's way, as its walk-through does it: its histogram balancing (25 bins, 400 frames each, its
`<=` on both edges), the three cameras as samples with +-0.15, a random 80/20 split (random_state 6),
its batch generator (a random sample per slot, the four augmentations each with probability 0.5
through this project's OpenCV port of imgaug, the seed's preprocessing), PilotNet with Adam 1e-3,
300 steps of 100 for 10 epochs, the last epoch's model kept. (Its validation batches, which do not
change the model, are not run.) The pipeline's way: the project's own stages from ingest to
evaluate on a copy of the project with the recordings as ingest.sources and every other param as
shipped (or changed with --set).

Both models are then scored on every --test recording (pilot.holdout): correlation and MSE of the
steering on every third centre frame against the driver's raw and 1 s-smoothed steering, the
calibration slope, and the side-camera response against the +-0.15 both trained with; with
--replay, the replay score on each test recording too. The pipeline's model is scored as its evaluate
stage and drive server serve it (evaluate.flip_average: the frame and its mirror), and from the frame
alone ("one view"); the seed's as its drive.py serves it, from the frame alone. Prints them side by
side and the pipeline's mean correlation against the seed's (`against_seed`: the difference, and
the ratio where the seed's is positive).

One training of either way is one draw: with --repeats N each way trains N times, repeat i moving
the pipeline's balancing, augmentation and training seeds and the notebook's balancing, batch and
weight seeds on by i (both splits fixed, as the notebook fixes its random_state), and the bench
prints the mean, spread and the number of repeats in which the pipeline is at least the seed's.

    .venv/bin/python bench/seed_notebook.py TRAIN_RECORDING... --test TEST_RECORDING...
        [--set train.epochs=20] [--replay] [--keep DIR] [--seed-epochs 10] [--seed-steps 300]
        [--repeats 3] [--seed-model DIR/seed_model.keras...]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pilot.data.augment import random_augment  # noqa: E402
from pilot.holdout import score_recording  # noqa: E402
from pilot.imaging import preprocess  # noqa: E402
from pilot.stage_io import load_params  # noqa: E402
from pilot.udacity.images import read_jpeg_rgb  # noqa: E402
from pilot.udacity.log_reader import read_recording  # noqa: E402
from tests.stage_runner import copy_project, run_stage, set_params  # noqa: E402

SEED_CORRECTION = 0.15
SEED_BINS, SEED_PER_BIN = 25, 400
PIPELINE_STAGES = ("ingest", "balance", "split", "augment", "train", "evaluate")


def recording_table(folder: Path) -> pd.DataFrame:
    """A recording's rows as ingest reads them (absolute image paths), in time order."""
    rows = pd.DataFrame(read_recording(folder, repo_root="/", check_images=False).rows)
    rows[["center", "left", "right"]] = "/" + rows[["center", "left", "right"]]
    return rows.sort_values("time", kind="stable").reset_index(drop=True)


def seed_balance(steering: np.ndarray, seed: int) -> np.ndarray:
    """The seed's own loop: per bin, frames with bins[j] <= s <= bins[j+1] (edges counted twice), shuffled,
    all but the first 400 removed. Returns the kept rows."""
    _, bins = np.histogram(steering, SEED_BINS)
    rng = random.Random(seed)
    remove: set[int] = set()
    for j in range(SEED_BINS):
        members = [i for i, value in enumerate(steering) if bins[j] <= value <= bins[j + 1]]
        rng.shuffle(members)
        remove.update(members[SEED_PER_BIN:])
    return np.array(sorted(set(range(len(steering))) - remove))


def seed_samples(table: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """load_img_steering: the centre, left and right images of each row, with 0, +0.15 and -0.15."""
    paths, steering = [], []
    for _, row in table.iterrows():
        for camera, correction in (("center", 0.0), ("left", SEED_CORRECTION), ("right", -SEED_CORRECTION)):
            paths.append(row[camera])
            steering.append(float(row["steering"]) + correction)
    return paths, np.array(steering)


def train_seed_way(tables: list[pd.DataFrame], out: Path, steps: int, epochs: int, seed: int = 6,
                   name: str = "seed_model.keras") -> Path:
    """The notebook's training, start to end; the model file it would download. `seed` seeds its balancing
    (unseeded in the notebook), its batches and its weights; the split keeps the notebook's random_state 6."""
    import keras
    import tensorflow as tf
    from sklearn.model_selection import train_test_split

    from pilot.learn.model import build_pilotnet

    data = pd.concat(tables, ignore_index=True)
    kept = data.iloc[seed_balance(data["steering"].to_numpy(float), seed)]
    paths, steering = seed_samples(kept)
    x_train, _, y_train, _ = train_test_split(paths, steering, test_size=0.2, random_state=6)
    print(f"seed way: {len(data)} frames, {len(kept)} after its balancing, {len(x_train)} training samples "
          f"(three cameras); {steps} steps of 100 for {epochs} epochs", flush=True)
    images = {path: read_jpeg_rgb(path) for path in set(x_train)}
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            picks = rng.integers(0, len(x_train), 100)
            batch, labels = [], []
            for index in picks:
                rgb, label, _ = random_augment(images[x_train[index]], float(y_train[index]), rng)
                batch.append(preprocess(rgb).astype(np.float32) / np.float32(255.0))
                labels.append(label)
            yield np.stack(batch), np.array(labels, np.float32)

    keras.utils.set_random_seed(seed)
    dataset = tf.data.Dataset.from_generator(batches, output_signature=(
        tf.TensorSpec((None, 66, 200, 3), tf.float32), tf.TensorSpec((None,), tf.float32))).prefetch(4)
    model = build_pilotnet(1e-3)
    started = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=epochs, verbose=2)
    print(f"seed way: trained in {time.perf_counter() - started:.0f} s", flush=True)
    path = out / name
    model.save(path)
    return path


def setting_value(text: str) -> object:
    """A --set value as params.yaml would read it: JSON where it parses (numbers, lists, true, null), else the
    text itself (a mode such as none or yaw)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def train_pipeline_way(recordings: list[Path], out: Path, settings: list[str], folder: str = "pipeline") -> Path:
    """The project's stages from ingest to evaluate, in a copy with the recordings as its only sources."""
    root = copy_project(out / folder, with_dvc=False)  # no git: DVCLive then logs without one
    raw = root / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for recording in recordings:
        (raw / recording.name).symlink_to(recording.resolve())
    set_params(root, "ingest", sources=[f"data/raw/{recording.name}" for recording in recordings])
    for setting in settings:
        key, value = setting.split("=", 1)
        section, name = key.split(".", 1)
        set_params(root, section, **{name: setting_value(value)})
    from scaling import stage_command  # bench/scaling.py: dvc.yaml's command lines with the params filled in

    started = time.perf_counter()
    for stage in PIPELINE_STAGES:
        script, args = stage_command(root, stage)
        done = run_stage(script, args, root, timeout_s=7200)
        if done.returncode != 0:
            sys.exit(f"pipeline way: {stage} failed:\n{done.stderr[-3000:]}")
        for line in done.stdout.splitlines():
            if line.startswith(("ingest: ", "trained in", "validation", "evaluate: lateral", "balance", "split")):
                print(f"pipeline way: {line}", flush=True)
    print(f"pipeline way: ingest to evaluate in {time.perf_counter() - started:.0f} s", flush=True)
    return root / "models" / "model.keras"


def scores(model: Path, tests: dict[str, pd.DataFrame], replay: bool, flip_average: bool = False) -> dict[str, dict]:
    from pilot.learn.runtime import serve_model

    predict = serve_model(model, "keras", flip_average=flip_average).predictor.predict_rgb
    found = {}
    for name, table in tests.items():
        found[name] = score_recording(predict, table, root="", trained_correction=SEED_CORRECTION)
        if replay:
            from pilot.replay.frame_table import replay_frame_table
            from pilot.replay.loop import ReplaySettings

            relative = table.assign(**{camera: table[camera].str.lstrip("/") for camera in ("center", "left", "right")})
            result = replay_frame_table(relative, predict, "/", None, settings=ReplaySettings(motion="auto"),
                                        track="auto")
            found[name]["replay"] = result.metrics()["overall"]
    return found


def line(label: str, result: dict) -> str:
    lateral = result.get("lateral_response", {})
    text = (f"  {label:10s} corr raw {result['vs_raw']['correlation']:+.3f} smoothed "
            f"{result['vs_smoothed']['correlation']:+.3f} | MSE raw {result['vs_raw']['mse']:.4f} smoothed "
            f"{result['vs_smoothed']['mse']:.4f} | slope {result['vs_smoothed']['calibration_slope']:+.2f} | "
            f"side cameras {lateral.get('left_camera', float('nan')):+.3f} "
            f"{lateral.get('right_camera', float('nan')):+.3f} ({lateral.get('share_of_correction')} of 0.15)")
    if "replay" in result:
        text += f" | replay {result['replay']['autonomy_percent']} %, {result['replay']['interventions']} interv."
    return text


REPEAT_SEEDS = ("balance.seed", "augment.seed", "train.seed")  # the pipeline's random choices a repeat moves


def repeat_settings(settings: list[str], repeat: int) -> list[str]:
    """Repeat 0: the settings as given; repeat i: balancing, augmentation and training seeds moved on by i
    (the split stays: the notebook fixes its random_state too), unless a setting names them."""
    if repeat == 0:
        return list(settings)
    import yaml

    shipped = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    named = {setting.split("=", 1)[0] for setting in settings}
    moved = [f"{key}={int(shipped[key.split('.')[0]][key.split('.')[1]]) + repeat}"
             for key in REPEAT_SEEDS if key not in named]
    return [*settings, *moved]


def spread(values: list[float]) -> str:
    mean = float(np.mean(values))
    return f"{mean:.3f}" + (f" (sd {float(np.std(values, ddof=1)):.3f}, {min(values):.3f}..{max(values):.3f})"
                            if len(values) > 1 else "")


def against_seed(pipeline: float, seed: float) -> str:
    """The pipeline's mean correlation against the seed's: a ratio where the seed's is positive (a ratio of two
    negative correlations reads backwards), the difference always; the verdict compares the two means."""
    ratio = f"pipeline / seed {pipeline / seed:.2f}, " if seed > 0 else ""
    return (f"{ratio}pipeline - seed {pipeline - seed:+.3f} ({pipeline:.3f} against {seed:.3f}: "
            f"{'at least' if pipeline >= seed else 'BELOW'} the seed's)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", nargs="+", type=Path, help="recordings both train on")
    parser.add_argument("--test", nargs="+", type=Path, required=True, help="recordings neither trains on")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="a params.yaml change for the pipeline's way")
    parser.add_argument("--replay", action="store_true", help="also replay each test recording (minutes each)")
    parser.add_argument("--seed-steps", type=int, default=300)
    parser.add_argument("--seed-epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1,
                        help="train each way this many times with other seeds (balancing, augmentation, weights "
                             "and batches), to see the spread one run hides")
    parser.add_argument("--keep", type=Path, help="keep the models and the pipeline's copy here")
    parser.add_argument("--seed-model", type=Path, nargs="+",
                        help="seed-way models kept by an earlier run on the same recordings (one per repeat): "
                             "scored again, not retrained (to compare pipeline settings quickly)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.seed_model and len(args.seed_model) != args.repeats:
        parser.error(f"--seed-model needs one model per repeat ({args.repeats}), got {len(args.seed_model)}")
    out = args.keep or Path(tempfile.mkdtemp(prefix="seed_notebook_"))
    out.mkdir(parents=True, exist_ok=True)
    tests = {recording.name: recording_table(recording) for recording in args.test}
    train_tables = None if args.seed_model else [recording_table(recording) for recording in args.train]
    runs = []
    try:
        for repeat in range(args.repeats):
            suffix = f"_{repeat}" if repeat else ""
            if args.repeats > 1:
                print(f"repeat {repeat + 1} of {args.repeats}", flush=True)
            pipeline_model = train_pipeline_way(args.train, out, repeat_settings(args.set, repeat),
                                                folder=f"pipeline{suffix}")
            seed_model = (args.seed_model[repeat] if args.seed_model else
                          train_seed_way(train_tables, out, args.seed_steps, args.seed_epochs, seed=6 + repeat,
                                         name=f"seed_model{suffix}.keras"))
            # the pipeline's model scored as its copy's evaluate stage and drive server serve it; the seed's as its
            # drive.py does, from the frame alone
            flip_average = load_params("evaluate", pipeline_model.parents[1] / "params.yaml")["flip_average"]
            served = scores(pipeline_model, tests, args.replay, flip_average)
            runs.append({"pipeline": served,
                         "one view": scores(pipeline_model, tests, False) if flip_average else served,
                         "seed": scores(seed_model, tests, args.replay)})
            if args.keep:
                shutil.rmtree(out / f"pipeline{suffix}" / "data", ignore_errors=True)   # GBs of records
    finally:
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)
    print(f"\ntrained on {', '.join(r.name for r in args.train)}; scored on every third moving frame of each test "
          f"recording (correlation and MSE against the raw and the 1 s-smoothed steering)")
    for name in tests:
        print(f"{name}:")
        for repeat, results in enumerate(runs):
            if args.repeats > 1:
                print(f" repeat {repeat + 1}:")
            for way in ("pipeline", "one view", "seed"):
                print(line(way, results[way][name]))
        correlation = {way: [results[way][name]["vs_smoothed"]["correlation"] for results in runs]
                       for way in ("pipeline", "seed")}
        verdict = against_seed(float(np.mean(correlation["pipeline"])), float(np.mean(correlation["seed"])))
        if args.repeats > 1:
            wins = sum(p >= s for p, s in zip(correlation["pipeline"], correlation["seed"]))
            print(f"  correlation with the smoothed steering over {args.repeats} repeats: pipeline "
                  f"{spread(correlation['pipeline'])}, seed {spread(correlation['seed'])}; pipeline at least the "
                  f"seed's in {wins} of {args.repeats}")
        print(f"  correlation with the smoothed steering, {verdict}")
    if args.keep:
        (out / "results.json").write_text(json.dumps(runs if args.repeats > 1 else runs[0], indent=1,
                                                     default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
