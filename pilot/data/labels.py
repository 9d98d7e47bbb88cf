"""Steering labels that mean what the driver meant: a recording's steering profile, a guess of
the input device that made it, and optional smoothing over time within contiguous runs.

Pure functions of arrays and frame tables; the ingest stage writes what they return.

Why: the simulator ramps a held steering key by KEYBOARD_STEERING_STEP per physics step
(pilot.udacity.simulator: full lock in 0.4 s, and back), so a keyboard driver who means "a little
left" records mostly exact zeros with short spikes. A mouse records its continuous position; a
gamepad stick is continuous but reads exactly 0 inside its dead zone.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pilot.data.frames import frame_seconds
from pilot.udacity.simulator import KEYBOARD_STEERING_STEP, PHYSICS_STEP_S

RUN_GAP_S = 0.5                    # a longer gap between frames ends a contiguous run of driving
GRID_TOLERANCE = 1e-3              # a value within this of a multiple of KEYBOARD_STEERING_STEP is "on the grid"
MIN_FRAMES_TO_GUESS = 20
INPUT_DEVICES = ("keyboard", "mouse", "gamepad", "unknown")

# The guess's thresholds (see guess_input_device).
FEW_ZEROS_SHARE = 0.05             # below: a device that is rarely exactly centred (mouse)
MANY_ZEROS_SHARE = 0.4             # above, with keyboard-like values or jumps: a keyboard
KEYBOARD_GRID_SHARE = 0.9          # share of non-zero values on the keyboard's grid a keyboard gives
KEYBOARD_RATE_PER_S = 1.5          # median |change| per second between non-zero frames (the ramp: 2.5 /s)


def run_ids(times_s: np.ndarray, gap_s: float = RUN_GAP_S) -> np.ndarray:
    """Number each frame's contiguous run (frames in time order; a gap over `gap_s` starts a new run)."""
    times_s = np.asarray(times_s, dtype=float)
    if times_s.size == 0:
        return np.zeros(0, dtype=int)
    return np.r_[0, np.cumsum(np.diff(times_s) > gap_s)].astype(int)


def steering_profile(steering: np.ndarray, times_s: np.ndarray) -> dict[str, float | int | None]:
    """What one recording's steering looks like (frames in time order, times in seconds).

    exact_zero_share: frames with steering exactly 0; full_lock_share: |steering| = 1;
    on_keyboard_grid_share: non-zero values that are multiples of KEYBOARD_STEERING_STEP (the keyboard ramp);
    median_nonzero_abs: typical size of a non-zero value; median_nonzero_step: typical |change|
    between consecutive non-zero frames of a run, and median_nonzero_rate_per_s the same per
    second; frame_rate_hz: frames per second within runs. None where there is nothing to measure.
    """
    steering = np.asarray(steering, dtype=float)
    times_s = np.asarray(times_s, dtype=float)
    if steering.shape != times_s.shape:
        raise ValueError(f"{steering.size} steering values but {times_s.size} times")
    frames = int(steering.size)
    nonzero = steering != 0.0
    values = steering[nonzero]
    grid = np.abs(values / KEYBOARD_STEERING_STEP - np.round(values / KEYBOARD_STEERING_STEP)) * KEYBOARD_STEERING_STEP
    same_run = np.diff(run_ids(times_s)) == 0 if frames > 1 else np.zeros(0, dtype=bool)
    pairs = same_run & nonzero[:-1] & nonzero[1:] if frames > 1 else same_run
    steps = np.abs(np.diff(steering))[pairs] if frames > 1 else np.zeros(0)
    gaps_s = np.diff(times_s)[same_run] if frames > 1 else np.zeros(0)
    rates = steps / np.maximum(np.diff(times_s)[pairs], 1e-6) if frames > 1 else np.zeros(0)

    def share(mask: np.ndarray) -> float | None:
        return float(np.mean(mask)) if mask.size else None

    def median(array: np.ndarray) -> float | None:
        return float(np.median(array)) if array.size else None

    return {
        "frames": frames,
        "exact_zero_share": share(~nonzero),
        "full_lock_share": share(np.abs(steering) >= 1.0),
        "on_keyboard_grid_share": share(grid <= GRID_TOLERANCE),
        "median_nonzero_abs": median(np.abs(values)),
        "median_nonzero_step": median(steps),
        "median_nonzero_rate_per_s": median(rates),
        "frame_rate_hz": 1.0 / float(np.median(gaps_s)) if gaps_s.size and np.median(gaps_s) > 0 else None,
    }


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.0f} %"


