"""Does the replay score mean something? Checked in the headless simulator, where the truth is known.

(a) View synthesis against true renders: on track 7, at poses spread along the road, the
    centre camera's true view from a car shifted sideways by +-0.25, +-0.5, +-1 m or turned
    by +-5 degrees, against the view synthesised (as the replay does: from the nearest
    recorded camera) from the unshifted car's frames. The mean absolute pixel error (0..255,
    every channel) inside the model's crop, rows 60:135, with the 'no correction' baseline
    (the unshifted centre frame) beside it.
(b) Models of graded quality, each scored twice on the same track: replayed along a recording of
    one lap by the expert (the 'human'), and road-tested closed loop (the truth: the car's real
    pose, the same 0.1 s latency, the same car physics). The models all see images: one PilotNet
    trained here in a minute on the expert's frames (three cameras, +-0.15 side-camera correction),
    its earlier snapshots, and the trained one with its answers degraded (white noise, a bias, a low
    gain). Prints every pair and the Spearman rank correlations.

    .venv/bin/python bench/replay_fidelity.py [--epochs 10] [--poses 12] [--synthesis-only]

    On hills (`--track jungle`, or a seed drawn with grades to 30 %), (a) alone, each pose's error
    grouped by the largest change of grade in the 25 m ahead: the synthesis takes the road for the
    plane under the car, which a steady grade keeps and a crest or a dip breaks.

    .venv/bin/python bench/replay_fidelity.py --track jungle [--poses 120]

(c) On real recordings (`--recording DIR`, repeatable, with `--model FILE`: a model trained on real
    recordings), where no pose is known but the cameras, the images and the Lake's centre line are:
    the rig fitted to each recording's side cameras (side-view error at the simulator's rig and at
    the fitted one), the reference motion checked on the images (photometric error of the next frame
    predicted by the labels, the smoothed labels and visual odometry), where the stretches were
    placed, an oracle that steers as the human did and holds the human's line as a driver does
    (`oracle: N %`; beside it the share of its steering that correction was, and the open-loop
    oracle's score), and the model degraded in four
    families of graded, known steps: steering noise 0 / 0.05 / 0.1 / 0.2, bias 0 / 0.05 / 0.1 / 0.2,
    gain 1 / 0.75 / 0.5 / 0.25, extra lag 0 / 0.1 / 0.2 / 0.4 s. Each step must score lower than the
    one before (autonomy; ties broken by fewer interventions, as autonomy is floored at 0 %, then by
    mean |cross-track|); prints `families in order: K/4` and, per
    family, the Spearman correlation of how bad the score is with the step (1.0: every step in order).

    .venv/bin/python bench/replay_fidelity.py --recording RECORDING_DIR [--recording ...] --model MODEL
                                              [--max-frames N]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pilot.imaging import preprocess, to_model_input  # noqa: E402
from pilot.replay.geometry import synthesiser_for  # noqa: E402
from pilot.replay.loop import ReplaySettings, nearest_camera, replay_recording  # noqa: E402
from pilot.replay.rig_fit import road_tilt_deg  # noqa: E402
from pilot.sim.camera import Renderer, encode_jpeg  # noqa: E402
from pilot.sim.episode import Episode, start_state  # noqa: E402
from pilot.sim.expert import DriftSchedule, Expert, ExpertSpeed  # noqa: E402
from pilot.sim.metrics import summarise_drive  # noqa: E402
from pilot.sim.track import generate_track, make_track, parse_track  # noqa: E402
from pilot.sim.vehicle import CarPhysics, Controls  # noqa: E402
from pilot.udacity.images import decode_jpeg_rgb  # noqa: E402
from pilot.udacity.simulator import CAMERAS  # noqa: E402
from tests.replay.drives import HEADLESS_CAR, HEADLESS_RIG, moved_camera_m, moved_state  # noqa: E402

TRACK_SEED = 7
STEP_S = 0.1                     # the simulator's recording rate, and the road test's 0.1 s latency
SPEED_MPH = 17.0
CROP_ROWS = slice(60, 135)       # pilot.imaging's crop: what the model sees
SIDE_CORRECTION = 0.15
GRADE_LOOK_AHEAD_M = 25.0         # the crop's rows 60:135 see the road from ~4 m to ~25 m ahead on the level
GRADE_CHANGE_BINS = [(0.0, 0.02), (0.02, 0.05), (0.05, 0.1), (0.1, 0.2), (0.2, 9.9)]
CASES = [("offset", d) for d in (-1.0, -0.5, -0.25, 0.25, 0.5, 1.0)] + [("yaw", y) for y in (-5.0, 5.0)]


def synthesis_errors(renderer: Renderer, track_length_m: float, poses: int) -> dict[str, tuple[float, float]]:
    """(synthesised, no correction) mean |pixel error| in the crop, per case, over poses along the track."""
    errors: dict[str, list[tuple[float, float]]] = {}
    for _, per_case in synthesis_errors_per_pose(renderer, track_length_m, poses):
        for case, pair in per_case.items():
            errors.setdefault(case, []).append(pair)
    return {case: tuple(np.mean(values, axis=0)) for case, values in errors.items()}


def grade_changes_ahead(track, s_m: float, near_m: float, far_m: float) -> np.ndarray:
    """grade - grade here every metre from near_m to far_m ahead (+: the road rises more steeply there)."""
    here = track.grade_at(s_m)
    return np.array([track.grade_at((s_m + d) % track.length_m) - here for d in np.arange(near_m, far_m + 0.5, 1.0)])


def grade_change_ahead(track, s_m: float, ahead_m: float = GRADE_LOOK_AHEAD_M) -> float:
    """The largest |grade - grade here| over the road the camera sees: 0 on a flat track or a constant grade.

    The replay's view synthesis takes the road for a plane through the car's wheels; a car on a
    steady climb pitches with it and the road ahead stays that plane, so what breaks it is a
    change of grade in view: a crest or a dip.
    """
    return float(np.abs(grade_changes_ahead(track, s_m, 1.0, ahead_m)).max())


def synthesis_errors_per_pose(renderer: Renderer, track_length_m: float,
                              poses: int) -> list[tuple[float, dict[str, tuple[float, float]]]]:
    """For each pose along the track: its arc length, and (synthesised, no correction) per case."""
    synthesiser = synthesiser_for(HEADLESS_RIG)
    results = []
    for s_m in np.linspace(0.0, track_length_m, poses, endpoint=False):
        errors: dict[str, tuple[float, float]] = {}
        state = start_state(renderer.track, float(s_m), 7.6)
        centre = renderer.render(state, "center").astype(np.float32)
        for kind, amount in CASES:
            left_m, yaw_deg = (amount, 0.0) if kind == "offset" else (0.0, amount)
            truth = renderer.render(moved_state(state, left_m, yaw_deg), "center").astype(np.float32)
            yaw = math.radians(yaw_deg)
            target_m = moved_camera_m(left_m, yaw_deg)
            source = nearest_camera(HEADLESS_RIG, target_m)
            view = synthesiser.synthesise(renderer.render(state, source), HEADLESS_RIG.camera_position_m(source),
                                          target_m, yaw).astype(np.float32)
            errors[f"{kind} {amount:+g}{' m' if kind == 'offset' else ' deg'}"] = (
                float(np.abs(view[CROP_ROWS] - truth[CROP_ROWS]).mean()),
                float(np.abs(centre[CROP_ROWS] - truth[CROP_ROWS]).mean()))
        results.append((float(s_m), errors))
    return results


def synthesis_by_grade_change(track, renderer: Renderer, poses: int) -> None:
    """(a) on a hilly track: the synthesis error per pose, grouped by the change of grade in view (the truth), then
    by the tilt the replay measures on the side cameras (rig_fit.road_tilt_deg), which a real recording allows."""
    limit = ReplaySettings().grade_change_deg
    rows = []
    for s_m, per_case in synthesis_errors_per_pose(renderer, track.length_m, poses):
        state = start_state(track, s_m, 7.6)
        tilt = road_tilt_deg(HEADLESS_RIG, tuple(renderer.render(state, camera) for camera in CAMERAS))
        rows.append((grade_change_ahead(track, s_m), float(grade_changes_ahead(track, s_m, 3.0, 20.0).mean()), tilt,
                     per_case))     # the signed mean over the road the side-camera check sees best

    def table(groups: list[tuple[str, list[dict]]]) -> None:
        print(f"  {'':>14}  {'poses':>5}  {'synthesised':>11}  {'no correction':>13}  {'ratio':>5}")
        for label, chosen in groups:
            if not chosen:
                continue
            synthesised = float(np.mean([pair[0] for per_case in chosen for pair in per_case.values()]))
            baseline = float(np.mean([pair[1] for per_case in chosen for pair in per_case.values()]))
            print(f"  {label:>14}  {len(chosen):5d}  {synthesised:11.2f}  {baseline:13.2f}  "
                  f"{synthesised / baseline:5.2f}")

    print(f"  by the largest change of grade in the {GRADE_LOOK_AHEAD_M:g} m ahead (mean over the "
          f"{len(CASES)} cases; ratio: synthesised / no correction)")
    table([(f"{low:.2f}-{high:.2f}" if high < 1 else f">= {low:.2f}",
            [per_case for change, _, _, per_case in rows if low <= change < high]) for low, high in GRADE_CHANGE_BINS])
    print(f"  by the road's tilt the replay measures on the side cameras (limit {limit:g} deg)")
    table([(f"|tilt| <= {limit:g}", [per_case for _, _, tilt, per_case in rows if abs(tilt) <= limit]),
           (f"|tilt| > {limit:g}", [per_case for _, _, tilt, per_case in rows if abs(tilt) > limit])])
    tilts = np.array([row[2] for row in rows])
    signed = np.array([row[1] for row in rows])
    changed = np.array([row[0] for row in rows]) >= 0.1
    flagged = np.abs(tilts) > limit
    print(f"  tilt against the mean change of grade 3-20 m ahead: correlation {np.corrcoef(tilts, signed)[0, 1]:.2f}; "
          f"poses with a change of 0.1 or more flagged {int((flagged & changed).sum())}/{int(changed.sum())}, "
          f"the others flagged {int((flagged & ~changed).sum())}/{int((~changed).sum())}")


def expert_lap(track, renderer: Renderer, warm_up_s: float = 8.0):
    """One lap by the clean expert, as a recording keeps it: times, steering, speed, and each camera's JPEG."""
    expert = Expert(track, SPEED_MPH)
    episode = Episode(track, start_state(track), STEP_S, CarPhysics())
    for _ in range(int(warm_up_s / STEP_S)):
        episode.advance(expert.command(episode.state, STEP_S).executed)
    start_laps = episode.progress_laps
    steering, speed, jpegs = [], [], {}
    while episode.progress_laps - start_laps < 1.0:
        state, command = episode.state, expert.command(episode.state, STEP_S).executed
        for camera in ("center", "left", "right"):
            jpegs[(len(steering), camera)] = encode_jpeg(renderer.render(state, camera))
        steering.append(command.steering)
        speed.append(state.speed_mph)
        episode.advance(command)
    assert episode.interventions == 0
    return np.arange(len(steering)) * STEP_S, np.array(steering), np.array(speed), jpegs


