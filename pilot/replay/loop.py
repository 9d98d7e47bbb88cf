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
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from pilot.control import rate_limited
from pilot.replay.geometry import ViewSynthesiser, synthesiser_for
from pilot.replay.reference import MAX_GAP_S, CarGeometry, ReferencePath, contiguous_stretches, reference_path
from pilot.replay.result import FrameRecord, RecordingReplay
from pilot.scoring import SECONDS_PER_INTERVENTION
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.simulator import PHYSICS_STEP_S

MIN_STRETCH_S = 3.0                # shorter stretches are left out: too little road to drift off
MIN_SPEED_MPH = 2.0                # slower frames are standing, not driving: they are not replayed
VIEW_CAMERA = "center"             # the camera the model drives with
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
        """Follow the reference for distance_m (taking duration_s), steering as the commands say."""
        substeps = max(1, math.ceil(duration_s / self.settings.physics_step_s - 1e-9))
        step_s, step_m = duration_s / substeps, distance_m / substeps
        rate = self.settings.steering_rate_per_s
        for index in range(substeps):
            now_s = start_s + index * step_s
            while self._pending and self._pending[0][0] <= now_s + 1e-9:
                self._target_steering = self._pending.popleft()[1]
            self.applied_steering = rate_limited(self.applied_steering, self._target_steering, rate, step_s)
            self._integrate(step_m, self.car.curvature_per_m(self.applied_steering), reference_curvature_per_m)

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
                   on_frame: FrameHook | None = None) -> list[FrameRecord]:
    """Drive the model along one contiguous stretch; frame k of the path is frame first_index + k of `frames`."""
    rig = synthesiser.rig
    view_camera_m = rig.camera_position_m(VIEW_CAMERA)
    heading_limit = settings.heading_limit_rad(car)
    vehicle = VirtualCar(car, float(path.steering[0]), settings)
    records: list[FrameRecord] = []
    for k in range(len(path)):
        time_s = float(path.time_s[k])
        if k > 0:
            vehicle.advance(float(path.time_s[k - 1]), time_s - float(path.time_s[k - 1]),
                            float(path.distance_m[k] - path.distance_m[k - 1]), float(path.curvature_per_m[k - 1]))
        offset_m, heading_rad = vehicle.root_offset_m, vehicle.heading_error_rad
        applied = vehicle.applied_steering
        intervention = abs(offset_m) > settings.max_offset_m or abs(heading_rad) > heading_limit
        if intervention:
            vehicle.reset(float(path.steering[k]))
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
            stretch=stretch)
        records.append(record)
        if on_frame is not None:
            on_frame(record, view)
    return records


def replay_recording(name: str, time_s: np.ndarray, steering: np.ndarray, speed_mph: np.ndarray, frames: FrameSource,
                     model: SteeringModel, rig: CameraRig = CameraRig(), car: CarGeometry = CarGeometry(),
                     settings: ReplaySettings = ReplaySettings(), on_frame: FrameHook | None = None) -> RecordingReplay:
    """Replay every long-enough contiguous stretch of one recording (frames in time order).

    Frames slower than settings.min_speed_mph are standing, not driving: they are not replayed and
    split stretches. Raises ReplayTooShort (one sentence) when no stretch is settings.min_stretch_s long.
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    moving = np.asarray(speed_mph, dtype=np.float64) >= settings.min_speed_mph
    stretches = contiguous_stretches(time_s, settings.max_gap_s, moving)
    durations = [float(time_s[part.stop - 1] - time_s[part.start]) for part in stretches]
    kept = [part for part, duration in zip(stretches, durations) if duration >= settings.min_stretch_s]
    if not kept:
        raise ReplayTooShort(too_short_sentence(name, stretches, durations, settings))
    synthesiser = synthesiser_for(rig)
    replay = RecordingReplay(name=name, stretches=len(kept), skipped_stretches=len(stretches) - len(kept),
                             skipped_frames=len(time_s) - sum(part.stop - part.start for part in kept))
    for number, part in enumerate(kept):
        path = reference_path(time_s[part], np.asarray(steering)[part], np.asarray(speed_mph)[part], car)
        replay.records += replay_stretch(path, frames, part.start, model, synthesiser, car, settings, number,
                                         float(time_s[part.start]), replay.distance_m, on_frame)
        replay.elapsed_s += path.elapsed_s
        replay.distance_m += float(path.distance_m[-1])
    return replay


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
