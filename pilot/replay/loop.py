"""Drive a model along a recorded drive: the virtual car, its views, its interventions.

The model's car lives in the reference's frame: at every frame it sits at the same
distance along the reference path as the recorded car, `offset` to its side and turned by
`heading_error` (a Frenet frame on the rear axle's path, where the bicycle model is exact).
Between frames it follows the kinematic bicycle model under the model's steering, which
reaches the wheels `latency_s` after the frame was seen and then moves at most
`steering_rate_per_s`. Each frame's view is synthesised from the nearest recorded camera
(geometry.py) and shown to the model as a camera frame (its predictor prepares its own input).
More than `max_offset_m` off, or turned further than full lock can bring back inside that
band, is an intervention: the car is put back on the reference and the replay goes on.

The reference is the human's path, rebuilt from the recording's reference motion (odometry.py:
the steering labels, the smoothed labels or visual odometry; `motion: auto` takes the one that
predicts the next frame best on the recording's own images). On a known road (`track`: the
Lake) each stretch is placed on the centre line (road.py), and the rule is the road test's: an
intervention is a wheel of the model's car leaving the road further than the human's car did at
that frame; the records then carry the model car's cross-track, as the road test's do.
"""
from __future__ import annotations

import math
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from pilot.control import rate_limited
from pilot.data.labels import centred_moving_average
from pilot.replay.geometry import ViewSynthesiser, synthesiser_for
from pilot.replay.odometry import (
    SOURCES,
    PhotometricCheck,
    Step,
    best_source,
    label_steps,
    sample_pairs,
    source_errors,
    steadied,
)
from pilot.replay.reference import (
    MAX_GAP_S,
    CarGeometry,
    ReferencePath,
    contiguous_stretches,
    path_of_steps,
    reference_path,
)
from pilot.replay.result import FrameRecord, RecordingReplay
from pilot.replay.rig_fit import road_tilt_deg
from pilot.replay.road import MAX_HEADING_RMS_DEG, RoadFrames, RoadPlacement, place_recording
from pilot.scoring import SECONDS_PER_INTERVENTION
from pilot.sim.track import Track
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.simulator import (
    CAMERAS,
    CAR_TRACK_WIDTH_M,
    MPS_PER_MPH,
    PHYSICS_STEP_S,
    REAR_AXLE_BEHIND_ROOT_M,
    WHEELBASE_M,
    steering_for_curvature,
)

MIN_STRETCH_S = 3.0                # shorter stretches are left out: too little road to drift off
MIN_SPEED_MPH = 2.0                # slower frames are standing, not driving: they are not replayed
VIEW_CAMERA = "center"             # the camera the model drives with
MOTIONS = ("auto", *SOURCES)       # where the reference motion comes from (auto: the best on the images)
# on a known road a wheel off it is an intervention (the road test's rule) unless the human's car was as far out:
# where the human's wheel came within ROAD_SLACK_M of the edge or beyond it, the model's may go ROAD_SLACK_M further
ROAD_SLACK_M = 0.25
SMOOTHING_S = 1.0                  # the `smoothed` motion's centred window
ODOMETRY_THREADS = 2               # visual odometry's frame pairs in parallel
VISUAL_STEADYING_S = 0.3           # visual odometry's curvature, averaged over this centred window
CENTRE_AHEAD_OF_ROOT_M = 0.5 * WHEELBASE_M - REAR_AXLE_BEHIND_ROOT_M   # cross-track is measured here (road test)
SteeringModel = Callable[[np.ndarray], float]      # a 320x160 RGB camera view -> steering (a predictor's predict_rgb)
FrameSource = Callable[[int, str], np.ndarray]     # (frame index in the recording, camera name) -> RGB uint8
FrameHook = Callable[[FrameRecord, np.ndarray], None]


class ReplayTooShort(ValueError):
    """A recording with no stretch long enough to replay; the message is one sentence for the user."""


