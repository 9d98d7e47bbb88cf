"""augment: split frames -> sharded TFRecords of preprocessed examples, a manifest, sample grids.

Training frames give copies_per_frame examples each (auto: enough for 40,000 examples, at least 10;
random camera, the seed's four augmentations, then a shadow with probability shadow_probability); validation frames give
one (centre camera, no augmentation). Worker processes make the examples; the bytes do not
depend on how many there are.
TensorFlow and matplotlib are imported inside functions: spawned workers re-import
this script and need neither.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from pilot.atomic import building_folder, replace_folder
from pilot.data.codec import choose_encoding
from pilot.data.examples import ExampleSpec, Skipped, choose_copies, iter_examples, plan_tasks
from pilot.data.frames import FRAME_COLUMNS, read_frames
from pilot.processes import resolve_workers
from pilot.stage_io import load_params, stop_on_ctrl_c
from pilot.udacity.images import read_jpeg_rgb

REQUIRED_COLUMNS = (*FRAME_COLUMNS, "center", "left", "right")   # augment reads the cameras too
GRID_FRAMES = 4
SKIP_REASONS_KEPT = 5
INTERRUPTED_EXIT_CODE = 130            # 128 + SIGINT, what shells report for Ctrl+C


def write_split(
    frames: pd.DataFrame, spec: ExampleSpec, params: dict[str, Any], out_dir: Path, workers: int, copies: int
) -> dict[str, Any]:
    """Make and write one split's examples (`copies` per frame); returns its manifest entry."""
    from pilot.data.records import ShardWriter, serialize_encoded

    tasks = plan_tasks(frames, copies, shuffle_seed=params["seed"] if spec.augment else None)
    cameras: Counter[str] = Counter()
    steering, skipped, flipped = [], [], 0
    started = time.perf_counter()
    with ShardWriter(out_dir, spec.split, len(tasks), params["shard_size"]) as writer:
        for result in tqdm(iter_examples(tasks, spec, workers), total=len(tasks), desc=spec.split, unit="img"):
            if isinstance(result, Skipped):
                skipped.append(result.reason)
                continue
            writer.write(serialize_encoded(result.image_bytes, result.steering))   # encoded in the worker
            cameras[result.camera] += 1
            flipped += result.draw.flip
            steering.append(result.steering)
    seconds = time.perf_counter() - started
    print(f"{spec.split}: {len(steering)} examples from {len(frames)} frames in {seconds:.1f} s "
          f"({len(tasks) / seconds:.0f} img/s, {workers} workers); {len(skipped)} skipped")
    for reason in skipped[:SKIP_REASONS_KEPT]:
        print(f"  skipped {reason}")
    if not steering:
        raise ValueError(f"no {spec.split} example could be made: every image failed to load")
    return {
        "frames": len(frames), "copies_per_frame": copies, "examples": len(steering), "skipped": len(skipped),
        "skip_reasons": skipped[:SKIP_REASONS_KEPT], "cameras": dict(sorted(cameras.items())),
        "flipped": int(flipped), "steering_mean": float(np.mean(steering)),
        "steering_std": float(np.std(steering)), "shards": writer.shards(),
    }


def write_grids(frames: pd.DataFrame, records_dir: Path, plots_dir: Path, seed: int,
                shadow_probability: float, flip: str, pan_steering: str, encoding: str) -> None:
    """The seed's step 10-14 pictures, on frames spread over the steering range; then shadows on them."""
    from pilot.data import grids
    from pilot.data.augment import flip_rig
    from pilot.data.records import read_raw_examples, shard_files

    picks = frames.sort_values("steering").iloc[np.linspace(0, len(frames) - 1, GRID_FRAMES).astype(int)]
    samples = []
    for row in picks.itertuples(index=False):
        try:
            samples.append((read_jpeg_rgb(str(row.center)), float(row.steering)))
        except (OSError, ValueError):
            continue                    # already counted as skipped while writing
    rng = np.random.default_rng(seed)
    grids.augmentation_grid(samples, rng, plots_dir / "augmentations.png")
    grids.random_augment_grid(samples, rng, plots_dir / "random_augment.png", shadow_probability,
                              flip_rig=flip_rig(flip), pan_steering=pan_steering)
    stored_train = read_raw_examples(shard_files(records_dir, "train"), GRID_FRAMES, encoding)
    stored_val = read_raw_examples(shard_files(records_dir, "val"), GRID_FRAMES, encoding)
    grids.preprocessing_grid(samples, stored_train, stored_val, plots_dir / "preprocessed.png")
    grids.shadow_grid(samples, rng, plots_dir / "shadows.png")      # what shadow_probability > 0 adds