def training_frames(track, renderer: Renderer, frames: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The drifting expert's frames (a random camera each, preprocessed) and their clean labels."""
    rng = np.random.default_rng(seed)
    expert = Expert(track, SPEED_MPH, drift=DriftSchedule(np.random.default_rng(seed), track.half_width_m))
    episode = Episode(track, start_state(track), STEP_S, CarPhysics())
    images, labels = [], []
    for _ in range(frames):
        command = expert.command(episode.state, STEP_S)
        camera = ("center", "left", "right")[rng.integers(3)]
        images.append(preprocess(decode_jpeg_rgb(encode_jpeg(renderer.render(episode.state, camera)))))
        labels.append(command.label.steering
                      + {"center": 0.0, "left": SIDE_CORRECTION, "right": -SIDE_CORRECTION}[camera])
        episode.advance(command.executed)
    return np.stack(images), np.clip(np.array(labels, dtype=np.float32), -1.0, 1.0)


class StandIn:
    """A trained PilotNet's answers, degraded: answer * gain + bias + white noise (seeded, restarted per drive)."""

    def __init__(self, predictor, gain: float = 1.0, bias: float = 0.0, noise: float = 0.0, seed: int = 0) -> None:
        self.predictor, self.gain, self.bias, self.noise, self.seed = predictor, gain, bias, noise, seed
        self.restart()

    def restart(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def __call__(self, view_rgb: np.ndarray) -> float:
        answer = self.predictor.predict_rgb(view_rgb)
        return answer * self.gain + self.bias + self.noise * self.rng.standard_normal()


def road_test(track, renderer: Renderer, model: StandIn, max_time_s: float = 200.0) -> dict:
    """One lap closed loop from the true pose: each frame's answer acts from the next frame (0.1 s latency)."""
    model.restart()
    episode = Episode(track, start_state(track), STEP_S, CarPhysics())
    speed = ExpertSpeed(SPEED_MPH)
    steering = 0.0
    while episode.progress_laps < 1.0 and episode.time_s < max_time_s:
        image = decode_jpeg_rgb(encode_jpeg(renderer.render(episode.state, "center")))
        answer = float(np.clip(model(image), -1.0, 1.0))
        throttle, brake = speed.update(episode.state.speed_mph, STEP_S)
        episode.advance(Controls(steering, throttle, brake))
        steering = answer
    return summarise_drive(episode.records, track.length_m)


def spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr
    return float(spearmanr(a, b).statistic)


def autonomy_then_error(autonomy: list[float], error: list[float],
                        interventions: list[int] | None = None) -> list[float]:
    """One score per model: autonomy ranks first, the mean error breaks its ties (an intervention resets the
    error, so a model that needs many has a small mean error: the error alone ranks the worst models wrongly).
    With `interventions` (one drive's, the same elapsed time for every model), fewer interventions break
    autonomy's ties before the error does: autonomy is floored at 0 %, the count under it is not."""
    counts = interventions or [0] * len(autonomy)
    order = sorted(range(len(autonomy)), key=lambda i: (autonomy[i], -counts[i], -error[i]))
    score = [0.0] * len(autonomy)
    for rank, i in enumerate(order):
        score[i] = float(rank)
    return score


FAMILIES = {                      # name -> the graded steps, the first one the model itself
    "noise": (0.0, 0.05, 0.1, 0.2),
    "bias": (0.0, 0.05, 0.1, 0.2),
    "gain": (1.0, 0.75, 0.5, 0.25),
    "lag_s": (0.0, 0.1, 0.2, 0.4),
}


def real_recording(folder: Path, model_path: Path, max_frames: int | None) -> bool:
    """(c) for one real recording; True when every family scores in order."""
    import pandas as pd

    from pilot.learn.runtime import serve_model
    from pilot.replay.frame_table import TRACKS, frame_source, recording_rig
    from pilot.replay.loop import ReferenceOracle, place_frames_on_road, prepare_recording, replay_prepared
    from pilot.sim.track import named_track
    from pilot.udacity.frame_time import frame_milliseconds, seconds_since_first
    from pilot.udacity.log_reader import read_recording

    started = time.perf_counter()
    rows = pd.DataFrame(read_recording(folder, repo_root="/", check_images=False).rows)
    rows = rows.sort_values("time", kind="stable").reset_index(drop=True).iloc[:max_frames]
    read = frame_source(rows, "/")
    cache: dict[tuple[int, str], np.ndarray] = {}

    def frames(index: int, camera: str) -> np.ndarray:           # decoded once: every replay reads the same frames
        if (index, camera) not in cache:
            cache[(index, camera)] = read(index, camera)
        return cache[(index, camera)]

    settings = ReplaySettings(motion="auto")
    fit = recording_rig(rows, frames, settings.min_speed_mph)
    lake, time_ms = named_track("lake"), frame_milliseconds(rows["time"])
    steering, speed = rows["steering"].to_numpy(float), rows["speed"].to_numpy(float)
    road = place_frames_on_road(lake, time_ms, steering, speed, HEADLESS_CAR, settings, TRACKS["auto"])
    prepared = prepare_recording(folder.name, seconds_since_first(rows["time"]), steering, speed, frames, fit.rig,
                                 HEADLESS_CAR, settings, road, time_ms, "lake", lake.half_width_m)
    placed = sum(road is not None for _, _, _, road in prepared.stretches)
    print(f"\n(c) {folder} ({len(rows)} frames)")
    print(f"  rig fitted to the side cameras: height {fit.rig.height_m:.3f} m, pitch {fit.rig.pitch_deg:.2f} deg, "
          f"yaw {fit.rig.yaw_deg:.2f} deg, roll {fit.rig.roll_deg:.2f} deg; side-view error "
          f"{fit.error_before:.2f} at the simulator's rig -> {fit.error_after:.2f} ({fit.frames} frames)")
    print(f"  reference motion: {prepared.motion}; photometric error of the next frame "
          f"{prepared.motion_errors}")
    print(f"  stretches: {len(prepared.stretches)}, {placed} placed on the Lake "
          f"(heading fit {[round(road.heading_rms_deg, 1) for _, _, _, road in prepared.stretches if road]} deg)",
          flush=True)

    def score(model, extra_lag_s: float = 0.0) -> dict:
        lagged = ReplaySettings(motion=prepared.motion, latency_s=settings.latency_s + extra_lag_s)
        summary = replay_prepared(prepared, frames, model, fit.rig, HEADLESS_CAR, lagged).summary()
        summary["error_m"] = (summary["mean_abs_cross_track_m"] if summary["mean_abs_cross_track_m"] is not None
                              else summary["mean_abs_offset_m"])
        return summary

    holding = ReferenceOracle()
    oracle, open_loop = score(holding), score(ReferenceOracle(holds_line=False))
    print(f"  oracle: {oracle['autonomy_percent']} % ({oracle['interventions']} interventions in "
          f"{oracle['elapsed_s']:.0f} s, mean |cross-track| {oracle['mean_abs_cross_track_m']} m; its line-holding "
          f"correction {100 * holding.feedback_share:.1f} % of its steering); open loop, with no correction: "
          f"{open_loop['autonomy_percent']} % ({open_loop['interventions']} interventions)", flush=True)
    base = serve_model(model_path, "auto").predictor
    in_order = 0
    for family, steps in FAMILIES.items():
        results = []
        for step in steps:
            if family == "lag_s":
                results.append(score(StandIn(base), extra_lag_s=step))
            else:
                degraded = {"noise": {"noise": step, "seed": 7}, "bias": {"bias": step}, "gain": {"gain": step}}
                stand_in = StandIn(base, **degraded[family])
                results.append(score(stand_in))
        autonomy = [r["autonomy_percent"] for r in results]
        errors = [r["error_m"] for r in results]
        counts = [r["interventions"] for r in results]
        ranks = autonomy_then_error(autonomy, errors, counts)          # higher: better
        ordered = all(ranks[i] > ranks[i + 1] for i in range(len(ranks) - 1))
        in_order += ordered
        rho = spearman(list(range(len(steps))), [-rank for rank in ranks])
        print(f"  {family:6s} " + "  ".join(f"{step:g}: {a:5.1f} % {n:3d}x {e:.3f} m" for step, a, n, e in
                                            zip(steps, autonomy, counts, errors))
              + f"   Spearman(step, badness) {rho:+.2f} {'in order' if ordered else 'NOT in order'}", flush=True)
    print(f"  families in order: {in_order}/{len(FAMILIES)}  ({time.perf_counter() - started:.0f} s)")
    return in_order == len(FAMILIES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", type=int, default=12, help="poses along the track for (a)")
    parser.add_argument("--train-frames", type=int, default=2400)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--synthesis-only", action="store_true", help="run (a) only (seconds), not the models' (b)")
    parser.add_argument("--track", help="(a) only, on hills: 'jungle', or a seed drawn with grades to 30 %%; "
                        "the synthesis error grouped by the change of grade in view")
    parser.add_argument("--recording", type=Path, action="append", help="(c): a real recording's folder")
    parser.add_argument("--model", type=Path, help="(c): the model to degrade (trained on real recordings)")
    parser.add_argument("--max-frames", type=int, help="(c): replay only a recording's first N frames")
    args = parser.parse_args()
    if args.recording:
        if args.model is None:
            parser.error("--recording needs --model (a model trained on real recordings)")
        for folder in args.recording:
            real_recording(folder, args.model, args.max_frames)
        return
    if args.track is not None:
        hilly = make_track(parse_track(args.track), **({} if args.track == "jungle" else {"max_grade": 0.3}))
        started = time.perf_counter()
        print(f"(a) on hills: view synthesis vs true renders, track {args.track}, {args.poses} poses, mean |pixel "
              f"error| (0..255) in rows {CROP_ROWS.start}:{CROP_ROWS.stop}")
        synthesis_by_grade_change(hilly, Renderer(hilly), args.poses)
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
        return
    track = generate_track(TRACK_SEED)
    renderer = Renderer(track)

    started = time.perf_counter()
    print(f"(a) view synthesis vs true renders, track {TRACK_SEED}, {args.poses} poses, mean |pixel error| "
          f"(0..255) in rows {CROP_ROWS.start}:{CROP_ROWS.stop}")
    print(f"  {'case':>12}  {'synthesised':>11}  {'no correction':>13}")
    for case, (synthesised, baseline) in synthesis_errors(renderer, track.length_m, args.poses).items():
        print(f"  {case:>12}  {synthesised:11.2f}  {baseline:13.2f}")
    print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    if args.synthesis_only:
        return

    import tensorflow as tf

    from pilot.learn.model import build_pilotnet
    from pilot.learn.predictors import FastPredictor, limit_inference_threads
    limit_inference_threads(2)
    tf.keras.utils.set_random_seed(1)
    images, labels = training_frames(track, renderer, args.train_frames)
    inputs = to_model_input(images)
    model = build_pilotnet(1e-3)
    snapshots = {0: model.get_weights()}
    for epoch in range(1, args.epochs + 1):
        history = model.fit(inputs, labels, batch_size=64, epochs=1, shuffle=True, verbose=0)
        snapshots[epoch] = model.get_weights()
        print(f"  trained epoch {epoch}: loss {history.history['loss'][-1]:.4f}", flush=True)

    def predictor(epoch: int) -> FastPredictor:
        net = build_pilotnet()
        net.set_weights(snapshots[epoch])
        return FastPredictor(net)

    best = predictor(args.epochs)
    stand_ins = {
        f"PilotNet {args.epochs} epochs": StandIn(best),
        "  + noise 0.1": StandIn(best, noise=0.1, seed=1),
        "  + noise 0.3": StandIn(best, noise=0.3, seed=2),
        "  + bias 0.1": StandIn(best, bias=0.1),
        "  gain 0.4": StandIn(best, gain=0.4),
        f"PilotNet {max(1, args.epochs // 3)} epochs": StandIn(predictor(max(1, args.epochs // 3))),
        "PilotNet 1 epoch": StandIn(predictor(1)),
        "PilotNet untrained": StandIn(predictor(0)),
    }
    time_s, steering, speed_mph, jpegs = expert_lap(track, renderer)
    frames = lambda index, camera: decode_jpeg_rgb(jpegs[(index, camera)])  # noqa: E731
    settings = ReplaySettings(latency_s=STEP_S)
    print(f"(b) replay along the expert's lap ({len(time_s)} frames) vs the closed-loop road test, track {TRACK_SEED}")
    print(f"  {'model':>22}  {'replay autonomy %':>17} {'interv.':>7} {'mean|offset| m':>14} {'fps':>5}   "
          f"{'road autonomy %':>15} {'interv.':>7} {'mean|cross-track| m':>19}")
    rows = []
    for name, stand_in in stand_ins.items():
        stand_in.restart()
        replay_started = time.perf_counter()
        replay = replay_recording("lap", time_s, steering, speed_mph, frames, stand_in, HEADLESS_RIG, HEADLESS_CAR,
                                  settings)
        fps = len(replay.records) / (time.perf_counter() - replay_started)
        replayed = replay.summary(settings.intervention_cost_s)
        road = road_test(track, renderer, stand_in)
        rows.append((replayed["autonomy_percent"], replayed["mean_abs_offset_m"], road["autonomy_pct"],
                     road["mean_abs_cross_track_m"]))
        print(f"  {name:>22}  {replayed['autonomy_percent']:17.1f} {replayed['interventions']:7d} "
              f"{replayed['mean_abs_offset_m']:14.3f} {fps:5.0f}   {road['autonomy_pct']:15.1f} "
              f"{road['interventions']:7d} {road['mean_abs_cross_track_m']:19.3f}", flush=True)
    replay_autonomy, replay_offset, road_autonomy, road_cross = (list(column) for column in zip(*rows))
    both = spearman(autonomy_then_error(replay_autonomy, replay_offset),
                    autonomy_then_error(road_autonomy, road_cross))
    print(f"Spearman over {len(rows)} models: replay mean |offset| vs road mean |cross-track| "
          f"{spearman(replay_offset, road_cross):+.3f}; replay autonomy vs road autonomy "
          f"{spearman(replay_autonomy, road_autonomy):+.3f}; replay autonomy vs road -mean |cross-track| "
          f"{spearman(replay_autonomy, [-value for value in road_cross]):+.3f}; autonomy then mean error (both) "
          f"{both:+.3f}")
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