@dataclass(frozen=True)
class ReplaySettings:
    """The replay's physics and rules (the stage's params)."""

    latency_s: float = 0.1                   # from the frame to the wheels
    steering_rate_per_s: float | None = 2.5  # -1..1 units per second (a keyboard's ramp: 2.5); None: instant
    max_offset_m: float = 1.0                # PilotNet's intervention threshold
    max_heading_error_deg: float | None = None   # None: the heading full lock cannot undo within max_offset_m
    intervention_cost_s: float = SECONDS_PER_INTERVENTION
    max_gap_s: float = MAX_GAP_S             # a longer pause between frames starts a new stretch
    min_stretch_s: float = MIN_STRETCH_S
    min_speed_mph: float = MIN_SPEED_MPH     # slower frames are not driving: they split stretches, do not count
    physics_step_s: float = PHYSICS_STEP_S
    motion: str = "labels"                   # the reference motion: auto | labels | smoothed | visual
    # a frame whose road in view tilts further than this from the plane under the car (a crest, a dip) is counted as
    # replayed on a change of grade, where the flat-road synthesis is wrong (rig_fit.road_tilt_deg); None: not measured
    grade_change_deg: float | None = 1.0

    def __post_init__(self) -> None:
        if self.motion not in MOTIONS:
            raise ValueError(f"replay.motion is '{self.motion}': use one of {', '.join(MOTIONS)}.")

    def heading_limit_rad(self, car: CarGeometry) -> float:
        """Beyond this heading error the car cannot stay within max_offset_m, even at full lock."""
        if self.max_heading_error_deg is not None:
            return math.radians(self.max_heading_error_deg)
        return math.acos(max(-1.0, 1.0 - self.max_offset_m / car.min_turn_radius_m))


class VirtualCar:
    """The model's car relative to the reference: rear-axle offset and heading error, the wheels' steering."""

    def __init__(self, car: CarGeometry, steering: float, settings: ReplaySettings) -> None:
        self.car = car
        self.settings = settings
        self.offset_m = 0.0                 # rear axle, left of the reference's rear axle
        self.heading_error_rad = 0.0
        self.applied_steering = steering
        self._target_steering = steering
        self._pending: deque[tuple[float, float]] = deque()     # (arrival time, steering)

    def command(self, arrival_s: float, steering: float) -> None:
        """The model's answer, reaching the wheels at arrival_s."""
        self._pending.append((arrival_s, steering))

    def reset(self, steering: float) -> None:
        """An intervention: back on the reference, wheels at the human's steering, pending commands dropped."""
        self.offset_m = self.heading_error_rad = 0.0
        self.applied_steering = self._target_steering = steering
        self._pending.clear()

    def advance(self, start_s: float, duration_s: float, distance_m: float, reference_curvature_per_m: float) -> None:
        """Follow the reference for distance_m (taking duration_s), steering as the commands say.

        Integrated in the simulator's physics steps; a step that a command's arrival falls inside is split there, so
        a command acts from exactly its arrival (a late one would build up a lag in every bend)."""
        substeps = max(1, math.ceil(duration_s / self.settings.physics_step_s - 1e-9))
        step_s = duration_s / substeps
        end_s = start_s + duration_s
        arrivals = [arrival for arrival, _ in self._pending if start_s + 1e-9 < arrival < end_s - 1e-9]
        bounds = sorted({start_s + index * step_s for index in range(substeps)} | set(arrivals) | {end_s})
        rate = self.settings.steering_rate_per_s
        for now_s, next_s in zip(bounds, bounds[1:]):
            while self._pending and self._pending[0][0] <= now_s + 1e-9:
                self._target_steering = self._pending.popleft()[1]
            span_s = next_s - now_s
            self.applied_steering = rate_limited(self.applied_steering, self._target_steering, rate, span_s)
            self._integrate(distance_m * span_s / duration_s, self.car.curvature_per_m(self.applied_steering),
                            reference_curvature_per_m)

    def _integrate(self, step_m: float, curvature: float, reference_curvature: float) -> None:
        """Midpoint step of the Frenet equations in arc length s of the reference:
        de/ds = (1 - k_ref e) tan(psi), dpsi/ds = k (1 - k_ref e) / cos(psi) - k_ref."""
        def slopes(offset: float, heading: float) -> tuple[float, float]:
            stretch = 1.0 - reference_curvature * offset
            return stretch * math.tan(heading), curvature * stretch / math.cos(heading) - reference_curvature

        offset_slope, heading_slope = slopes(self.offset_m, self.heading_error_rad)
        mid_offset = self.offset_m + 0.5 * step_m * offset_slope
        mid_heading = self.heading_error_rad + 0.5 * step_m * heading_slope
        offset_slope, heading_slope = slopes(mid_offset, mid_heading)
        self.offset_m += step_m * offset_slope
        self.heading_error_rad += step_m * heading_slope

    def point_m(self, ahead_m: float, left_m: float) -> tuple[float, float]:
        """A point given relative to this car's root, in the reference car's frame (origin at its root)."""
        behind = self.car.rear_axle_behind_root_m
        cos_h, sin_h = math.cos(self.heading_error_rad), math.sin(self.heading_error_rad)
        along, across = behind + ahead_m, left_m
        return -behind + along * cos_h - across * sin_h, self.offset_m + along * sin_h + across * cos_h

    @property
    def root_offset_m(self) -> float:
        """How far the car's root is left of the reference car's root."""
        return self.point_m(0.0, 0.0)[1]


