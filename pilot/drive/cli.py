"""drive: serve a steering model to the Udacity simulator (press Autonomous to connect).

`python stages/drive.py` and `python -m pilot.drive` (how road_test and the benchmarks start it,
pilot.drive.process) both run `main` here:

    python stages/drive.py [MODEL] [--runtime auto|keras|litert] [--host H] [--port P] [--set-speed MPH]
                           [--controller pi|seed] [--record DIR] [--saliency] [--threads N]
                           [--[no-]flip-average] [--trust-model-code]
    python stages/drive.py video RECORDING_DIR [--out FILE.mp4]

Defaults come from params.yaml's drive section; MODEL is a .keras file or a Keras 2 model.h5
(this pipeline's, the seed notebook's, or any other built from Keras's own layers), built as
its file describes; a layer that needs code (a Lambda, a custom class) is refused unless
--trust-model-code. A model takes the seed's preprocessed 66x200x3 image or the 160x320x3
camera frame. --runtime auto (the default) serves LiteRT when its conversion (cached) steers
as Keras does, else Keras; with --runtime litert MODEL may be a .tflite itself.
Prints where it listens, then one line per second while a client drives; a browser at
http://HOST:PORT/ shows the live page. SIGINT (Ctrl+C) or SIGTERM stops it within a
fraction of a second.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from pilot.control import make_controller
from pilot.drive.app import create_app
from pilot.drive.live import LiveView
from pilot.drive.record import DriveRecorder, DriveRecordError
from pilot.drive.telemetry import DriveStats
from pilot.learn.litert import LITERT_SUFFIX  # none of these imports TensorFlow: that waits for the model
from pilot.learn.model_file import TRUST_FLAG, ModelFileError, check_model_file
from pilot.learn.runtime import RUNTIMES, flip_average_setting
from pilot.stage_io import MODEL_FILE_EXIT_CODE, exit_with, load_params

PROJECT_ROOT = Path(__file__).resolve().parents[2]      # params.yaml and the default model are the project's
SALIENCY_INTERVAL_S = 1.0        # --saliency: at most one VisualBackProp a second


def video_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="drive.py video", description="recording -> mp4")
    parser.add_argument("recording", help="a folder written by --record")
    parser.add_argument("--out", help="mp4 path (default: RECORDING/drive.mp4)")
    parser.add_argument("--fps", type=float, help="frames per second (default: as recorded)")
    args = parser.parse_args(argv)
    from pilot.drive.video import recording_to_video  # ffmpeg only for this command
    out = Path(args.out or Path(args.recording) / "drive.mp4")
    try:
        count = recording_to_video(args.recording, out, args.fps)
    except (DriveRecordError, ValueError) as error:
        sys.exit(f"drive video: {error}")
    print(f"drive video: {count} frames -> {out}")


def start_saliency_thread(live: LiveView, model, divisor: float) -> None:
    """Explain the latest frame about once a second in a daemon OS thread (TensorFlow releases
    the GIL, so the driving loop in the main thread goes on)."""
    import numpy as np

    from pilot.learn.saliency import visual_backprop

    def explain(model_input):
        return visual_backprop(model, (model_input.astype(np.float32) / np.float32(divisor))[None])[0]

    def loop() -> None:
        while True:
            started_s = time.perf_counter()
            try:
                live.update_saliency(explain)
            except (ValueError, RuntimeError) as error:     # a model VisualBackProp cannot explain
                print(f"drive: saliency stopped, driving goes on: {error}", flush=True)
                return
            time.sleep(max(0.0, SALIENCY_INTERVAL_S - (time.perf_counter() - started_s)))

    threading.Thread(target=loop, name="saliency", daemon=True).start()


def parse_args(argv: list[str], params: dict) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help="a .keras or Keras 2 model.h5; with --runtime litert also "
                        f"a .tflite (default: {params['model']})")
    parser.add_argument("--runtime", choices=RUNTIMES, default=params["runtime"],
                        help="auto: LiteRT when it steers as Keras does (converted once, cached), else Keras; "
                             "keras or litert force one")
    parser.add_argument("--host", default=params["host"], help="address to bind (default: local only)")
    parser.add_argument("--port", type=int, default=params["port"], help="0 picks a free port")
    parser.add_argument("--set-speed", type=float, metavar="MPH",
                        help="pi: set speed; seed: speed limit (default: params.yaml)")
    parser.add_argument("--controller", choices=("pi", "seed"), default=params["controller"])
    parser.add_argument("--record", metavar="DIR", help="save every frame + drive_log.csv to a new folder")
    parser.add_argument("--frame-dt", type=float, metavar="S",
                        help="controller time per frame for a simulator that steps a fixed time per reply "
                             "(the headless one); default: the wall clock, as the real simulator needs")
    parser.add_argument("--saliency", action="store_true",
                        help="live page: VisualBackProp overlay of the latest frame, once a second, "
                             "computed in a background thread")
    parser.add_argument("--flip-average", action=argparse.BooleanOptionalAction, default=params["flip_average"],
                        help="steer with the mean of the frame's steering and its mirror image's, sign turned back: "
                             "a model's steady lean to one side cancels (two model calls a frame; default: "
                             "params.yaml)")
    parser.add_argument("--inference", choices=("fast", "seed"), default="fast",
                        help="seed: the seed's per-frame model.predict, for benchmarks only")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="inference threads per frame, for either runtime (default: params.yaml's "
                             "inference_threads for Keras, litert_threads for LiteRT)")
    parser.add_argument(TRUST_FLAG, dest="trust_model_code", action="store_true",
                        help="let code stored in the model file (a Lambda, a custom layer) run: only for "
                             "a file you made or trust")
    args = parser.parse_args(argv)
    try:
        flip_average_setting(args.flip_average, "drive")
    except ValueError as error:
        parser.error(str(error))
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be a whole number of threads, 1 or more, got {args.threads}")
    if args.inference == "seed" and args.runtime == "litert":
        parser.error("--inference seed is the seed's Keras path: drop it for --runtime litert")
    if args.inference == "seed":
        args.runtime = "keras"
    return args


def inference_threads(args: argparse.Namespace, params: dict) -> tuple[int, int]:
    """(Keras threads, LiteRT threads): --threads for both, else params.yaml's; ValueError with one sentence."""
    counts = []
    for key in ("inference_threads", "litert_threads"):
        threads = params[key] if args.threads is None else args.threads
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"params.yaml's drive.{key} must be a whole number of threads, 1 or more, "
                             f"got {threads!r}.")
        counts.append(threads)
    return counts[0], counts[1]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["video"]:
        return video_main(argv[1:])
    params = load_params("drive", PROJECT_ROOT / "params.yaml")
    args = parse_args(argv, params)
    if args.frame_dt is not None and not args.frame_dt > 0:
        sys.exit(f"drive: --frame-dt must be a positive number of seconds, got {args.frame_dt}.")
    speed_key = "set_speed_mph" if args.controller == "pi" else "speed_limit_mph"
    if args.set_speed is not None:
        params[speed_key] = args.set_speed
    model_path = Path(args.model or params["model"])
    if not model_path.exists() and args.model is None:
        model_path = PROJECT_ROOT / model_path      # the default is relative to the project
    if not (args.runtime == "litert" and model_path.suffix.lower() == LITERT_SUFFIX):
        try:
            check_model_file(model_path, args.trust_model_code)   # the loader's sentences before the port opens
        except ModelFileError as error:
            exit_with("drive", str(error), MODEL_FILE_EXIT_CODE)
    from pilot.drive.serve import configure_logging, open_listener, serve  # eventlet: start-up code only
    configure_logging("drive: ")     # one line per event, TensorFlow's and eventlet's included
    try:
        make_controller(args.controller, params)
        recorder = DriveRecorder(args.record) if args.record else None
        listener = open_listener(args.host, args.port)
    except (DriveRecordError, ValueError, TypeError) as error:
        sys.exit(f"drive: {error}")
    except OSError as error:
        sys.exit(f"drive: cannot listen on {args.host}:{args.port} ({error.strerror or error}): "
                 f"stop the other server or pass another --port.")

    started_s = time.perf_counter()
    try:
        keras_threads, litert_threads = inference_threads(args, params)
    except ValueError as error:
        sys.exit(f"drive: {error}")
    from pilot.learn.runtime import load_stage_model  # TensorFlow
    served = load_stage_model("drive", model_path, args.trust_model_code, args.runtime, keras_threads,
                              litert_threads, inference=args.inference, flip_average=args.flip_average)
    if args.saliency and served.keras_model is None:
        print("drive: --saliency needs the Keras model: a .tflite served as it is has none; driving goes on "
              "without it.", flush=True)
    print(f"drive: model {model_path} loaded in {time.perf_counter() - started_s:.1f} s; {served.line()}; "
          f"controller {args.controller} at {params[speed_key]:g} mph"
          + (f"; recording to {args.record}" if recorder else ""), flush=True)

    predictor = served.predictor
    stats = DriveStats()
    controller_name = f"{args.controller} at {params[speed_key]:g} mph"
    live = LiveView(stats, model_path.name, controller_name, model_input=predictor.contract)
    if args.saliency and served.keras_model is not None:
        start_saliency_thread(live, served.keras_model, predictor.contract.divisor)
    sio, app = create_app(predictor, lambda: make_controller(args.controller, params),
                          params["max_payload_bytes"], recorder=recorder, stats=stats,
                          model_name=model_path.name, frame_dt_s=args.frame_dt,
                          controller_name=controller_name, live=live)

    def on_listening(host: str, port: int) -> None:
        print(f"drive: listening on http://{host}:{port} - open the simulator and press "
              f"Autonomous (Ctrl+C to stop); live page at http://{host}:{port}/", flush=True)

    def on_tick() -> None:
        line = stats.summary(time.perf_counter())
        if line:
            print(f"drive: {line}", flush=True)
            if recorder:
                recorder.flush()

    try:
        serve(sio, app, listener, on_listening, on_tick)
    finally:
        if recorder:
            recorder.close()
    print(f"drive: stopped after {stats.total_frames} frames "
          f"({stats.total_malformed} malformed answered safely)", flush=True)



def run() -> None:
    """main() as a command: Ctrl+C before the server is up (while TensorFlow loads) is one sentence."""
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("drive: interrupted before the server started.")
