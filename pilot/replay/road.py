"""Where the recorded car was on a known road: the human's path matched onto the track's centre line.

Replay's reference is the human's path, rebuilt from the reference motion (odometry.py). On a
track whose centre line is known (the Lake: pilot.sim.track.named_track), that path is placed
on the road, so that each replayed frame knows the human car's cross-track and heading
relative to the centre line, and the model's car can be scored as the road test scores it (an
intervention is a wheel leaving the road) instead of by its distance from the human.

Matching one contiguous stretch (`match_stretch`):

1. **Where along the road, which way round.** The path's heading over distance is compared with
   the centre line's (both directions, a start every metre, a distance scale of 0.9-1.1 for the
   speedometer, and a heading offset and a linear heading drift, fitted, for odometry's slow
   bias): the best fit places every frame at an arc length of the centre line. A stretch whose
   best fit leaves more than MAX_HEADING_RMS_DEG of heading unexplained, or that is shorter
   than MIN_MATCH_M, is not matched.
2. **How far across.** Around each frame, the path within +-WINDOW_M is rigidly aligned onto the
   centre-line points at the same arc lengths (Kabsch), which removes odometry's drift; the
   frame's cross-track is its distance from the centre line after that alignment. The price:
   the human's mean offset over the window is taken as 0, so a driver who held 1 m right of
   centre for the whole window is seen as centred (tests measure the error on headless drives
   whose truth is known).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pilot.sim.track import Track

MIN_MATCH_M = 150.0              # shorter stretches have too little shape to place
MAX_HEADING_RMS_DEG = 10.0       # a worse heading fit is not this road (real Lake drives: 4-6; other tracks: 16+)
WINDOW_M = 40.0                  # half the span aligned around each frame
SAMPLE_M = 6.0                   # the heading profile is compared every this many metres
START_STEP_M = 2.0               # ... from a start every this many metres along the road
SCALES = tuple(np.round(np.arange(0.90, 1.101, 0.02), 3))


@dataclass(frozen=True)
class RoadPlacement:
    """One stretch's frames on the road: arc length, the car's centre cross-track (+ left) and heading error."""
    s_m: np.ndarray
    cross_track_m: np.ndarray
    heading_error_rad: np.ndarray
    direction: int                 # +1: the centre line's own direction, -1: against it
    heading_rms_deg: float         # how much heading the fit left unexplained


def unwrapped_headings(track: Track, direction: int) -> tuple[np.ndarray, np.ndarray]:
    """(arc length, unwrapped heading) of the centre line, driven in `direction`, sampled every metre."""
    samples = np.arange(0.0, track.length_m, 1.0)
    points = [track.point_at(s) for s in samples]
    heading = np.unwrap([p[2] for p in points])
    if direction < 0:                        # driven the other way: arc length runs back, heading turns round
        samples = track.length_m - samples[::-1]
        heading = heading[::-1] + math.pi
        heading = np.unwrap(heading)
    return samples, heading


def _heading_at(profile: tuple[np.ndarray, np.ndarray], length_m: float, s: np.ndarray) -> np.ndarray:
    """The profile's heading at arc lengths `s` (wrapped round the lap, each lap adding a full turn)."""
    samples, heading = profile
    laps, rest = np.divmod(s, length_m)
    turn_per_lap = 2.0 * math.pi * round((heading[-1] - heading[0]) / (2.0 * math.pi))   # a closed loop: +-1 turn
    return np.interp(rest, samples, heading) + laps * turn_per_lap


def place_along(track: Track, distance_m: np.ndarray, heading_rad: np.ndarray) -> tuple[int, float, float, float]:
    """The best (direction, start arc length, distance scale, heading RMS in degrees) for a path's heading profile."""
    keep = np.searchsorted(distance_m, np.arange(0.0, distance_m[-1], SAMPLE_M))
    s, psi = distance_m[keep], np.unwrap(heading_rad[keep])
    best = (1, 0.0, 1.0, math.inf)
    starts = np.arange(0.0, track.length_m, START_STEP_M)
    design = np.stack([np.ones_like(s), s], axis=1)
    projector = design @ np.linalg.pinv(design)              # least squares: heading offset + linear drift
    for direction in (1, -1):
        profile = unwrapped_headings(track, direction)
        for scale in SCALES:
            road = _heading_at(profile, track.length_m, starts[:, None] + scale * s[None, :])
            residual = psi[None, :] - road
            residual -= residual @ projector.T
            rms = np.sqrt((residual ** 2).mean(axis=1))
            index = int(np.argmin(rms))
            if rms[index] < best[3]:
                best = (direction, float(starts[index]), float(scale), float(rms[index]))
    direction, start, scale, rms = best
    return direction, start, scale, math.degrees(rms)


