"""Record formats side by side: bytes per example and PilotNet training images/s fed from each.

Target (issue 13): the new records (png) train at >= 90 % of today's (raw) images/s,
measured side by side in one run: rounds rotate their order; printed as the ratio of the
best rounds and as the median of the per-round ratios (a round runs every format back
to back, so load that drifts between rounds cancels); the ratio of CPU time per image is
a load-independent check (training is CPU-bound: a decode's CPU slows it as much). "in memory" (the same batches held as
arrays) shows what the input pipeline costs at all. Candidates for --formats:
raw (today: uint8 bytes), gzip / zlib (raw bytes in compressed TFRecords), png (the
pipeline's: Paeth filter, run-length deflate) and png-zlib0..png-zlib9 (cv2's default
PNG: adaptive filter, that zlib level). Data: the headless
simulator's camera frames (what the default data looks like), augmented and
preprocessed by the project's own augment code; every format stores the same examples.

    .venv/bin/python bench/train_input.py [--examples 2000] [--formats raw,png] [--rounds 4]
        [--precision float32|mixed_bfloat16]
    .venv/bin/python bench/train_input.py --formats raw,gzip,zlib,png,png-zlib1,png-zlib3,png-zlib6
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pilot.data.codec import PNG_FLAGS, RAW_EXAMPLE_BYTES, encode_image  # noqa: E402
from pilot.data.examples import ExampleSpec, iter_examples, plan_tasks  # noqa: E402
from pilot.data.records import ShardWriter, make_dataset, serialize_encoded, shard_files  # noqa: E402
from pilot.learn.model import PRECISIONS, build_pilotnet  # noqa: E402
from pilot.processes import resolve_workers  # noqa: E402
from pilot.testing.synthetic import write_simulator_split_csv  # noqa: E402

TARGET_RATIO = 0.90
TODAY, NEW = "raw", "png"
COPIES_PER_FRAME = 10
SHARD_SIZE = 500


@dataclass(frozen=True)
class RecordFormat:
    encoding: str
    compression: str = ""
    png_flags: tuple[int, ...] = PNG_FLAGS


def record_format(name: str) -> RecordFormat:
    if name in ("raw", "png"):
        return RecordFormat(name)
    if name in ("gzip", "zlib"):
        return RecordFormat("raw", name.upper())
    level = name.removeprefix("png-zlib")
    if name.startswith("png-zlib") and level.isdigit() and 0 <= int(level) <= 9:
        return RecordFormat("png", png_flags=(cv2.IMWRITE_PNG_COMPRESSION, int(level)))
    raise SystemExit(f"train_input: unknown format '{name}': use raw, gzip, zlib, png or png-zlib0..png-zlib9")


def make_examples(root: Path, count: int) -> list[tuple[np.ndarray, float]]:
    """`count` augmented training examples from simulator frames, by the augment stage's code."""
    frames = pd.read_csv(write_simulator_split_csv(root / "recording", count // COPIES_PER_FRAME + 1))
    tasks = plan_tasks(frames, COPIES_PER_FRAME, shuffle_seed=0)[:count]
    spec = ExampleSpec("train", seed=0, augment=True, steering_correction=0.15)
    return [(example.image, example.steering) for example in iter_examples(tasks, spec, resolve_workers(0))]


def write_shards(folder: Path, examples: list[tuple[np.ndarray, float]], fmt: RecordFormat) -> tuple[list[str], float]:
    """The examples as shards of this format; (files, CPU microseconds per example to encode and write).

    augment encodes PNGs in its worker processes, in parallel; TFRecord compression
    happens in the one process that writes the shards.
    """
    started = time.process_time()
    with ShardWriter(folder, "train", len(examples), SHARD_SIZE, compression=fmt.compression) as writer:
        for image, steering in examples:
            writer.write(serialize_encoded(encode_image(image, fmt.encoding, fmt.png_flags), steering))
    return shard_files(folder, "train"), 1e6 * (time.process_time() - started) / len(examples)


def measure(fit, images: int) -> tuple[float, float]:
    """(images per wall-clock second, CPU milliseconds per image) for one call of fit."""
    wall, cpu = time.perf_counter(), time.process_time()
    fit()
    return images / (time.perf_counter() - wall), 1000 * (time.process_time() - cpu) / images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--formats", default=f"{TODAY},{NEW}", help="comma-separated, e.g. raw,gzip,zlib,png3")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="the model's (train.precision): mixed_bfloat16 steps faster, so decoding weighs more")
    args = parser.parse_args()
    names = list(dict.fromkeys(args.formats.split(",")))
    formats = {name: record_format(name) for name in names}
    steps = args.examples // args.batch_size
    model = build_pilotnet(precision=args.precision)
    runs, sizes, encode_us = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        examples = make_examples(Path(tmp), args.examples)
        for name, fmt in formats.items():
            files, encode_us[name] = write_shards(Path(tmp) / name, examples, fmt)
            sizes[name] = sum(os.path.getsize(f) for f in files) / len(examples)
            dataset = make_dataset(files, args.batch_size, training=True, shuffle_buffer=args.examples,
                                   seed=0, encoding=fmt.encoding, compression=fmt.compression)
            runs[name] = lambda data=dataset: model.fit(data, epochs=1, steps_per_epoch=steps, shuffle=False,
                                                        verbose=0)
        x_memory = np.stack([image for image, _ in examples[:steps * args.batch_size]]).astype(np.float32) / 255
        y_memory = np.array([steering for _, steering in examples[:steps * args.batch_size]], np.float32)
        runs["in memory"] = lambda: model.fit(x_memory, y_memory, batch_size=args.batch_size, epochs=1,
                                              shuffle=False, verbose=0)
        for fit in runs.values():                                          # trace and warm up each
            fit()
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for round_index in range(args.rounds):
            shift = round_index % len(runs)                                # rotate who goes first
            for name in list(runs)[shift:] + list(runs)[:shift]:
                results[name].append(measure(runs[name], steps * args.batch_size))
    best = {name: max(rate for rate, _ in values) for name, values in results.items()}
    print(f"{len(examples)} augmented examples from simulator frames; PilotNet training, batch {args.batch_size}, "
          f"{steps} steps per round, {args.rounds} rounds, {os.cpu_count()} cores "
          f"(other processes' load shows as spread between rounds)")
    for name, values in results.items():
        rates = sorted(rate for rate, _ in values)
        cpu_ms = min(cpu for _, cpu in values)
        smaller = RAW_EXAMPLE_BYTES / sizes[name] if name in sizes else 0.0
        stored = (f"{sizes[name]:8.0f} B/example ({smaller:4.2f}x smaller than raw pixels), "
                  f"write {encode_us[name]:5.0f} us") if name in sizes else " " * 62
        print(f"  {name:>9}: {stored}; best {best[name]:6.1f} images/s, median {np.median(rates):6.1f}, "
              f"worst {rates[0]:6.1f}; {cpu_ms:.2f} CPU ms per image")
    for name in names:
        print(f"  ratio {name} / in memory (best rounds) = {best[name] / best['in memory']:.3f}")
    if TODAY in best:
        for name in names:
            if name == TODAY:
                continue
            ratio = best[name] / best[TODAY]
            paired = np.median([new[0] / old[0] for new, old in zip(results[name], results[TODAY])])
            cpu = min(c for _, c in results[TODAY]) / min(c for _, c in results[name])
            print(f"  ratio {name} / {TODAY} (today's records): best rounds {ratio:.3f}, median of rounds "
                  f"{paired:.3f}, inverse CPU ms {cpu:.3f} (target >= {TARGET_RATIO:.2f}): "
                  f"{'OK' if paired >= TARGET_RATIO else 'BELOW TARGET'} (judged on the median of rounds)")


if __name__ == "__main__":
    main()
