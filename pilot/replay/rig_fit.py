"""The camera rig, fitted on a recording's own frames: its side cameras are real shifted views of the centre one.

Replay synthesises shifted views with a flat-road homography that depends on the cameras' height,
pitch, yaw and roll. The simulator's Unity project gives them (pilot.udacity.camera_rig), but the
training car sits on its suspension: real frames fit a camera about 1.27 m up, pitched 8.2 deg
down (bench/replay_fidelity.py --recording). Each recording carries its own check: from its centre
frame synthesise the left and the right camera's view and compare it with the real one over the
rows the model sees (the road's part of them). `fit_rig` minimises that mean error over height,
pitch, yaw and roll (Nelder-Mead from the simulator's rig) on frames spread through the recording.

The same check, frame by frame, measures what the flat-road synthesis assumes: that the road ahead
is the plane under the car. A steady grade keeps it (the car pitches with the road); a crest or a
dip breaks it. `road_tilt_deg` finds the pitch offset whose flat road makes one frame's centre view
predict its side views best: how far the road in view tilts from the plane under the car.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from scipy.optimize import minimize

from pilot.imaging import CROP_ROWS
from pilot.replay.geometry import ground_homography
from pilot.udacity.camera_rig import CameraRig

FIT_FRAMES = 20                  # frame triples (centre, left, right) a fit uses
FIT_ROWS = (64, CROP_ROWS[1])    # the model's crop, less the rows the horizon can cross: the road only
MIN_FIT_FRAMES = 10              # fewer: the simulator's rig is kept
FITTED = ("height_m", "pitch_deg", "yaw_deg", "roll_deg")
START_STEPS = (0.05, 0.5, 0.3, 0.3)      # the optimiser's first moves (metres, degrees)
TILT_GRID_DEG = np.arange(-9.0, 9.01, 1.5)  # road_tilt_deg's candidates, refined between the best and its neighbours


@dataclass(frozen=True)
class RigFit:
    """The rig a recording's frames fit best, and the side-camera error before and after (0-255 units)."""
    rig: CameraRig
    error_before: float
    error_after: float
    frames: int

    def as_dict(self) -> dict:
        return {**{name: round(getattr(self.rig, name), 4) for name in FITTED},
                "side_view_error_simulator_rig": round(self.error_before, 3),
                "side_view_error_fitted_rig": round(self.error_after, 3), "frames": self.frames}


def side_view_error(rig: CameraRig, triples: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                    rows: tuple[int, int] = FIT_ROWS) -> float:
    """Mean |synthesised - real| of the left and right views made from the centre ones (flat road), over `rows`."""
    centre_m = rig.camera_position_m("center")
    shift = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, float(rows[0])], [0.0, 0.0, 1.0]])
    maps = {camera: ground_homography(rig, centre_m, rig.camera_position_m(camera), 0.0) @ shift
            for camera in ("left", "right")}
    size = (rig.width_px, rows[1] - rows[0])
    errors = []
    for centre, left, right in triples:
        for camera, real in (("left", left), ("right", right)):
            view = cv2.warpPerspective(centre, maps[camera], size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                       borderMode=cv2.BORDER_REPLICATE)
            errors.append(float(cv2.absdiff(view, real[rows[0]:rows[1]]).mean()))
    return float(np.mean(errors))


def fit_rig(triples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], start: CameraRig = CameraRig()) -> RigFit:
    """Height, pitch, yaw and roll that make the centre frames predict the side frames best."""
    before = side_view_error(start, triples)
    if len(triples) < MIN_FIT_FRAMES:
        return RigFit(start, before, before, len(triples))

    def rig_of(values: np.ndarray) -> CameraRig:
        return replace(start, **{name: float(value) for name, value in zip(FITTED, values)})

    x0 = np.array([getattr(start, name) for name in FITTED])
    simplex = np.vstack([x0, *(x0 + np.diag(START_STEPS))])
    found = minimize(lambda values: side_view_error(rig_of(values), triples), x0, method="Nelder-Mead",
                     options={"initial_simplex": simplex, "xatol": 0.005, "fatol": 0.005, "maxiter": 300})
    if found.fun >= before:
        return RigFit(start, before, before, len(triples))
    return RigFit(rig_of(found.x), before, float(found.fun), len(triples))


def road_tilt_deg(rig: CameraRig, triple: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    """How far the road in one frame's view tilts from the plane under the car, in degrees: + it rises ahead (a dip,
    the foot of a climb), - it falls away (a crest). 0 on level ground and on a steady grade.

    The pitch offset whose flat road makes the centre view predict the side views best (side_view_error): walked
    from 0 along TILT_GRID_DEG while the error falls (a level frame costs three tries), then refined by a parabola
    through the best and its neighbours. Checked where the truth is known by bench/replay_fidelity.py --track jungle;
    about 0.1 deg on level road, real frames included.
    """
    errors: dict[int, float] = {}

    def error(index: int) -> float:
        if index not in errors:
            offset = float(TILT_GRID_DEG[index])
            errors[index] = side_view_error(replace(rig, pitch_deg=rig.pitch_deg + offset), [triple])
        return errors[index]

    best = int(np.argmin(np.abs(TILT_GRID_DEG)))
    for step in (-1, 1):
        while 0 <= best + step < len(TILT_GRID_DEG) and error(best + step) < error(best):
            best += step
    if best in (0, len(TILT_GRID_DEG) - 1):
        return float(TILT_GRID_DEG[best])
    before, at, after = error(best - 1), error(best), error(best + 1)
    curvature = before - 2.0 * at + after
    spacing = float(TILT_GRID_DEG[1] - TILT_GRID_DEG[0])
    return float(TILT_GRID_DEG[best] + (spacing * 0.5 * (before - after) / curvature if curvature > 0 else 0.0))


def spread(count: int, wanted: int = FIT_FRAMES) -> list[int]:
    """Up to `wanted` frame indices spread evenly through `count` frames."""
    if count <= wanted:
        return list(range(count))
    return sorted({int(round(value)) for value in np.linspace(0, count - 1, wanted)})