class ReferenceOracle:
    """A stand-in model that steers as the human did: at each frame, the steering whose curvature is the reference
    path's mean curvature over the road its answer will act on (from a latency after this frame to a latency after
    the next). The car's heading then equals the reference's at every command boundary, whatever the frame rate,
    so no lag builds up in a bend. Replay of it checks the loop, the reference motion and the road placement
    together: it should (almost) never be taken over.

    Steering only as the human did is open loop: the wheels' rate limit makes every quick change of steering
    arrive a little late, and the heading it costs is never won back, so over minutes any open-loop driver
    drifts off its own line. A human looks and corrects; with `holds_line` the oracle does too, adding a pure
    pursuit of the human's path `LOOKAHEAD_S` ahead (from the car's true offset and heading) to the human's
    steering. `feedback_share` says how much of its steering that correction was."""

    LOOKAHEAD_S = 1.5                 # pure pursuit of the point the car reaches in this time
    MIN_LOOKAHEAD_M = 5.0

    def __init__(self, wheelbase_m: float = WHEELBASE_M, holds_line: bool = True) -> None:
        self.wheelbase_m = wheelbase_m
        self.holds_line = holds_line
        self._path: ReferencePath | None = None
        self._car: VirtualCar | None = None
        self._turned = np.zeros(1)               # the reference's heading change from its first frame, per frame
        self._calls = 0
        self._latency_s = 0.0
        self._feedforward = self._feedback = 0.0   # summed |curvature| of each part, for feedback_share

    def follow(self, path: ReferencePath, latency_s: float, car: VirtualCar | None = None) -> None:
        """Drive `path` next; `car` (the replay's car, read only) is where it truly is, for holds_line."""
        self._path, self._calls, self._latency_s, self._car = path, 0, latency_s, car
        self._turned = np.concatenate([[0.0], np.cumsum(path.curvature_per_m[:-1] * np.diff(path.distance_m))])

    @property
    def feedback_share(self) -> float:
        """The line-holding correction's share of the oracle's steering (mean |curvature|), 0 without it."""
        total = self._feedforward + self._feedback
        return self._feedback / total if total > 0 else 0.0

    def _distance_at(self, when_s: float) -> float:
        path = self._path
        if when_s <= path.time_s[-1]:
            return float(np.interp(when_s, path.time_s, path.distance_m))
        speed = (path.distance_m[-1] - path.distance_m[-2]) / max(path.time_s[-1] - path.time_s[-2], 1e-9)
        return float(path.distance_m[-1] + speed * (when_s - path.time_s[-1]))

    def _turned_at(self, distance_m: float) -> float:
        path = self._path
        if distance_m <= path.distance_m[-1]:
            return float(np.interp(distance_m, path.distance_m, self._turned))
        return float(self._turned[-1] + path.curvature_per_m[-2] * (distance_m - path.distance_m[-1]))

    def __call__(self, view_rgb: np.ndarray) -> float:
        path = self._path
        frame = min(self._calls, len(path.time_s) - 2)
        self._calls += 1
        start = self._distance_at(path.time_s[frame] + self._latency_s)
        end = self._distance_at(path.time_s[frame + 1] + self._latency_s)
        if end - start < 1e-6:
            return float(path.driving_steering[frame])
        curvature = (self._turned_at(end) - self._turned_at(start)) / (end - start)
        correction = 0.0
        if self.holds_line and self._car is not None:
            speed_mps = (end - start) / max(float(path.time_s[frame + 1] - path.time_s[frame]), 1e-9)
            lookahead = max(self.MIN_LOOKAHEAD_M, self.LOOKAHEAD_S * speed_mps)
            heading = self._car.heading_error_rad
            aside = -self._car.offset_m * math.cos(heading) - lookahead * math.sin(heading)   # the path's point there
            correction = 2.0 * aside / lookahead ** 2
        self._feedforward += abs(curvature)
        self._feedback += abs(correction)
        return steering_for_curvature(curvature + correction, self.wheelbase_m)


