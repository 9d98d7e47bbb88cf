"""The reference motion: how the recorded car moved from one frame to the next, checked on the images.

driving_log.csv holds no pose, so each step between two frames is estimated three ways, each as
the rear axle's move (ahead, left, in the earlier frame's car frame) and the car's turn:

- `labels`: the kinematic bicycle on the recorded steering and speed (what replay always did);
- `smoothed`: the same on steering averaged over a centred 1 s window within contiguous runs
  (a keyboard records spikes to full lock, not the curve the car drove);
- `visual`: visual odometry, the sideways move and turn whose flat-road homography maps the
  earlier centre frame best onto the later one (mean absolute error over the road rows), started
  from `smoothed`, with the speedometer's distance.

`photometric_error` predicts the later frame from the earlier one with a step and measures it
against the real later frame: the check every source gets. `best_source` picks, for one
recording, the source with the lowest mean error on a sample of its frame pairs; replay then
builds its reference path from that source's steps.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
from scipy.optimize import minimize

from pilot.replay.geometry import ground_homography
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.simulator import REAR_AXLE_BEHIND_ROOT_M, curvature_per_m

SOURCES = ("labels", "smoothed", "visual")
ROAD_ROWS = (70, 135)                  # below the horizon, above the hood: what the flat-road map predicts
SAMPLE_PAIRS = 60                      # frame pairs per recording the sources are compared on
VISUAL_START_SIMPLEX = (0.1, 0.01)   # the optimiser's first steps: metres left, radians


@dataclass(frozen=True)
class Step:
    """One frame-to-frame move of the rear axle (metres, in the earlier frame's car frame), the car's turn, and
    the distance driven (an arc's length; a straight line's for a measured move)."""
    ahead_m: float
    left_m: float
    turn_rad: float
    distance_m: float


def arc_step(curvature: float, distance_m: float) -> Step:
    """The rear axle driving `distance_m` on an arc of `curvature` (the bicycle model's step)."""
    turn = curvature * distance_m
    if abs(turn) < 1e-12:
        return Step(distance_m, 0.0, turn, distance_m)
    return Step(math.sin(turn) / curvature, (1.0 - math.cos(turn)) / curvature, turn, distance_m)


def label_steps(steering: np.ndarray, speed_mps: np.ndarray, time_s: np.ndarray,
                curvature: Callable[[float], float] = curvature_per_m) -> list[Step]:
    """The bicycle model's step between each pair of frames: each frame's steering held, the mean speed."""
    distances = 0.5 * (speed_mps[1:] + speed_mps[:-1]) * np.diff(time_s)
    return [arc_step(curvature(float(s)), float(d)) for s, d in zip(steering[:-1], distances)]


def camera_move(step: Step, rig: CameraRig, camera: str = "center") -> tuple[tuple[float, float], float]:
    """Where `camera` ends up after `step` (ahead, left of the car's root, in the earlier car frame), and the turn."""
    ahead_m, left_m = rig.camera_position_m(camera)
    arm = REAR_AXLE_BEHIND_ROOT_M + ahead_m                 # rear axle -> camera, along the car
    cos_t, sin_t = math.cos(step.turn_rad), math.sin(step.turn_rad)
    return ((step.ahead_m + cos_t * arm - sin_t * left_m - REAR_AXLE_BEHIND_ROOT_M,
             step.left_m + sin_t * arm + cos_t * left_m), step.turn_rad)


def step_of_camera_move(camera_ahead_m: float, camera_left_m: float, turn_rad: float, rig: CameraRig,
                        camera: str = "center") -> Step:
    """The rear-axle step that moves `camera` to (ahead, left) and turns the car by `turn_rad` (camera_move's
    inverse)."""
    ahead_m, left_m = rig.camera_position_m(camera)
    arm = REAR_AXLE_BEHIND_ROOT_M + ahead_m
    cos_t, sin_t = math.cos(turn_rad), math.sin(turn_rad)
    step_ahead = camera_ahead_m + REAR_AXLE_BEHIND_ROOT_M - cos_t * arm + sin_t * left_m
    step_left = camera_left_m - sin_t * arm - cos_t * left_m
    return Step(step_ahead, step_left, turn_rad, math.hypot(step_ahead, step_left))


class PhotometricCheck:
    """Predicts a later centre frame from an earlier one under a step (flat road), and scores the prediction."""

    def __init__(self, rig: CameraRig, rows: tuple[int, int] = ROAD_ROWS) -> None:
        self.rig = rig
        self.rows = rows
        self._shift = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, float(rows[0])], [0.0, 0.0, 1.0]])
        self._camera = rig.camera_position_m("center")
        # pixel centres at half resolution: full = 2 half + 0.5
        self._half_to_full = np.array([[2.0, 0.0, 0.5], [0.0, 2.0, 0.5], [0.0, 0.0, 1.0]])
        self._full_to_half = np.linalg.inv(self._half_to_full)

    def _error_of_camera(self, earlier: np.ndarray, later_rows: np.ndarray, camera_m: tuple[float, float],
                         turn_rad: float) -> float:
        homography = ground_homography(self.rig, self._camera, camera_m, turn_rad) @ self._shift
        predicted = cv2.warpPerspective(earlier, homography, (self.rig.width_px, self.rows[1] - self.rows[0]),
                                        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        return float(cv2.absdiff(predicted, later_rows).mean())

    def error(self, earlier: np.ndarray, later: np.ndarray, step: Step) -> float:
        """Mean |predicted - real| over the road rows of the later frame (0-255 units)."""
        camera_m, turn = camera_move(step, self.rig)
        return self._error_of_camera(earlier.astype(np.float32), later[self.rows[0]:self.rows[1]].astype(np.float32),
                                     camera_m, turn)

    def visual_step(self, earlier: np.ndarray, later: np.ndarray, start: Step) -> tuple[Step, float]:
        """Visual odometry: the step (from `start`) whose prediction of `later` has the least photometric error.

        The camera's move ahead is the speedometer's (`start`'s): the images pin the sideways move and the turn,
        which the steering labels get wrong; they are searched at half resolution (a quarter of the pixels: the
        road's texture still pins a few centimetres), and the step is scored at full resolution like every other
        source's."""
        band = slice(self.rows[0], self.rows[1])
        small_earlier = cv2.resize(earlier, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        small_later = cv2.resize(later[band], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        size = (small_earlier.shape[1], small_later.shape[0])
        to_small, from_small = self._full_to_half, self._shift @ self._half_to_full
        (ahead0, left0), turn0 = camera_move(start, self.rig)
        x0 = np.array([left0, turn0])

        def cost(x: np.ndarray) -> float:
            homography = ground_homography(self.rig, self._camera, (ahead0, float(x[0])), float(x[1]))
            predicted = cv2.warpPerspective(small_earlier, to_small @ homography @ from_small, size,
                                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                            borderMode=cv2.BORDER_REPLICATE)
            return float(cv2.absdiff(predicted, small_later).mean())

        simplex = np.vstack([x0, *(x0 + np.diag(VISUAL_START_SIMPLEX))])
        found = minimize(cost, x0, method="Nelder-Mead",
                         options={"initial_simplex": simplex, "xatol": 3e-3, "fatol": 3e-2, "maxiter": 60})
        step = step_of_camera_move(ahead0, float(found.x[0]), float(found.x[1]), self.rig)
        return step, self.error(earlier, later, step)


def steadied(steps: list[Step], time_s: np.ndarray, window_s: float) -> list[Step]:
    """Visual steps with their curvature averaged over a centred window of `window_s`: odometry's frame-to-frame
    noise (a few outliers among thousands of pairs) is not how a car with a rate-limited steering can turn."""
    if len(steps) < 2 or window_s <= 0:
        return steps
    distances = np.array([step.distance_m for step in steps])
    turns = np.array([step.turn_rad for step in steps])
    curvature = np.divide(turns, distances, out=np.zeros_like(turns), where=distances > 1e-9)
    middle_s = 0.5 * (np.asarray(time_s[:-1]) + np.asarray(time_s[1:]))
    first = np.searchsorted(middle_s, middle_s - window_s / 2, side="left")
    last = np.searchsorted(middle_s, middle_s + window_s / 2, side="right")
    turned = np.concatenate([[0.0], np.cumsum(turns)])
    driven = np.concatenate([[0.0], np.cumsum(distances)])
    spans = driven[last] - driven[first]
    mean = np.divide(turned[last] - turned[first], spans, out=curvature, where=spans > 1e-9)
    return [arc_step(float(value), step.distance_m) for value, step in zip(mean, steps)]


FramePair = Callable[[int], tuple[np.ndarray, np.ndarray]]      # pair index k -> (frame k, frame k+1), RGB


def sample_pairs(count: int, sample: int = SAMPLE_PAIRS) -> list[int]:
    """Up to `sample` pair indices spread evenly over `count` pairs (the same every run)."""
    if count <= sample:
        return list(range(count))
    return sorted({int(round(value)) for value in np.linspace(0, count - 1, sample)})


def source_errors(pairs: FramePair, indices: list[int], candidates: dict[str, list[Step]],
                  check: PhotometricCheck) -> dict[str, float]:
    """Mean photometric error of each candidate's steps (and of visual odometry, started from `smoothed`)."""
    errors: dict[str, list[float]] = {name: [] for name in (*candidates, "visual")}
    for index in indices:
        earlier, later = pairs(index)
        for name, steps in candidates.items():
            errors[name].append(check.error(earlier, later, steps[index]))
        errors["visual"].append(check.visual_step(earlier, later, candidates["smoothed"][index])[1])
    return {name: round(float(np.mean(values)), 3) if values else math.inf for name, values in errors.items()}


def best_source(errors: dict[str, float]) -> str:
    """The source whose steps predict the next frame best (ties: the simplest, in SOURCES order)."""
    return min(SOURCES, key=lambda name: (errors.get(name, math.inf), SOURCES.index(name)))


def visual_steps(pairs: FramePair, count: int, start: list[Step], check: PhotometricCheck) -> list[Step]:
    """Visual odometry for every pair, each started from its `start` step."""
    return [check.visual_step(*pairs(index), start[index])[0] for index in range(count)]
