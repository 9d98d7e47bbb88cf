"""Benchmark the drive server's round trip against the seed's inference path, side by side.

Targets (issue 5): round-trip p50 <= 4 ms and >= 20x lower than a seed-style server's p50;
p99 <= 10 ms. Both servers are `stages/drive.py` with the same PilotNet weights, one with
the fast path (traced tf.function) and one with `--inference seed` (the seed's float64
preprocessing + `model.predict` per frame, as automatico.py). A simulator-like client
(`SimulatorWire`: raw WebSocket, N4 strings, no 40) sends the same 320x160 JPEGs rendered
by the headless simulator, one telemetry at a time, and times telemetry-out to steer-in.
Blocks of frames alternate between the two servers so that a busy machine slows both alike.
It also times the pure `handle_telemetry` call in-process for both predictors.

    .venv/bin/python bench/drive_latency.py [--frames 300] [--block 25]
"""
from __future__ import annotations

import argparse
import base64
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench_support import DriveServerProcess, camera_frames, save_pilotnet
from pilot.control import PIController
from pilot.predictor import FastPredictor, SeedStylePredictor
from pilot.server import ClientState, handle_telemetry
from pilot.sim.wire import SimulatorWire, format_n4

P50_TARGET_MS = 4.0
P99_TARGET_MS = 10.0
RATIO_TARGET = 20.0
WARMUP_FRAMES = 20


def round_trips_ms(wire: SimulatorWire, frames: list[bytes]) -> list[float]:
    """Lock-step, one telemetry in flight: the time from sending it to reading its steer."""
    times_ms = []
    for index, jpeg in enumerate(frames):
        started = time.perf_counter()
        wire.send_telemetry(-1.25, 0.3, 12.0 + index % 5, jpeg)
        name, _ = wire.receive_event()
        times_ms.append((time.perf_counter() - started) * 1000.0)
        if name != "steer":
            raise RuntimeError(f"expected steer, got {name}")
    return times_ms


def handler_ms(predictor, frames: list[bytes], repeats: int) -> list[float]:
    """The pure telemetry -> command function, no sockets."""
    client = ClientState(PIController(15.0))
    payloads = [{"steering_angle": "-1.2500", "throttle": "0.3000", "speed": format_n4(12.0),
                 "image": base64.b64encode(jpeg).decode()} for jpeg in frames[:repeats]]
    for payload in payloads[:WARMUP_FRAMES]:
        handle_telemetry(payload, client, predictor, time.perf_counter())
    times_ms = []
    for payload in payloads:
        started = time.perf_counter()
        handle_telemetry(payload, client, predictor, started)
        times_ms.append((time.perf_counter() - started) * 1000.0)
    return times_ms


def p50_p99(times_ms: list[float]) -> tuple[float, float]:
    p50, p99 = np.percentile(times_ms, [50, 99])
    return float(p50), float(p99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="telemetry frames per server")
    parser.add_argument("--block", type=int, default=25, help="frames per alternation block")
    args = parser.parse_args()
    frames = camera_frames(args.frames)
    print(f"{len(frames)} camera frames 320x160 from the headless simulator, "
          f"{np.mean([len(f) for f in frames]) / 1024:.1f} KiB JPEG on average")
    with tempfile.TemporaryDirectory() as scratch:
        model, model_path = save_pilotnet(Path(scratch))
        servers = {name: DriveServerProcess(model_path, extra_args=("--inference", inference))
                   for name, inference in (("this server", "fast"), ("seed-style", "seed"))}
        try:
            with ThreadPoolExecutor(2) as pool:      # start-up is mostly TensorFlow's import
                list(pool.map(DriveServerProcess.start, servers.values()))
            wires = {name: SimulatorWire(server.host, server.port, timeout_s=30.0)
                     for name, server in servers.items()}
            for wire in wires.values():
                wire.connect()
                round_trips_ms(wire, frames[:WARMUP_FRAMES])
            times: dict[str, list[float]] = {name: [] for name in servers}
            for start in range(0, len(frames), args.block):
                for name, wire in wires.items():
                    times[name] += round_trips_ms(wire, frames[start:start + args.block])
            for wire in wires.values():
                wire.close()
        finally:
            for server in servers.values():
                server.stop()

    print(f"\nround trip, simulator-like client, {args.frames} frames each, lock-step, "
          f"alternating blocks of {args.block}:")
    fast_p50, fast_p99 = p50_p99(times["this server"])
    seed_p50, seed_p99 = p50_p99(times["seed-style"])
    print(f"  {'this server':14s} p50 {fast_p50:7.2f} ms   p99 {fast_p99:7.2f} ms")
    print(f"  {'seed-style':14s} p50 {seed_p50:7.2f} ms   p99 {seed_p99:7.2f} ms")
    ratio = seed_p50 / fast_p50
    print(f"  p50 ratio: {ratio:.1f}x lower (target >= {RATIO_TARGET:.0f}x)")
    print(f"  targets: p50 <= {P50_TARGET_MS:g} ms {'met' if fast_p50 <= P50_TARGET_MS else 'MISSED'}, "
          f"p99 <= {P99_TARGET_MS:g} ms {'met' if fast_p99 <= P99_TARGET_MS else 'MISSED'}, "
          f"ratio {'met' if ratio >= RATIO_TARGET else 'MISSED'}")

    repeats = min(len(frames), 200)
    fast = p50_p99(handler_ms(FastPredictor(model), frames, repeats))
    seed = p50_p99(handler_ms(SeedStylePredictor(model), frames, repeats))
    print(f"\nhandle_telemetry in-process (decode, preprocess, predict, control), {repeats} frames:")
    print(f"  {'fast predictor':14s} p50 {fast[0]:7.2f} ms   p99 {fast[1]:7.2f} ms")
    print(f"  {'seed-style':14s} p50 {seed[0]:7.2f} ms   p99 {seed[1]:7.2f} ms   "
          f"({seed[0] / fast[0]:.1f}x the fast p50)")


if __name__ == "__main__":
    main()