def off_road_m(cross_track_m: float, heading_error_rad: float, half_width_m: float) -> float:
    """How far the car's outermost wheel is beyond the road's edge (negative: inside), for its centre's cross-track
    and its heading relative to the road."""
    sin_h, cos_h = math.sin(heading_error_rad), math.cos(heading_error_rad)
    along, across = 0.5 * WHEELBASE_M, 0.5 * CAR_TRACK_WIDTH_M
    widest = max(abs(cross_track_m + a * sin_h + b * cos_h) for a in (-along, along) for b in (-across, across))
    return widest - half_width_m


def nearest_camera(rig: CameraRig, position_m: tuple[float, float]) -> str:
    """The recorded camera closest to a point (ahead, left) in the reference car's frame."""
    return min(rig.cameras, key=lambda camera: math.hypot(camera[1] - position_m[0], camera[2] - position_m[1]))[0]


def model_steering(model: SteeringModel, view_rgb: np.ndarray) -> float:
    """Ask the model about one view, clamp to the simulator's -1..1."""
    answer = float(model(view_rgb))
    if not math.isfinite(answer):
        raise ValueError(f"the model answered {answer} for a replayed frame: check the model file.")
    return min(1.0, max(-1.0, answer))


def replay_stretch(path: ReferencePath, frames: FrameSource, first_index: int, model: SteeringModel,
                   synthesiser: ViewSynthesiser, car: CarGeometry, settings: ReplaySettings, stretch: int = 0,
                   start_time_s: float = 0.0, start_distance_m: float = 0.0,
                   on_frame: FrameHook | None = None, road: RoadPlacement | None = None,
                   road_half_width_m: float = 0.0, tilt_deg: np.ndarray | None = None) -> list[FrameRecord]:
    """Drive the model along one contiguous stretch; frame k of the path is frame first_index + k of `frames`.

    With `road` (the stretch placed on a known road) the road test's rule decides interventions. `tilt_deg[k]`:
    how far the road in frame k's view tilts from the plane under the car, carried into its record."""
    rig = synthesiser.rig
    view_camera_m = rig.camera_position_m(VIEW_CAMERA)
    heading_limit = settings.heading_limit_rad(car)
    driving = path.driving_steering
    vehicle = VirtualCar(car, float(driving[0]), settings)
    if hasattr(model, "follow"):                      # a ReferenceOracle: it steers the path itself
        model.follow(path, settings.latency_s, vehicle)
    records: list[FrameRecord] = []
    for k in range(len(path)):
        time_s = float(path.time_s[k])
        if k > 0:
            vehicle.advance(float(path.time_s[k - 1]), time_s - float(path.time_s[k - 1]),
                            float(path.distance_m[k] - path.distance_m[k - 1]), float(path.curvature_per_m[k - 1]))
        offset_m, heading_rad = vehicle.root_offset_m, vehicle.heading_error_rad
        applied = vehicle.applied_steering
        cross_track = None
        if road is None:
            intervention = abs(offset_m) > settings.max_offset_m or abs(heading_rad) > heading_limit
        else:
            human_cross, human_heading = float(road.cross_track_m[k]), float(road.heading_error_rad[k])
            ahead_m, left_m = vehicle.point_m(CENTRE_AHEAD_OF_ROOT_M, 0.0)
            ahead_m -= CENTRE_AHEAD_OF_ROOT_M                  # the model car's centre from the human car's
            cross_track = human_cross + ahead_m * math.sin(human_heading) + left_m * math.cos(human_heading)
            beyond = off_road_m(cross_track, human_heading + heading_rad, road_half_width_m)
            human_beyond = off_road_m(human_cross, human_heading, road_half_width_m)
            intervention = beyond > max(0.0, human_beyond + ROAD_SLACK_M) or abs(heading_rad) > heading_limit
        if intervention:
            vehicle.reset(float(driving[k]))
        target_m = vehicle.point_m(*view_camera_m)
        source = nearest_camera(rig, target_m)
        view = synthesiser.synthesise(frames(first_index + k, source), rig.camera_position_m(source), target_m,
                                      vehicle.heading_error_rad)
        steering = model_steering(model, view)
        vehicle.command(time_s + settings.latency_s, steering)
        record = FrameRecord(
            time_s=start_time_s + time_s, distance_m=start_distance_m + float(path.distance_m[k]),
            offset_m=offset_m, heading_error_deg=math.degrees(heading_rad), human_steering=float(path.steering[k]),
            model_steering=steering, applied_steering=applied, camera=source, intervention=intervention,
            stretch=stretch, cross_track_m=cross_track,
            human_cross_track_m=None if road is None else float(road.cross_track_m[k]),
            road_tilt_deg=None if tilt_deg is None else float(tilt_deg[k]))
        records.append(record)
        if on_frame is not None:
            on_frame(record, view)
    return records