def describe(params: dict[str, Any], args: argparse.Namespace, splits: dict[str, Any],
             encoding: str) -> dict[str, Any]:
    """The manifest: schema and preprocessing, params used (workers aside: no effect), counts."""
    from pilot.data.records import schema_description

    return {
        **schema_description(encoding),
        "augmentation": {"train": f"random camera (equal odds), then pan (label: {params['pan_steering']}), zoom, "
                                  f"brightness, flip ({params['flip']}), p=0.5 each, "
                                  f"then a shadow, p={params['shadow_probability']}",
                         "val": "centre camera, none"},
        "params": {key: value for key, value in sorted(params.items()) if key != "workers"},
        "sources": {"train": str(args.train), "val": str(args.val)},
        "splits": splits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True, help="split stage's train.csv")
    parser.add_argument("--val", type=Path, required=True, help="split stage's val.csv")
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for shards + manifest.json")
    parser.add_argument("--plots-dir", type=Path, required=True, help="folder for the sample grids (PNG)")
    args = parser.parse_args()
    stop_on_ctrl_c()
    params = load_params("augment")
    building = building_folder(args.out_dir)      # shards go here; renamed into place when all are written
    try:
        workers = resolve_workers(int(params["workers"]))
        train, val = (read_frames(path, "split", REQUIRED_COLUMNS) for path in (args.train, args.val))
        from pilot.data import records

        copies, copies_why = choose_copies(params["copies_per_frame"], len(train))
        print(f"copies per training frame: {params['copies_per_frame']} -> {copies} ({copies_why})")
        encoding, why = choose_encoding(params["image_encoding"], len(train) * copies + len(val))
        print(f"image encoding: {params['image_encoding']} -> {encoding} ({why})")
        specs = [ExampleSpec(split, int(params["seed"]), augment, float(params["steering_correction"]),
                             image_encoding=encoding,
                             shadow_probability=params["shadow_probability"], flip=params["flip"],
                             pan_steering=params["pan_steering"])
                 for split, augment in (("train", True), ("val", False))]
        shutil.rmtree(building, ignore_errors=True)     # left by an interrupted run
        building.mkdir(parents=True)
        splits = {}
        for frames, spec in zip((train, val), specs):
            splits[spec.split] = write_split(frames, spec, params, building, workers, copies if spec.augment else 1)
        records.write_manifest(building, describe(params, args, splits, encoding))
        write_grids(train, building, args.plots_dir, int(params["seed"]), specs[0].shadow_probability,
                    specs[0].flip, specs[0].pan_steering, encoding)
        replace_folder(building, args.out_dir)
    except KeyboardInterrupt:
        shutil.rmtree(building, ignore_errors=True)
        print(f"augment: interrupted; {args.out_dir} holds the previous run's records, if any, "
              "never a partial set.", file=sys.stderr)
        sys.exit(INTERRUPTED_EXIT_CODE)
    except (FileNotFoundError, ValueError) as exc:
        shutil.rmtree(building, ignore_errors=True)
        sys.exit(f"augment: {exc}")
    except KeyError as exc:
        shutil.rmtree(building, ignore_errors=True)
        sys.exit(f"augment: params.yaml's augment section lacks {exc}: see the README")


if __name__ == "__main__":
    main()
