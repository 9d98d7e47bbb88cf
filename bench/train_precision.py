"""Training step time of PilotNet in float32 and in mixed_bfloat16 (train.precision), side by side.

What `train.precision: auto` rests on: on a CPU that multiplies bfloat16 natively (AVX512-BF16
or AMX) Keras' mixed precision trains the seed's PilotNet faster than float32; elsewhere
bfloat16 is emulated and `auto` keeps float32. Each round runs every precision back to back,
each in its own process (as the train stage runs: op determinism on, the seed's batch of 100,
Adam, MSE, synthetic 66x200x3 batches held in memory, so the input pipeline costs nothing);
rounds rotate their order, so load that drifts between rounds cancels. Prints ms per step for
each round, the median of the per-round ratios and what `auto` chooses on this machine:

    .venv/bin/python bench/train_precision.py [--rounds 3] [--steps 40]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PRECISIONS = ("float32", "mixed_bfloat16")
ROOT = Path(__file__).resolve().parents[1]

ONE_RUN = """
import json, sys, time
import numpy as np, tensorflow as tf, keras
from pilot.learn.model import build_pilotnet
precision, steps = sys.argv[1], int(sys.argv[2])
tf.config.experimental.enable_op_determinism()
keras.utils.set_random_seed(1)
rng = np.random.default_rng(1)
x = rng.random((100, 66, 200, 3), dtype=np.float32)
y = rng.uniform(-1, 1, (100, 1)).astype(np.float32)
data = tf.data.Dataset.from_tensors((x, y)).repeat()
model = build_pilotnet(1e-3, precision)
model.fit(data, steps_per_epoch=10, epochs=1, verbose=0)          # tracing and warm-up
started = time.perf_counter()
model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
print(json.dumps({"ms_per_step": (time.perf_counter() - started) / steps * 1000}))
"""


def step_ms(precision: str, steps: int) -> float:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", ONE_RUN, precision, str(steps)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["ms_per_step"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per run (after 10 warm-up steps)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from pilot.learn.training import NATIVE_BF16_CPU_FLAGS, choose_precision, cpu_flags

    flags = cpu_flags()
    print(f"CPU: {os.cpu_count()} cores, native bfloat16: "
          f"{sorted(flags & set(NATIVE_BF16_CPU_FLAGS)) or 'none'}; "
          f"train.precision auto -> {choose_precision('auto', [], flags)}")
    ratios = []
    for round_index in range(args.rounds):
        order = PRECISIONS if round_index % 2 == 0 else PRECISIONS[::-1]
        times = {precision: step_ms(precision, args.steps) for precision in order}
        ratios.append(times["float32"] / times["mixed_bfloat16"])
        print(f"round {round_index + 1}: float32 {times['float32']:.1f} ms/step, "
              f"mixed_bfloat16 {times['mixed_bfloat16']:.1f} ms/step: {ratios[-1]:.2f}x")
    print(f"mixed_bfloat16 trains {statistics.median(ratios):.2f}x as fast as float32 "
          f"(median of {args.rounds} rounds' ratios)")


if __name__ == "__main__":
    main()
