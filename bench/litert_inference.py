"""LiteRT vs the Keras predictor: per-frame inference time and steering error, side by side in one run.

Both runtimes get the same preprocessed uint8 frames (100 real JPEGs from the headless
simulator's camera) and the same thread count (TensorFlow's intra- and inter-op threads;
the interpreter's num_threads). Times are the median per call over interleaved rounds; the
ratio is the median of the per-round ratios to the Keras predictor (FastPredictor, the drive
server's fast path). Configurations:

- keras: FastPredictor.predict_input, and its traced call alone;
- litert float32 through LiteRTPredictor (XNNPACK, zero-copy input), the same model with
  set_tensor/get_tensor, its invoke() alone, and without XNNPACK (the builtin kernels), all on
  LiteRT's own runtime (ai_edge_litert); the same call on TensorFlow's deprecated tf.lite;
- litert fp16 weights and dynamic-range int8 (XNNPACK): faster or not, and how far off.

Target: float32 LiteRT <= 0.5x the Keras predictor, steering within 1e-4, judged at each thread
count with both runtimes on it. Each run also times LiteRT on the drive server's own count
(params.yaml's drive.litert_threads) beside Keras on the run's count: at 1 thread that is the
drive server's pairing (Keras on drive.inference_threads).

    .venv/bin/python bench/litert_inference.py [--threads 1,2] [--model models/model.keras] [--rounds 5]
                                               [--real-images ../shared/real-sample/IMG]

--threads N,M runs each listed count in its own process (TensorFlow fixes its threads at start-up).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TARGET_RATIO = 0.5
STEERING_TOLERANCE = 1e-4
CALLS_PER_ROUND = 200
MAIN = "litert f32 LiteRTPredictor (XNNPACK, zero-copy)"     # judged against the target


def fitted_pilotnet():
    """PilotNet fitted a few steps on road frames (steers across the range), when no --model is given."""
    from tests.learn.fitted_model import fitted_pilotnet as fitted  # TensorFlow after the thread settings

    return fitted(frames=64, epochs=3)


def convert_fp16(model) -> bytes:
    """The float32 conversion with weights stored as float16 (dequantised at load)."""
    import keras
    import tensorflow as tf

    from pilot.imaging import MODEL_INPUT_SHAPE

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", lambda image: model(tf.cast(image, tf.float32) / 255.0, training=False),
                         input_signature=[tf.TensorSpec((1, *MODEL_INPUT_SHAPE), tf.uint8)])
    with tempfile.TemporaryDirectory() as scratch:
        archive.write_out(scratch, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(scratch)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
        return converter.convert()


def interpreter_call(content: bytes, threads: int, xnnpack: bool, invoke_only: bool = False,
                     tensorflow_runtime: bool = False):
    """A plain set_tensor / invoke / get_tensor call (or invoke() alone) on a fresh interpreter:
    LiteRT's own (ai_edge_litert, what the drive server uses) or TensorFlow's deprecated tf.lite."""
    import numpy as np

    if tensorflow_runtime:
        import tensorflow as tf
        runtime, resolver = tf.lite.Interpreter, tf.lite.experimental.OpResolverType
    else:
        from ai_edge_litert.interpreter import Interpreter as runtime
        from ai_edge_litert.interpreter import OpResolverType as resolver
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = runtime(
            model_content=content, num_threads=threads,
            experimental_op_resolver_type=resolver.AUTO if xnnpack else resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    source, sink = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]

    def call(frame: np.ndarray) -> float:
        if not invoke_only:
            interpreter.set_tensor(source, frame[np.newaxis])
        interpreter.invoke()
        return float(interpreter.get_tensor(sink).reshape(-1)[0])

    return call


def real_frames(folder: Path) -> list:
    """Every JPEG in a recording's IMG folder, preprocessed, and its mirror image (a real frame too)."""
    import numpy as np

    from pilot.imaging import preprocess
    from pilot.udacity.images import decode_jpeg_rgb

    paths = sorted(folder.glob("*.jpg"))
    if not paths:
        raise SystemExit(f"litert_inference: no .jpg files in {folder}")
    rgbs = [decode_jpeg_rgb(path.read_bytes()) for path in paths]
    return [preprocess(np.ascontiguousarray(image)) for rgb in rgbs for image in (rgb, rgb[:, ::-1])]


