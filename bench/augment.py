"""augment throughput: examples/s made by one worker (JPEG read, camera, augmentations, preprocessing, PNG).

Target: >= 400 images/s per worker, with the shipped flip (`augment.flip: rig`); the seed's
plain mirror is measured beside it, to show what turning the flip back to the rig costs. Also
prints the rate with every core, to show how it scales. Data: synthetic 320x160 road JPEGs
(three cameras) written here, or the frames of a split CSV. --encoding none leaves out the record's image encoding
(the PNG the augment stage's workers make) to show what it costs.

    .venv/bin/python bench/augment.py [--frames 150] [--copies 10] [--csv data/split/train.csv] [--encoding png]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from pilot.data.examples import ExampleSpec, iter_examples, plan_tasks
from pilot.processes import resolve_workers
from pilot.testing.synthetic import write_split_csvs

TARGET_PER_WORKER = 400.0


def rate(tasks: list, spec: ExampleSpec, workers: int) -> float:
    started = time.perf_counter()
    made = sum(1 for _ in iter_examples(tasks, spec, workers))
    return made / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--encoding", choices=("png", "raw", "none"), default="png",
                        help="the record's image encoding made in the worker (augment: png)")
    parser.add_argument("--csv", type=Path, help="use the first --frames frames of this split CSV "
                        "(e.g. data/split/train.csv) instead of synthetic ones")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.csv:
            frames = pd.read_csv(args.csv).head(args.frames)
        else:
            frames = pd.read_csv(write_split_csvs(Path(tmp), args.frames + 1, seed=0, val_fraction=0.0)[0])
        tasks = plan_tasks(frames, args.copies, shuffle_seed=0)
        spec = ExampleSpec("train", seed=0, augment=True, steering_correction=0.15,
                           image_encoding=None if args.encoding == "none" else args.encoding, flip="rig")
        mirror_spec = dataclasses.replace(spec, flip="mirror")
        rate(tasks[:100], spec, workers=1)                              # warm the file cache
        one = rate(tasks, spec, workers=1)
        one_mirror = rate(tasks, mirror_spec, workers=1)
        cores = resolve_workers(0)
        every = rate(tasks, spec, workers=cores)
    source = "recorded" if args.csv else "synthetic"
    print(f"augment: {len(tasks)} training examples from {len(frames)} {source} frames, "
          f"image encoding {args.encoding}")
    print(f"  1 worker : {one:7.1f} images/s  ratio to target {TARGET_PER_WORKER:.0f}/s = "
          f"{one / TARGET_PER_WORKER:.2f} {'OK' if one >= TARGET_PER_WORKER else 'BELOW TARGET'}")
    print(f"  1 worker, the seed's plain mirror: {one_mirror:7.1f} images/s (rig / mirror = {one / one_mirror:.2f})")
    print(f"  {cores} workers: {every:7.1f} images/s  ({every / cores:.1f} per worker, pool start-up included; "
          f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
