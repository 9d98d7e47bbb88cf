"""drive: serve a steering model to the Udacity simulator (press Autonomous to connect).

    python stages/drive.py [MODEL] [--runtime keras|litert] [--host H] [--port P] [--set-speed MPH]
                           [--controller pi|seed] [--record DIR] [--saliency] [--threads N]
                           [--allow-architecture-mismatch]
    python stages/drive.py video RECORDING_DIR [--out FILE.mp4]

Defaults come from params.yaml's drive section; MODEL is a .keras file from this pipeline
or a seed notebook's model.h5 (a file whose stored layers are not the seed's PilotNet is
refused unless --allow-architecture-mismatch; no code stored in a model file ever runs),
or with --runtime litert the .tflite the train stage writes beside the .keras (the
default MODEL's .tflite twin).
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

from pilot.drive.control import make_controller
from pilot.drive.litert import LITERT_SUFFIX
from pilot.drive.record import DriveRecorder, DriveRecordError
from pilot.stage_io import load_params
from pilot.drive.app import create_app
from pilot.drive.live import LiveView
from pilot.drive.telemetry import DriveStats

PROJECT_ROOT = Path(__file__).resolve().parent.parent
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


def start_saliency_thread(live: LiveView, model) -> None:
    """Explain the latest frame about once a second in a daemon OS thread (TensorFlow releases
    the GIL, so the driving loop in the main thread goes on)."""
    from pilot.imaging import to_model_input
    from pilot.learn.saliency import visual_backprop

    def explain(preprocessed):
        return visual_backprop(model, to_model_input(preprocessed)[None])[0]

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
    parser.add_argument("model", nargs="?", help="a .keras or seed model.h5; with --runtime litert a .tflite "
                        f"(default: {params['model']} or, for litert, its {LITERT_SUFFIX} twin)")
    parser.add_argument("--runtime", choices=("keras", "litert"), default="keras",
                        help="litert: the edge model (.tflite) on the LiteRT interpreter")
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
    parser.add_argument("--inference", choices=("fast", "seed"), default="fast",
                        help="seed: the seed's per-frame model.predict, for benchmarks only")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="inference threads per frame (default: params.yaml's inference_threads, "
                             "or litert_threads with --runtime litert)")
    parser.add_argument("--allow-architecture-mismatch", action="store_true",
                        help="drive a model whose stored layers differ from the seed's PilotNet "
                             "(an .h5 drives as PilotNet with its weights; a .keras as stored)")
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be a whole number of threads, 1 or more, got {args.threads}")
    if args.runtime == "litert" and (args.inference != "fast" or args.saliency):
        parser.error("--inference seed and --saliency need the Keras model: drop them for --runtime litert")
    return args


def default_model(params: dict, runtime: str) -> str:
    """params.yaml's drive.model, or its .tflite twin for the LiteRT runtime."""
    model = params["model"]
    return str(Path(model).with_suffix(LITERT_SUFFIX)) if runtime == "litert" else model


def inference_threads(args: argparse.Namespace, params: dict) -> int:
    """--threads, or params.yaml's count for the runtime; ValueError with one sentence if it is not one."""
    if args.threads is not None:
        return args.threads
    key = "litert_threads" if args.runtime == "litert" else "inference_threads"
    threads = params[key]
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"params.yaml's drive.{key} must be a whole number of threads, 1 or more, got {threads!r}.")
    return threads


def load_model_predictor(model_path: Path, args: argparse.Namespace, threads: int):
    """The predictor for --runtime (imports TensorFlow); ValueError with one sentence if unusable."""
    if args.runtime == "litert":
        from pilot.drive.litert import LiteRTLoadError, load_litert_predictor
        try:
            return load_litert_predictor(model_path, threads)
        except LiteRTLoadError as error:
            raise ValueError(str(error)) from error
    from pilot.drive.predictor import ModelLoadError, limit_inference_threads, load_predictor
    if args.inference == "fast":       # the seed path keeps TensorFlow's defaults, as the seed ran
        limit_inference_threads(threads)
    try:
        return load_predictor(model_path, args.inference, args.allow_architecture_mismatch)
    except ModelLoadError as error:
        raise ValueError(str(error)) from error


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
    model_path = Path(args.model or default_model(params, args.runtime))
    if not model_path.exists() and args.model is None:
        model_path = PROJECT_ROOT / model_path      # the default is relative to the project
    if not model_path.is_file():
        kinds = f"a {LITERT_SUFFIX} file" if args.runtime == "litert" else "a .keras or seed model.h5"
        sys.exit(f"drive: model file {args.model or model_path} not found: train one with `dvc repro` "
                 f"or pass the path of {kinds}.")
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
        threads = inference_threads(args, params)
        predictor = load_model_predictor(model_path, args, threads)   # TensorFlow
    except ValueError as error:
        sys.exit(f"drive: {error}")
    inference = "litert" if args.runtime == "litert" else args.inference
    threads_note = "" if inference == "seed" else f", {threads} thread{'s' if threads > 1 else ''}"
    print(f"drive: model {model_path} loaded in {time.perf_counter() - started_s:.1f} s "
          f"({inference} inference{threads_note}); controller {args.controller} at {params[speed_key]:g} mph"
          + (f"; recording to {args.record}" if recorder else ""), flush=True)

    stats = DriveStats()
    controller_name = f"{args.controller} at {params[speed_key]:g} mph"
    live = LiveView(stats, model_path.name, controller_name)
    if args.saliency:
        start_saliency_thread(live, predictor.model)
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


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:      # Ctrl+C before the server was up (while TensorFlow loads)
        sys.exit("drive: interrupted before the server started.")