def measure(threads: int, model_path: Path | None, rounds: int, real_images: Path | None) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import numpy as np

    from bench.bench_support import camera_frames
    from pilot.imaging import preprocess
    from pilot.learn.litert import LiteRTPredictor, convert_to_litert
    from pilot.learn.model_file import load_model_file
    from pilot.learn.predictors import FastPredictor
    from pilot.stage_io import load_params
    from pilot.udacity.images import decode_jpeg_rgb

    server_threads = int(load_params("drive", REPO / "params.yaml")["litert_threads"])
    model = load_model_file(model_path).model if model_path else fitted_pilotnet()
    frames = [preprocess(decode_jpeg_rgb(jpeg)) for jpeg in camera_frames(100)]
    keras_predictor = FastPredictor(model)
    float32, fp16, int8 = convert_to_litert(model), convert_fp16(model), convert_to_litert(model, "dynamic")
    calls = {
        "keras FastPredictor": keras_predictor.predict_input,
        "keras traced call alone": lambda f: keras_predictor._steer(tf.convert_to_tensor(f[np.newaxis])),
        MAIN: LiteRTPredictor(float32, threads).predict_input,
        "litert f32 set_tensor/get_tensor (XNNPACK)": interpreter_call(float32, threads, xnnpack=True),
        "litert f32 invoke() alone (XNNPACK)": interpreter_call(float32, threads, xnnpack=True, invoke_only=True),
        "litert f32 builtin kernels (no XNNPACK)": interpreter_call(float32, threads, xnnpack=False),
        "tf.lite f32 set_tensor/get_tensor (XNNPACK)": interpreter_call(float32, threads, xnnpack=True,
                                                                       tensorflow_runtime=True),
        "litert fp16 weights (XNNPACK)": LiteRTPredictor(fp16, threads).predict_input,
        "litert int8 dynamic (XNNPACK)": LiteRTPredictor(int8, threads).predict_input,
    }
    if server_threads != threads:
        calls[f"litert f32 LiteRTPredictor on {server_threads} threads (drive server)"] = \
            LiteRTPredictor(float32, server_threads).predict_input
    expected = np.array([keras_predictor.predict_input(f) for f in frames])
    errors = {}
    for name, call in calls.items():
        if name.startswith("litert") and "invoke() alone" not in name:
            errors[name] = float(np.max(np.abs(np.array([call(f) for f in frames]) - expected)))
    medians: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):                  # interleaved: a busy moment hits every configuration
        for name, call in calls.items():
            for frame in frames[:10]:
                call(frame)
            times = []
            for i in range(CALLS_PER_ROUND):
                frame = frames[i % len(frames)]
                started = time.perf_counter()
                call(frame)
                times.append(time.perf_counter() - started)
            medians[name].append(float(np.median(times)) * 1e3)
    if real_images is not None:
        real = real_frames(real_images)
        keras_real = np.array([keras_predictor.predict_input(f) for f in real])
        print(f"max |steering - keras| on {len(real)} frames from the Unity simulator ({real_images}, "
              f"each also mirrored):")
        for name in ("litert f32 set_tensor/get_tensor (XNNPACK)", "litert fp16 weights (XNNPACK)",
                     "litert int8 dynamic (XNNPACK)"):
            error = np.max(np.abs(np.array([calls[name](f) for f in real]) - keras_real))
            print(f"  {name:52s} {error:.1e}")
    reference = np.array(medians["keras FastPredictor"])
    print(f"threads={threads}: median ms per frame over {rounds} rounds of {CALLS_PER_ROUND} calls; "
          f"ratio = median per-round ratio to keras FastPredictor; max |steering - keras| on 100 camera frames")
    for name, values in medians.items():
        ratio = float(np.median(np.array(values) / reference))
        error = f"{errors[name]:.1e}" if name in errors else "-"
        verdict = ""
        if name == MAIN:
            verdict = ("OK" if ratio <= TARGET_RATIO and errors[name] <= STEERING_TOLERANCE
                       else f"target <= {TARGET_RATIO}x within {STEERING_TOLERANCE:g}: NOT MET")
        print(f"  {name:52s} {np.median(values):7.3f} ms  {ratio:5.2f}x  err {error:>7s}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts, each in its own process")
    parser.add_argument("--model", type=Path, help="a .keras model (default: a PilotNet fitted here for a moment)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--real-images", type=Path, metavar="DIR",
                        help="also check steering on a real recording's IMG folder (e.g. ../shared/real-sample/IMG)")
    parser.add_argument("--one-process", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_process is not None:
        return measure(args.one_process, args.model, args.rounds, args.real_images)
    for threads in (int(value) for value in args.threads.split(",")):
        command = [sys.executable, __file__, "--one-process", str(threads), "--rounds", str(args.rounds)]
        if args.model:
            command += ["--model", str(args.model)]
        if args.real_images:
            command += ["--real-images", str(args.real_images)]
        if subprocess.run(command).returncode != 0:
            sys.exit(f"litert_inference: the run with {threads} thread(s) failed")


if __name__ == "__main__":
    main()
