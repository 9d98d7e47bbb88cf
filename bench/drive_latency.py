"""Benchmark the drive server's round trip against the seed's inference path, side by side.

Targets (issue 5): round-trip p50 <= 4 ms and >= 20x lower than a seed-style server's p50;
p99 <= 10 ms. (Issue 13): LiteRT per-frame inference <= 0.5x the Keras fast predictor's.
The servers are `stages/drive.py` with the same PilotNet weights: the fast path (traced
tf.function), `--runtime litert` (the train stage's float32 .tflite on one LiteRT thread)
and `--inference seed` (the seed's float64 preprocessing + `model.predict` per frame, as
automatico.py). A simulator-like client (`SimulatorWire`: raw WebSocket, N4 strings, no
40) sends the same 320x160 JPEGs rendered by the headless simulator, one telemetry at a
time, and times telemetry-out to steer-in. Blocks of frames alternate between the servers
so that a busy machine slows all alike. It also times, in-process, the pure
`handle_telemetry` call and the model call alone (one preprocessed frame -> steering).

    .venv/bin/python bench/drive_latency.py [--frames 300] [--block 25]
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from pilot.control import PIController  # noqa: E402
from pilot.imaging import decode_jpeg_rgb, preprocess  # noqa: E402
from pilot.litert import LiteRTPredictor, convert_to_litert, save_litert  # noqa: E402
from pilot.model import build_pilotnet  # noqa: E402
from pilot.predictor import FastPredictor, SeedStylePredictor, limit_inference_threads  # noqa: E402
from pilot.server import ClientState, handle_telemetry  # noqa: E402
from pilot.sim.camera import Renderer, encode_jpeg  # noqa: E402
from pilot.sim.episode import start_state  # noqa: E402
from pilot.sim.track import generate_track  # noqa: E402
from pilot.sim.wire import SimulatorWire, format_n4  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
P50_TARGET_MS = 4.0
P99_TARGET_MS = 10.0
RATIO_TARGET = 20.0
LITERT_INFERENCE_TARGET = 0.5      # LiteRT per-frame inference / Keras fast predictor's, at most
WARMUP_FRAMES = 20
LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")


def camera_frames(count: int) -> list[bytes]:
    """JPEGs from the headless simulator's camera, spread around one track."""
    track = generate_track(7)
    renderer = Renderer(track)
    return [encode_jpeg(renderer.render(start_state(track, s_m=track.length_m * i / count)))
            for i in range(count)]


def start_server(model_path: Path, *flags: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, "stages/drive.py", str(model_path), "--port", "0", *flags],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        match = LISTENING.search(line)
        if match:
            return process, int(match.group(2))
    raise RuntimeError(f"drive.py {' '.join(flags)} exited before listening")


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


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
    import base64
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


def inference_ms(predictors: dict[str, object], frames: list[bytes], block: int) -> dict[str, list[float]]:
    """The model call alone (one preprocessed frame -> steering), blocks alternating between predictors."""
    images = [preprocess(decode_jpeg_rgb(jpeg)) for jpeg in frames]
    times_ms: dict[str, list[float]] = {name: [] for name in predictors}
    for predictor in predictors.values():
        for image in images[:WARMUP_FRAMES]:
            predictor.predict_preprocessed(image)
    for start in range(0, len(images), block):
        for name, predictor in predictors.items():
            for image in images[start:start + block]:
                started = time.perf_counter()
                predictor.predict_preprocessed(image)
                times_ms[name].append((time.perf_counter() - started) * 1000.0)
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
    limit_inference_threads(1)               # in-process calls as drive.py runs them: one thread each
    with tempfile.TemporaryDirectory() as scratch:
        keras.utils.set_random_seed(0)
        model = build_pilotnet()
        model_path = Path(scratch) / "model.keras"
        model.save(model_path)
        litert_path = save_litert(model, Path(scratch) / "model.tflite")
        servers = {"this server": start_server(model_path),
                   "litert": start_server(litert_path, "--runtime", "litert"),
                   "seed-style": start_server(model_path, "--inference", "seed")}
        try:
            wires = {name: SimulatorWire("127.0.0.1", port, timeout_s=30.0)
                     for name, (_, port) in servers.items()}
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
            for process, _ in servers.values():
                stop_server(process)
        litert = LiteRTPredictor(litert_path.read_bytes())
        litert_dynamic = LiteRTPredictor(convert_to_litert(model, "dynamic"))

    print(f"\nround trip, simulator-like client, {args.frames} frames each, lock-step, "
          f"alternating blocks of {args.block}:")
    p50s = {}
    for name, values in times.items():
        p50s[name], p99 = p50_p99(values)
        print(f"  {name:14s} p50 {p50s[name]:7.2f} ms   p99 {p99:7.2f} ms")
    fast_p50, fast_p99 = p50_p99(times["this server"])
    ratio = p50s["seed-style"] / fast_p50
    print(f"  p50 ratio: {ratio:.1f}x lower (target >= {RATIO_TARGET:.0f}x); "
          f"litert / this server p50 = {p50s['litert'] / fast_p50:.2f}")
    print(f"  targets: p50 <= {P50_TARGET_MS:g} ms {'met' if fast_p50 <= P50_TARGET_MS else 'MISSED'}, "
          f"p99 <= {P99_TARGET_MS:g} ms {'met' if fast_p99 <= P99_TARGET_MS else 'MISSED'}, "
          f"ratio {'met' if ratio >= RATIO_TARGET else 'MISSED'}")

    fast_predictor = FastPredictor(model)
    predictors = {"keras fast": fast_predictor, "litert": litert, "litert dynamic": litert_dynamic}
    model_call = {name: p50_p99(values) for name, values in inference_ms(predictors, frames, args.block).items()}
    images = [preprocess(decode_jpeg_rgb(jpeg)) for jpeg in frames]
    keras_steering = np.array([fast_predictor.predict_preprocessed(image) for image in images])
    print(f"\nmodel call in-process (one preprocessed frame -> steering), {len(frames)} frames, one thread "
          f"(litert: float32, the default; litert dynamic: train.litert_quantization dynamic):")
    for name, (p50, p99) in model_call.items():
        steering = np.array([predictors[name].predict_preprocessed(image) for image in images])
        print(f"  {name:14s} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   ({p50 / model_call['keras fast'][0]:.2f}x keras; "
              f"steering off by at most {np.max(np.abs(steering - keras_steering)):.1e})")
    litert_ratio = model_call["litert"][0] / model_call["keras fast"][0]
    print(f"  litert / keras fast p50 = {litert_ratio:.2f} (target <= {LITERT_INFERENCE_TARGET}): "
          f"{'met' if litert_ratio <= LITERT_INFERENCE_TARGET else 'MISSED'}")

    repeats = min(len(frames), 200)
    handlers = {"fast predictor": fast_predictor, "litert": litert, "seed-style": SeedStylePredictor(model)}
    handled = {name: p50_p99(handler_ms(predictor, frames, repeats)) for name, predictor in handlers.items()}
    print(f"\nhandle_telemetry in-process (decode, preprocess, predict, control), {repeats} frames:")
    for name, (p50, p99) in handled.items():
        print(f"  {name:14s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
              f"({p50 / handled['fast predictor'][0]:.2f}x the fast p50)")


if __name__ == "__main__":
    main()
