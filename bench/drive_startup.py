"""Drive-server start-up: process start to "listening", default flags against the Keras runtime.

`--runtime auto` (the default since issue 20) loads the Keras model, then its LiteRT twin,
and checks on probe frames that both steer alike before it listens; `--runtime keras` (the
default before) only loads Keras. Both serve the same PilotNet .keras with the train stage's
.tflite beside it, started alternately so that a busy machine slows both alike. A first
`auto` start on a model with no twin shows the one-off conversion (then cached).

    .venv/bin/python bench/drive_startup.py [--rounds 5]

Target (issue 20): the default flags within 1.2x of the Keras runtime's start-up, once cached.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench_support import DriveServerProcess, save_pilotnet
from pilot.learn.litert import save_litert
from pilot.learn.model_file import load_model_file

TARGET_RATIO = 1.2


def seconds_to_listening(model: Path, extra_args: tuple[str, ...]) -> float:
    server = DriveServerProcess(model, extra_args=extra_args)
    started = time.perf_counter()
    server.start()
    elapsed = time.perf_counter() - started
    server.stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["PILOT_CACHE_DIR"] = str(Path(scratch) / "cache")
        _, model = save_pilotnet(Path(scratch))
        lone = Path(scratch) / "lone" / "model.keras"          # no twin: the first auto start converts
        lone.parent.mkdir()
        lone.write_bytes(model.read_bytes())
        first = seconds_to_listening(lone, ())
        cached = seconds_to_listening(lone, ())
        save_litert(load_model_file(model).model, model.with_suffix(".tflite"))
        times: dict[str, list[float]] = {"--runtime keras": [], "default flags (auto)": []}
        for _ in range(args.rounds):
            times["--runtime keras"].append(seconds_to_listening(model, ("--runtime", "keras")))
            times["default flags (auto)"].append(seconds_to_listening(model, ()))
    medians = {name: sorted(values)[len(values) // 2] for name, values in times.items()}
    print(f"start to listening, {args.rounds} alternating rounds (median, every round):")
    for name, values in times.items():
        print(f"  {name:22s} {medians[name]:5.2f} s   {' '.join(f'{v:.2f}' for v in values)}")
    ratio = medians["default flags (auto)"] / medians["--runtime keras"]
    print(f"  ratio default / keras: {ratio:.2f} (target <= {TARGET_RATIO}) "
          f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}")
    print(f"  a model with no .tflite twin: first start {first:.2f} s (converts and caches), next {cached:.2f} s")


if __name__ == "__main__":
    main()