def smoothed_steps(time_s: np.ndarray, steering: np.ndarray, speed_mph: np.ndarray, car: CarGeometry) -> list[Step]:
    """The bicycle model's steps on steering averaged over SMOOTHING_S (centred)."""
    return label_steps(centred_moving_average(steering, time_s, SMOOTHING_S), speed_mph * MPS_PER_MPH, time_s,
                       car.curvature_per_m)


def choose_motion(stretches: list[slice], time_s: np.ndarray, steering: np.ndarray, speed_mph: np.ndarray,
                  frames: FrameSource, car: CarGeometry, check: PhotometricCheck) -> tuple[str, dict[str, float]]:
    """The source whose steps predict the next centre frame best, on pairs spread through the stretches."""
    first_frames = [part.start + k for part in stretches for k in range(part.stop - part.start - 1)]
    candidates: dict[str, list[Step]] = {"labels": [], "smoothed": []}
    for part in stretches:
        t, steer, speed = time_s[part], steering[part], speed_mph[part] * MPS_PER_MPH
        candidates["labels"] += label_steps(steer, speed, t, car.curvature_per_m)
        candidates["smoothed"] += label_steps(centred_moving_average(steer, t, SMOOTHING_S), speed, t,
                                              car.curvature_per_m)

    def pair(index: int) -> tuple[np.ndarray, np.ndarray]:
        return frames(first_frames[index], VIEW_CAMERA), frames(first_frames[index] + 1, VIEW_CAMERA)

    errors = source_errors(pair, sample_pairs(len(first_frames)), candidates, check)
    return best_source(errors), errors


@dataclass
class PreparedRecording:
    """What replaying one recording needs before any model is asked: its stretches, each with its reference path
    (and its place on the road, if it was placed), and how the reference motion was chosen. Any number of models
    replay one PreparedRecording (replay_prepared)."""
    name: str
    stretches: list[tuple[slice, float, ReferencePath, RoadPlacement | None]]   # frames, start time, path, road
    skipped_stretches: int
    skipped_frames: int
    motion: str
    motion_errors: dict[str, float]
    track: str | None
    road_half_width_m: float
    tilt_deg: np.ndarray | None = None     # per frame of the recording: rig_fit.road_tilt_deg (NaN: not replayed)


