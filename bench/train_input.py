"""Is training compute-bound? PilotNet images/s fed from TFRecord shards vs the same batches in memory.

Target: TFRecord-fed throughput >= 90 % of in-memory throughput, measured side by side
in one run (alternating rounds, best round of each; CPU time per image as a
load-independent check). Data: synthetic road JPEGs made
here, augmented and written to shards by the project's own augment code.

    .venv/bin/python bench/train_input.py [--examples 2000] [--batch-size 100] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pilot.data.examples import ExampleSpec, iter_examples, plan_tasks, resolve_workers  # noqa: E402
from pilot.learn.model import build_pilotnet  # noqa: E402
from pilot.data.records import ShardWriter, make_dataset, serialize_example, shard_files  # noqa: E402
from pilot.data.synthetic import write_split_csvs  # noqa: E402

TARGET_RATIO = 0.90
COPIES_PER_FRAME = 10
SHARD_SIZE = 500


def write_shards(root: Path, examples: int) -> list[str]:
    frames = pd.read_csv(write_split_csvs(root / "recording", frames=examples // COPIES_PER_FRAME + 1, seed=0,
                                          val_fraction=0.0)[0])
    tasks = plan_tasks(frames, COPIES_PER_FRAME, shuffle_seed=0)[:examples]
    spec = ExampleSpec("train", seed=0, augment=True, steering_correction=0.15)
    with ShardWriter(root / "records", "train", len(tasks), SHARD_SIZE) as writer:
        for example in iter_examples(tasks, spec, workers=resolve_workers(0)):
            writer.write(serialize_example(example.image, example.steering))
    return shard_files(root / "records", "train")


def measure(fit, images: int) -> tuple[float, float]:
    """(images per wall-clock second, CPU milliseconds per image) for one call of fit."""
    wall, cpu = time.perf_counter(), time.process_time()
    fit()
    return images / (time.perf_counter() - wall), 1000 * (time.process_time() - cpu) / images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    steps = args.examples // args.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        files = write_shards(Path(tmp), args.examples)
        dataset = make_dataset(files, args.batch_size, training=True, shuffle_buffer=args.examples, seed=0)
        batches = list(dataset.take(steps).as_numpy_iterator())          # the same batches, held in memory
        x_memory = np.concatenate([x for x, _ in batches])
        y_memory = np.concatenate([y for _, y in batches])
        model = build_pilotnet()
        runs = {
            "tfrecords": lambda: model.fit(dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0),
            "in memory": lambda: model.fit(x_memory, y_memory, batch_size=args.batch_size, epochs=1,
                                           shuffle=False, verbose=0),
        }
        for fit in runs.values():                                          # trace and warm up both
            fit()
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for round_index in range(args.rounds):
            order = list(runs) if round_index % 2 == 0 else list(runs)[::-1]   # alternate who goes first
            for name in order:
                results[name].append(measure(runs[name], steps * args.batch_size))
    best = {name: max(rate for rate, _ in values) for name, values in results.items()}
    ratio = best["tfrecords"] / best["in memory"]
    print(f"PilotNet training, batch {args.batch_size}, {steps} steps per round, {args.rounds} rounds, "
          f"{os.cpu_count()} cores (other processes' load shows as spread between rounds)")
    for name, values in results.items():
        rates = sorted(rate for rate, _ in values)
        cpu_ms = min(cpu for _, cpu in values)
        print(f"  {name:>10}: best {best[name]:6.1f} images/s, median {np.median(rates):6.1f}, "
              f"worst {rates[0]:6.1f}; {cpu_ms:.2f} CPU ms per image")
    print(f"  ratio tfrecords / in memory (best rounds) = {ratio:.3f} (target >= {TARGET_RATIO:.2f}): "
          f"{'OK' if ratio >= TARGET_RATIO else 'BELOW TARGET'}")

if __name__ == "__main__":
    main()
