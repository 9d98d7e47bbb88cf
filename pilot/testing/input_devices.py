"""How a driver's intended steering becomes recorded steering on each input device, by the simulator's rules.

For tests and bench/label_smoothing.py: synthetic keyboard, mouse and gamepad recordings of a
known intended steering, so a label profile, a device guess and a smoothing window can be
checked against the truth. Steering in -1..1, times in seconds.
"""
from __future__ import annotations

import numpy as np

from pilot.udacity.simulator import KEYBOARD_STEERING_STEP, PHYSICS_STEP_S

RECORD_STEP_S = 0.1                # the simulator records ~10 frames per second (at most 15)
GAMEPAD_DEAD_ZONE = 0.1            # a stick reads exactly 0 within this of centre
KEY_DEADBAND_S = 0.05              # the keyboard driver presses once the owed steering reaches this (steering x s)
MIN_KEY_HOLD_S = 0.06              # a human press or release lasts at least this long


def intended_steering(duration_s: float, seed: int, step_s: float = PHYSICS_STEP_S) -> tuple[np.ndarray, np.ndarray]:
    """(times_s, steering): a smooth seeded course of bends (|steering| mostly below 0.4)."""
    rng = np.random.default_rng(seed)
    times_s = np.arange(0.0, duration_s, step_s)
    steering = np.zeros_like(times_s)
    for period_s, amplitude in ((12.0, 0.2), (5.0, 0.1), (2.3, 0.05)):
        phase = rng.uniform(0, 2 * np.pi)
        steering += amplitude * np.sin(2 * np.pi * times_s / (period_s * rng.uniform(0.8, 1.2)) + phase)
    return times_s, np.clip(steering, -1.0, 1.0)


def keyboard(intended: np.ndarray) -> np.ndarray:
    """The steering a keyboard driver gets at each physics step while trying to follow `intended`.

    The driver keeps the steering they owe (intended minus got, summed over time) small: they
    press the key towards it once it exceeds KEY_DEADBAND_S and release it when the ramp back
    to 0 will pay the rest, each press or release held at least MIN_KEY_HOLD_S. The simulator ramps a pressed key by
    KEYBOARD_STEERING_STEP per physics step to full lock and a released one back to 0 at the same rate.
    """
    hold_steps = max(1, round(MIN_KEY_HOLD_S / PHYSICS_STEP_S))
    ramp_per_s = KEYBOARD_STEERING_STEP / PHYSICS_STEP_S
    got = np.zeros(len(intended))
    steering, owed_s, key, held = 0.0, 0.0, 0, hold_steps
    for step, target in enumerate(intended):
        if held >= hold_steps:
            # what is still owed once the steering has ramped back to 0 after a release now
            owed_after_release_s = owed_s - np.sign(steering) * steering**2 / (2 * ramp_per_s)
            if key != 0:
                wanted = key if np.sign(owed_after_release_s) == key else 0
            else:
                wanted = int(np.sign(owed_after_release_s)) if abs(owed_after_release_s) > KEY_DEADBAND_S else 0
            if wanted != key:
                key, held = wanted, 0
        held += 1
        if key != 0:
            steering = float(np.clip(steering + key * KEYBOARD_STEERING_STEP, -1.0, 1.0))
        elif steering != 0.0:
            steering = (0.0 if abs(steering) <= KEYBOARD_STEERING_STEP
                        else steering - np.sign(steering) * KEYBOARD_STEERING_STEP)
        steering = round(steering, 10)          # keep the ramp exactly on its grid
        got[step] = steering
        owed_s += (target - steering) * PHYSICS_STEP_S
    return got


def mouse(intended: np.ndarray, seed: int, jitter: float = 0.01) -> np.ndarray:
    """A mouse: the intended steering plus a little hand jitter, continuous, rarely exactly 0."""
    rng = np.random.default_rng(seed)
    return np.clip(intended + jitter * rng.standard_normal(len(intended)), -1.0, 1.0)


def gamepad(intended: np.ndarray, seed: int, jitter: float = 0.005,
            dead_zone: float = GAMEPAD_DEAD_ZONE) -> np.ndarray:
    """A gamepad stick: the intended steering, smooth, but exactly 0 inside the dead zone."""
    rng = np.random.default_rng(seed)
    stick = np.clip(intended + jitter * rng.standard_normal(len(intended)), -1.0, 1.0)
    return np.where(np.abs(stick) < dead_zone, 0.0, stick)


def record(times_s: np.ndarray, steering: np.ndarray,
           record_step_s: float = RECORD_STEP_S) -> tuple[np.ndarray, np.ndarray]:
    """The frames the simulator writes: every physics step nearest a multiple of record_step_s."""
    every = max(1, round(record_step_s / PHYSICS_STEP_S))
    return times_s[::every].copy(), steering[::every].copy()
