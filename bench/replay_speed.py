"""Replay throughput on one core: frames/s through JPEG decoding, view synthesis, preprocessing and the loop.

Target (issue 11): at least 100 frames/s, the model's call excluded (here a model that
always answers 0, so the car drifts and nearly every view is warped, often from a side
camera). The recording is the headless simulator's expert, rendered and JPEG-encoded
in memory; the replay uses the real simulator's rig (§4: roll and yaw included).
Measured side by side in one run, with OpenCV held to one thread and the process to one core;
--with-model adds the whole loop with an (untrained) PilotNet called one frame at a time
through a traced tf.function on one TensorFlow thread, as a replay stage would:

    .venv/bin/python bench/replay_speed.py [--frames 300] [--with-model]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import cv2
import numpy as np

from pilot.imaging import preprocess
from pilot.replay.geometry import synthesise_view
from pilot.replay.loop import replay_recording
from pilot.sim.camera import Renderer, encode_jpeg
from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import Expert
from pilot.sim.track import generate_track
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.images import decode_jpeg_rgb

TARGET_PER_S = 100.0


def expert_recording(frames: int, step_s: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(time_s, steering, speed_mph, {(frame, camera): JPEG}) of the headless expert on track 7, at speed."""
    track = generate_track(7)
    renderer, expert = Renderer(track), Expert(track, 17.0)
    episode = Episode(track, start_state(track), step_s)
    steering, speed_mph, jpegs = [], [], {}
    for index in range(80 + frames):                       # 8 s to reach speed, then record
        state = episode.state
        command = expert.command(state, step_s).executed
        if index >= 80:
            steering.append(command.steering)
            speed_mph.append(state.speed_mph)
            for camera in ("center", "left", "right"):
                jpegs[(index - 80, camera)] = encode_jpeg(renderer.render(state, camera))
        episode.advance(command)
    return np.arange(frames) * step_s, np.array(steering), np.array(speed_mph), jpegs


def always_zero(view_rgb: np.ndarray) -> float:
    """A model that preprocesses its view, as every model's predictor does, and answers 0."""
    preprocess(view_rgb)
    return 0.0


def traced_pilotnet():
    """An (untrained) PilotNet behind the drive server's predictor: a camera view in, steering out."""
    from pilot.learn.model import build_pilotnet
    from pilot.learn.predictors import FastPredictor, limit_inference_threads

    limit_inference_threads(1)
    return FastPredictor(build_pilotnet()).predict_rgb


def per_second(count: int, run) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--with-model", action="store_true", help="also time the loop with a real PilotNet call")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    time_s, steering, speed_mph, jpegs = expert_recording(args.frames)
    cameras = ("center", "left", "right")
    decoded = {key: decode_jpeg_rgb(data) for key, data in jpegs.items()}
    rig = CameraRig()
    count = args.frames

    def replay(frames) -> None:
        replay_recording("bench", time_s, steering, speed_mph, frames, always_zero, rig)

    replay(lambda index, camera: decoded[(index, camera)])              # warm up (caches, first calls)
    with_decoding = per_second(count, lambda: replay(lambda index, camera: decode_jpeg_rgb(jpegs[(index, camera)])))
    decoded_already = per_second(count, lambda: replay(lambda index, camera: decoded[(index, camera)]))
    frames = [decoded[(index, "center")] for index in range(count)]
    decode_only = per_second(count, lambda: [decode_jpeg_rgb(jpegs[(index, "center")]) for index in range(count)])
    synthesis_only = per_second(count, lambda: [synthesise_view(frame, (1.0, 0.0), (0.99, 0.4), math.radians(3.0), rig)
                                                for frame in frames])
    preprocess_only = per_second(count, lambda: [preprocess(frame) for frame in frames])
    with_model = None
    if args.with_model:
        pilotnet = traced_pilotnet()
        replay_recording("bench", time_s, steering, speed_mph, lambda index, camera: decoded[(index, camera)],
                         pilotnet, rig)                                                     # warm up
        with_model = per_second(count, lambda: replay_recording(
            "bench", time_s, steering, speed_mph, lambda index, camera: decode_jpeg_rgb(jpegs[(index, camera)]),
            pilotnet, rig))
    replayed = replay_recording("bench", time_s, steering, speed_mph, lambda index, camera: decoded[(index, camera)],
                                always_zero, rig)
    used = {camera: sum(record.camera == camera for record in replayed.records) for camera in cameras}
    print(f"replay: {count} frames of the headless expert, model 'always 0' "
          f"({replayed.interventions} interventions; views from {used})")
    print(f"  with JPEG decoding : {with_decoding:7.1f} frames/s  ratio to target {TARGET_PER_S:.0f}/s = "
          f"{with_decoding / TARGET_PER_S:.2f} {'OK' if with_decoding >= TARGET_PER_S else 'BELOW TARGET'}")
    print(f"  frames decoded     : {decoded_already:7.1f} frames/s")
    if with_model is not None:
        print(f"  with decoding and PilotNet (untrained, one frame per call): {with_model:7.1f} frames/s")
    print(f"  parts: decode {decode_only:.0f}/s, synthesis {synthesis_only:.0f}/s, preprocess {preprocess_only:.0f}/s")


if __name__ == "__main__":
    main()