def road_tilts_deg(frames: FrameSource, rig: CameraRig, parts: list[slice], count: int) -> np.ndarray:
    """rig_fit.road_tilt_deg of every frame inside `parts` (NaN elsewhere), from each frame's three cameras."""
    indices = [index for part in parts for index in range(part.start, part.stop)]

    def tilt(index: int) -> float:
        return road_tilt_deg(rig, tuple(frames(index, camera) for camera in CAMERAS))

    tilts = np.full(count, np.nan)
    with ThreadPoolExecutor(ODOMETRY_THREADS) as pool:     # OpenCV's warps run outside the GIL
        tilts[indices] = list(pool.map(tilt, indices))
    return tilts


def place_frames_on_road(track: Track, time_ms: np.ndarray, steering: np.ndarray, speed_mph: np.ndarray,
                         car: CarGeometry = CarGeometry(), settings: ReplaySettings = ReplaySettings(),
                         max_heading_rms_deg: float = MAX_HEADING_RMS_DEG) -> RoadFrames:
    """A whole recording (every frame, in time order) placed on `track`, run by run, from the smoothed labels' path
    (their heading over distance fits a road's best: odometry's turn drifts more)."""
    time_ms = np.asarray(time_ms, dtype=np.int64)
    time_s = (time_ms - time_ms[0]) / 1000.0
    speed_mph = np.asarray(speed_mph, dtype=np.float64)
    paths = []
    for part in contiguous_stretches(time_s, settings.max_gap_s, speed_mph >= settings.min_speed_mph):
        if part.stop - part.start < 3:
            continue
        path = path_of_steps(time_s[part], steering[part],
                             smoothed_steps(time_s[part], np.asarray(steering, np.float64)[part], speed_mph[part], car),
                             car)
        centre_x = path.x_m + 0.5 * car.wheelbase_m * np.cos(path.heading_rad)
        centre_y = path.y_m + 0.5 * car.wheelbase_m * np.sin(path.heading_rad)
        paths.append((part, path.distance_m, centre_x, centre_y, path.heading_rad))
    return place_recording(track, time_ms, paths, max_heading_rms_deg)