def guess_input_device(profile: dict) -> tuple[str, str]:
    """(keyboard | mouse | gamepad | unknown, one sentence saying why) from a steering_profile."""
    frames = profile["frames"]
    if frames < MIN_FRAMES_TO_GUESS:
        return "unknown", f"only {frames} frames: too few to tell the input device."
    zeros = profile["exact_zero_share"]
    grid = profile["on_keyboard_grid_share"]
    rate = profile["median_nonzero_rate_per_s"]
    if zeros < FEW_ZEROS_SHARE:
        return "mouse", (f"continuous steering with {_percent(zeros)} exact zeros: a mouse (or a program, "
                         "such as the headless simulator's expert) is rarely exactly centred.")
    keyboard_values = grid is not None and grid >= KEYBOARD_GRID_SHARE
    keyboard_jumps = rate is not None and rate >= KEYBOARD_RATE_PER_S
    if zeros >= MANY_ZEROS_SHARE and (keyboard_values or keyboard_jumps):
        why = (f"{_percent(grid)} of the non-zero values are multiples of {KEYBOARD_STEERING_STEP}"
               if keyboard_values else f"non-zero steering changes by a median {rate:.2f} per second")
        return "keyboard", (f"{_percent(zeros)} exact zeros and {why}, like the simulator's key ramp "
                            f"({KEYBOARD_STEERING_STEP} per {PHYSICS_STEP_S} s step): a keyboard.")
    rate_text = "n/a" if rate is None else f"{rate:.2f}"
    return "gamepad", (f"{_percent(zeros)} exact zeros (a stick's dead zone) but smooth values in between "
                       f"(median change {rate_text} per second, {_percent(grid)} on the keyboard's "
                       f"{KEYBOARD_STEERING_STEP} grid): a gamepad.")


def centred_moving_average(values: np.ndarray, times_s: np.ndarray, window_s: float) -> np.ndarray:
    """Mean of the values within window_s/2 either side of each frame (frames of one run, time order)."""
    values = np.asarray(values, dtype=float)
    times_s = np.asarray(times_s, dtype=float)
    cumulative = np.r_[0.0, np.cumsum(values)]
    first = np.searchsorted(times_s, times_s - window_s / 2, side="left")
    last = np.searchsorted(times_s, times_s + window_s / 2, side="right")
    return (cumulative[last] - cumulative[first]) / (last - first)


KEYBOARD_SMOOTHING_S = 1.0        # `auto` smooths a keyboard recording's labels over this window, others not at all


def auto_smoothing_s(input_device: str) -> float:
    """The window `auto` chooses for a recording: a keyboard records spikes to full lock and back, not the curve
    the driver meant, so its labels are averaged over KEYBOARD_SMOOTHING_S; a mouse's or a gamepad's are kept."""
    return KEYBOARD_SMOOTHING_S if input_device == "keyboard" else 0.0


def smooth_steering(frames: pd.DataFrame, window_s: float | None | dict[str, float],
                    gap_s: float = RUN_GAP_S) -> np.ndarray:
    """Steering averaged over a centred time window of `window_s`, within each recording's contiguous runs.

    A run ends where two frames are more than `gap_s` apart (a pause, an excluded stretch, another
    recording), so no average mixes unrelated driving. 0 or None: the steering unchanged. A dict gives
    each recording its own window (a recording it does not name: unchanged). Returns one value per row,
    in the table's row order.
    """
    steering = frames["steering"].to_numpy(dtype=float)
    windows = window_s if isinstance(window_s, dict) else None
    if not windows and not window_s:
        return steering.copy()
    for value in (windows.values() if windows else [window_s]):
        if value is not None and value < 0:
            raise ValueError(f"the smoothing window must be 0 (off) or positive seconds, got {value}.")
    seconds = frame_seconds(frames)
    smoothed = steering.copy()
    for name, rows in frames.groupby("recording", sort=False).indices.items():
        window = windows.get(str(name), 0.0) if windows else window_s
        if not window:
            continue
        order = rows[np.argsort(seconds[rows], kind="stable")]
        t = seconds[order]
        runs = run_ids(t, gap_s)
        for run in np.unique(runs):
            members = order[runs == run]
            smoothed[members] = centred_moving_average(steering[members], seconds[members], window)
    return smoothed
