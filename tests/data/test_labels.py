"""Steering profiles, input-device guesses and label smoothing on synthetic recordings made by the simulator's rules."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilot.data.labels import auto_smoothing_s, guess_input_device, run_ids, smooth_steering, steering_profile
from pilot.testing import input_devices


def frame_table(times_s: np.ndarray, steering: np.ndarray, recording: str = "r") -> pd.DataFrame:
    stamps = pd.Timestamp("2026-11-21 12:00:00") + pd.to_timedelta(times_s, unit="s")
    return pd.DataFrame({"recording": recording, "time": stamps.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3],
                         "steering": steering})


def recorded(device: str, seed: int = 3, duration_s: float = 120.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times_s, recorded steering, intended steering) at the simulator's recording rate."""
    times_s, intended = input_devices.intended_steering(duration_s, seed)
    made = {"keyboard": lambda: input_devices.keyboard(intended),
            "mouse": lambda: input_devices.mouse(intended, seed),
            "gamepad": lambda: input_devices.gamepad(intended, seed)}[device]()
    frame_times_s, steering = input_devices.record(times_s, made)
    return frame_times_s, steering, input_devices.record(times_s, intended)[1]


def test_the_keyboard_ramp_moves_by_005_per_physics_step_to_full_lock_and_back():
    held = np.r_[np.full(30, 1.0), np.zeros(30)]           # owe a lot of right steering, then none
    steering = input_devices.keyboard(held)
    assert np.allclose(np.abs(np.diff(steering))[np.diff(steering) != 0], 0.05)
    pressed = int(np.flatnonzero(steering)[0])                 # once the owed steering is worth a press
    assert steering[pressed:pressed + 20].tolist() == pytest.approx(0.05 * np.arange(1, 21))
    assert steering.max() == 1.0 and steering[-1] == 0.0


@pytest.mark.parametrize("device", ["keyboard", "mouse", "gamepad"])
@pytest.mark.parametrize("seed", [3, 4])
def test_the_device_guess_names_the_device_that_made_the_recording(device, seed):
    times_s, steering, _ = recorded(device, seed)
    guess, reason = guess_input_device(steering_profile(steering, times_s))
    assert guess == device
    assert reason.endswith(".") and "\n" not in reason and "%" in reason


def test_the_profile_measures_zeros_full_lock_and_the_keyboard_grid():
    times_s = np.arange(10) * 0.1
    steering = np.array([0, 0, 0.25, 0.5, 1.0, 1.0, 0.5, 0, 0, -0.33])
    profile = steering_profile(steering, times_s)
    assert profile["frames"] == 10
    assert profile["exact_zero_share"] == pytest.approx(0.4)
    assert profile["full_lock_share"] == pytest.approx(0.2)
    assert profile["on_keyboard_grid_share"] == pytest.approx(5 / 6)     # all non-zero values but -0.33
    assert profile["median_nonzero_step"] == pytest.approx(0.375)        # 0.25, 0.5, 0, 0.5 between non-zero pairs
    assert profile["frame_rate_hz"] == pytest.approx(10.0)


def test_a_keyboard_recording_is_mostly_zeros_and_a_mouse_one_almost_never():
    kb_times, kb, _ = recorded("keyboard")
    mouse_times, mouse, _ = recorded("mouse")
    assert steering_profile(kb, kb_times)["exact_zero_share"] > 0.4
    assert steering_profile(mouse, mouse_times)["exact_zero_share"] < 0.01


def test_too_few_frames_give_no_guess():
    guess, reason = guess_input_device(steering_profile(np.zeros(5), np.arange(5) * 0.1))
    assert guess == "unknown" and "5 frames" in reason


def test_smoothing_keyboard_labels_brings_them_towards_what_the_driver_meant():
    times_s, steering, intended = recorded("keyboard")
    frames = frame_table(times_s, steering)
    raw_mse = np.mean((steering - intended) ** 2)
    smoothed_mse = np.mean((smooth_steering(frames, 1.0) - intended) ** 2)
    assert smoothed_mse < raw_mse / 4


def test_smoothing_off_returns_the_labels_unchanged():
    times_s, steering, _ = recorded("mouse", duration_s=10)
    frames = frame_table(times_s, steering)
    for off in (0, 0.0, None):
        assert np.array_equal(smooth_steering(frames, off), steering)


def test_smoothing_never_mixes_runs_split_by_a_gap_or_recordings():
    first = frame_table(np.arange(5) * 0.1, np.ones(5))
    after_gap = frame_table(2.0 + np.arange(5) * 0.1, -np.ones(5))    # 1.6 s later: another run
    other = frame_table(np.arange(5) * 0.1, np.zeros(5), recording="other")
    frames = pd.concat([first, after_gap, other], ignore_index=True)
    smoothed = smooth_steering(frames, 5.0)
    assert smoothed.tolist() == [1.0] * 5 + [-1.0] * 5 + [0.0] * 5


def test_smoothing_is_a_centred_average_over_the_window_in_row_order():
    frames = frame_table(np.arange(5) * 0.1, np.array([0.0, 0.0, 0.9, 0.0, 0.0])).iloc[::-1]
    smoothed = smooth_steering(frames, 0.2)                      # +-0.1 s: the frame and its neighbours
    assert smoothed.tolist() == pytest.approx([0.0, 0.3, 0.3, 0.3, 0.0])


def test_each_recording_gets_its_own_window_and_auto_smooths_only_a_keyboard():
    spike = np.array([0.0, 0.0, 0.9, 0.0, 0.0])
    keys = frame_table(np.arange(5) * 0.1, spike, recording="keys")
    mouse = frame_table(np.arange(5) * 0.1, spike, recording="mouse")
    frames = pd.concat([keys, mouse], ignore_index=True)
    windows = {"keys": auto_smoothing_s("keyboard"), "mouse": auto_smoothing_s("mouse")}
    assert windows == {"keys": 1.0, "mouse": 0.0} and auto_smoothing_s("gamepad") == 0.0
    smoothed = smooth_steering(frames, windows)
    assert smoothed[:5].tolist() == pytest.approx([0.9 / 5] * 5) and smoothed[5:].tolist() == spike.tolist()
    assert smooth_steering(frames, {"keys": 0.2}).tolist()[5:] == spike.tolist()       # a recording not named


def test_a_negative_window_is_refused_in_one_sentence():
    with pytest.raises(ValueError, match="0 \\(off\\) or positive seconds"):
        smooth_steering(frame_table(np.arange(3) * 0.1, np.zeros(3)), -1.0)


def test_runs_split_where_the_gap_exceeds_half_a_second():
    assert run_ids(np.array([0.0, 0.1, 0.2, 0.8, 0.9, 1.5])).tolist() == [0, 0, 0, 1, 1, 2]