def prepare_recording(name: str, time_s: np.ndarray, steering: np.ndarray, speed_mph: np.ndarray,
                      frames: FrameSource, rig: CameraRig = CameraRig(), car: CarGeometry = CarGeometry(),
                      settings: ReplaySettings = ReplaySettings(), road: RoadFrames | None = None,
                      time_ms: np.ndarray | None = None, track_name: str = "lake",
                      road_half_width_m: float = 0.0) -> PreparedRecording:
    """The stretches of one recording (frames in time order) and their reference paths, each placed on the road
    where `road` (the recording placed on a known track, keyed by `time_ms`, each frame's absolute time) has it.

    Frames slower than settings.min_speed_mph are standing, not driving: they are not replayed and
    split stretches. Raises ReplayTooShort (one sentence) when no stretch is settings.min_stretch_s long.
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    steering = np.asarray(steering, dtype=np.float64)
    speed_mph = np.asarray(speed_mph, dtype=np.float64)
    moving = speed_mph >= settings.min_speed_mph
    stretches = contiguous_stretches(time_s, settings.max_gap_s, moving)
    durations = [float(time_s[part.stop - 1] - time_s[part.start]) for part in stretches]
    kept = [part for part, duration in zip(stretches, durations) if duration >= settings.min_stretch_s]
    if not kept:
        raise ReplayTooShort(too_short_sentence(name, stretches, durations, settings))
    check = PhotometricCheck(rig)
    motion, motion_errors = settings.motion, {}
    if motion == "auto":
        motion, motion_errors = choose_motion(kept, time_s, steering, speed_mph, frames, car, check)
    tilts = None if settings.grade_change_deg is None else road_tilts_deg(frames, rig, kept, len(time_s))
    prepared = PreparedRecording(name, [], len(stretches) - len(kept),
                                 len(time_s) - sum(part.stop - part.start for part in kept), motion, motion_errors,
                                 None if road is None else track_name, road_half_width_m, tilts)
    for part in kept:
        t, steer, speed = time_s[part], steering[part], speed_mph[part]
        if motion == "labels":
            path = reference_path(t, steer, speed, car)
        elif motion == "smoothed":
            path = path_of_steps(t, steer, smoothed_steps(t, steer, speed, car), car)
        else:
            starts = smoothed_steps(t, steer, speed, car)

            def visual(k: int, first: int = part.start) -> Step:
                return check.visual_step(frames(first + k, VIEW_CAMERA), frames(first + k + 1, VIEW_CAMERA),
                                         starts[k])[0]

            with ThreadPoolExecutor(ODOMETRY_THREADS) as pool:     # OpenCV's warps run outside the GIL
                measured = list(pool.map(visual, range(len(starts))))
            path = path_of_steps(t, steer, steadied(measured, t, VISUAL_STEADYING_S), car)
        placement = None if road is None else road.placement_for(np.asarray(time_ms)[part])
        prepared.stretches.append((part, float(time_s[part.start]), path, placement))
    return prepared


def replay_prepared(prepared: PreparedRecording, frames: FrameSource, model: SteeringModel,
                    rig: CameraRig = CameraRig(), car: CarGeometry = CarGeometry(),
                    settings: ReplaySettings = ReplaySettings(), on_frame: FrameHook | None = None) -> RecordingReplay:
    """Drive `model` along every prepared stretch of one recording."""
    synthesiser = synthesiser_for(rig)
    replay = RecordingReplay(name=prepared.name, stretches=len(prepared.stretches),
                             skipped_stretches=prepared.skipped_stretches, skipped_frames=prepared.skipped_frames,
                             motion=prepared.motion, motion_errors=prepared.motion_errors, track=prepared.track,
                             road_half_width_m=prepared.road_half_width_m if prepared.track else None)
    for number, (part, start_time_s, path, road) in enumerate(prepared.stretches):
        if road is not None:
            replay.stretches_on_road += 1
            replay.heading_fit_deg.append(road.heading_rms_deg)
        replay.records += replay_stretch(path, frames, part.start, model, synthesiser, car, settings, number,
                                         start_time_s, replay.distance_m, on_frame, road,
                                         prepared.road_half_width_m,
                                         None if prepared.tilt_deg is None else prepared.tilt_deg[part])
        replay.elapsed_s += path.elapsed_s
        replay.distance_m += float(path.distance_m[-1])
    return replay


def replay_recording(name: str, time_s: np.ndarray, steering: np.ndarray, speed_mph: np.ndarray, frames: FrameSource,
                     model: SteeringModel, rig: CameraRig = CameraRig(), car: CarGeometry = CarGeometry(),
                     settings: ReplaySettings = ReplaySettings(), on_frame: FrameHook | None = None,
                     track: Track | None = None, track_name: str = "lake",
                     max_heading_rms_deg: float = MAX_HEADING_RMS_DEG) -> RecordingReplay:
    """Replay every long-enough contiguous stretch of one recording (frames in time order): prepare_recording, then
    replay_prepared. With a `track` the recording is placed on it and its placed stretches use the road's rule."""
    time_ms = np.rint(np.asarray(time_s, dtype=np.float64) * 1000.0).astype(np.int64)
    road = (None if track is None else
            place_frames_on_road(track, time_ms, steering, speed_mph, car, settings, max_heading_rms_deg))
    prepared = prepare_recording(name, time_s, steering, speed_mph, frames, rig, car, settings, road, time_ms,
                                 track_name, 0.0 if track is None else track.half_width_m)
    return replay_prepared(prepared, frames, model, rig, car, settings, on_frame)


def too_short_sentence(name: str, stretches: list[slice], durations: list[float], settings: ReplaySettings) -> str:
    """Why a recording cannot be replayed, in one sentence that says what replay needs and why."""
    need = (f"replay needs {settings.min_stretch_s:g} s, because the model's car starts each run on the recorded path "
            f"and needs road to drift {settings.max_offset_m:g} m off it; record a longer drive.")
    if not stretches:
        return (f"recording '{name}' cannot be replayed: the car never drives at {settings.min_speed_mph:g} mph "
                f"or more in it, and {need}")
    longest = max(range(len(stretches)), key=durations.__getitem__)
    frames = stretches[longest].stop - stretches[longest].start
    return (f"recording '{name}' cannot be replayed: its longest run of frames at most {settings.max_gap_s:g} s apart "
            f"at {settings.min_speed_mph:g} mph or more is {durations[longest]:.1f} s ({frames} frames), and {need}")