def windowed_rigid_fits(distance_m: np.ndarray, source: np.ndarray, target: np.ndarray,
                        half_window_m: float) -> tuple[np.ndarray, np.ndarray]:
    """For each point i, the 2-D rigid fit (rotation angle, translation) taking the `source` points within
    +-half_window_m of distance_m[i] onto the `target` points (least squares, Kabsch), in O(N) by prefix sums."""
    low = np.searchsorted(distance_m, distance_m - half_window_m, side="left")
    high = np.searchsorted(distance_m, distance_m + half_window_m, side="right")

    def window_sums(values: np.ndarray) -> np.ndarray:
        prefix = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
        return prefix[high] - prefix[low]

    count = (high - low).astype(np.float64)
    source_mean = window_sums(source) / count[:, None]
    target_mean = window_sums(target) / count[:, None]
    products = window_sums(np.einsum("ni,nj->nij", target, source))          # sum of target_i source_j
    cov = products - count[:, None, None] * np.einsum("ni,nj->nij", target_mean, source_mean)
    angle = np.arctan2(cov[:, 1, 0] - cov[:, 0, 1], cov[:, 0, 0] + cov[:, 1, 1])
    cos_a, sin_a = np.cos(angle), np.sin(angle)
    rotated_mean = np.stack([cos_a * source_mean[:, 0] - sin_a * source_mean[:, 1],
                             sin_a * source_mean[:, 0] + cos_a * source_mean[:, 1]], axis=1)
    return angle, target_mean - rotated_mean


def match_stretch(track: Track, distance_m: np.ndarray, x_m: np.ndarray, y_m: np.ndarray,
                  heading_rad: np.ndarray, max_heading_rms_deg: float = MAX_HEADING_RMS_DEG) -> RoadPlacement | None:
    """Place one stretch's path (the car's centre, in any frame) on the track; None if it does not fit the road."""
    if len(distance_m) < 3 or distance_m[-1] < MIN_MATCH_M:
        return None
    direction, start, scale, rms_deg = place_along(track, distance_m, heading_rad)
    if rms_deg > max_heading_rms_deg:
        return None
    s_m = (start + scale * distance_m) % track.length_m
    road_s = s_m if direction > 0 else (track.length_m - s_m) % track.length_m
    centre = np.array([track.point_at(value)[:2] for value in road_s])
    road_heading = np.array([track.point_at(value)[2] for value in road_s]) + (0.0 if direction > 0 else math.pi)
    path = np.stack([x_m, y_m], axis=1)
    angle, translation = windowed_rigid_fits(distance_m, path, centre, WINDOW_M)
    cos_a, sin_a = np.cos(angle), np.sin(angle)
    placed = np.stack([cos_a * path[:, 0] - sin_a * path[:, 1], sin_a * path[:, 0] + cos_a * path[:, 1]], axis=1)
    placed += translation
    normal = np.stack([-np.sin(road_heading), np.cos(road_heading)], axis=1)
    cross_track = ((placed - centre) * normal).sum(axis=1)
    turned = heading_rad + angle
    heading_error = np.angle(np.exp(1j * (turned - road_heading)))
    return RoadPlacement(road_s, cross_track, heading_error, direction, rms_deg)


@dataclass(frozen=True)
class RoadFrames:
    """A whole recording placed on the road, stretch by stretch, keyed by each frame's time (whole milliseconds).

    Replay may drive only some of a recording's frames (its held-out stretches, a few seconds each, too short to
    place on their own); their place on the road comes from the recording's long continuous runs."""
    time_ms: np.ndarray               # every frame of the recording, in time order
    cross_track_m: np.ndarray         # NaN where the frame's run could not be placed
    heading_error_rad: np.ndarray
    heading_rms_deg: tuple[float, ...]

    def placement_for(self, time_ms: np.ndarray) -> RoadPlacement | None:
        """The placement of these frames (all of them placed), or None."""
        index = np.searchsorted(self.time_ms, time_ms)
        inside = (index < len(self.time_ms))
        if not inside.all() or not np.array_equal(self.time_ms[index], time_ms):
            return None
        cross, heading = self.cross_track_m[index], self.heading_error_rad[index]
        if np.isnan(cross).any():
            return None
        return RoadPlacement(np.full(len(index), np.nan), cross, heading, 0, max(self.heading_rms_deg, default=0.0))


def place_recording(track: Track, time_ms: np.ndarray, paths: list[tuple[slice, np.ndarray, np.ndarray, np.ndarray,
                                                                              np.ndarray]],
                    max_heading_rms_deg: float = MAX_HEADING_RMS_DEG) -> RoadFrames:
    """Place each run of a recording on `track`: `paths` holds, per run, its frames and the path of the car's centre
    (distance, x, y, heading), as any reference motion rebuilds it."""
    cross = np.full(len(time_ms), np.nan)
    heading = np.full(len(time_ms), np.nan)
    fits = []
    for part, distance_m, x_m, y_m, heading_rad in paths:
        placed = match_stretch(track, distance_m, x_m, y_m, heading_rad, max_heading_rms_deg)
        if placed is not None:
            cross[part], heading[part] = placed.cross_track_m, placed.heading_error_rad
            fits.append(placed.heading_rms_deg)
    return RoadFrames(np.asarray(time_ms), cross, heading, tuple(fits))
