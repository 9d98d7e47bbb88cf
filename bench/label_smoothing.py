"""How far each smoothing window puts the labels from what the driver meant (the ingest.smooth_steering_s default).

    python bench/label_smoothing.py [data/interim/log.csv]

Two recordings of the same intended steering: the frame table's own steering (the headless
simulator's expert: continuous, so the recorded label is what it meant) and a keyboard
recording of it made by the simulator's key ramp (pilot.testing.input_devices). For each window,
the MSE between the smoothed labels and the intended steering. No frame table: a synthetic
course of bends stands in for the expert. A model can at best learn what the image shows, the
intended steering, so the window with the lowest MSE is the label to train on.
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from pilot.data.frames import frame_seconds
from pilot.data.labels import guess_input_device, smooth_steering, steering_profile
from pilot.testing import input_devices
from pilot.udacity.simulator import PHYSICS_STEP_S

WINDOWS_S = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0)


def table(times_s: np.ndarray, steering: np.ndarray, recording: str) -> pd.DataFrame:
    stamps = pd.Timestamp("2026-11-21 12:00:00") + pd.to_timedelta(times_s, unit="s")
    return pd.DataFrame({"recording": recording, "time": stamps.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3],
                         "steering": steering})


def main() -> None:
    if len(sys.argv) > 1:
        log = pd.read_csv(sys.argv[1])
        log = log.iloc[np.lexsort((frame_seconds(log), log["recording"]))].reset_index(drop=True)
        first = log["recording"] == log["recording"].iloc[0]
        times_s, intended = (frame_seconds(log)[first],
                             log["steering_raw" if "steering_raw" in log else "steering"][first].to_numpy())
        expert = table(times_s, intended, "expert")
        physics_s = np.arange(0.0, times_s[-1], PHYSICS_STEP_S)
        intended_physics = np.interp(physics_s, times_s, intended)
        source = f"{sys.argv[1]} ({log['recording'].iloc[0]}, {first.sum()} frames)"
    else:
        physics_s, intended_physics = input_devices.intended_steering(600.0, seed=3)
        times_s, intended = input_devices.record(physics_s, intended_physics)
        expert = table(times_s, intended, "expert")
        source = "synthetic course of bends, 600 s"
    key_times_s, keys = input_devices.record(physics_s, input_devices.keyboard(intended_physics))
    intended_at_keys = np.interp(key_times_s, times_s, intended)
    keyboard = table(key_times_s, keys, "keyboard")
    print(f"intended steering: {source}")
    for name, frames, truth in (("expert", expert, intended), ("keyboard", keyboard, intended_at_keys)):
        profile = steering_profile(frames["steering"].to_numpy(), frame_seconds(frames))
        print(f"{name}: {100 * profile['exact_zero_share']:.0f} % exact zeros, "
              f"guessed {guess_input_device(profile)[0]}")
    print("window_s  expert_mse  keyboard_mse   (smoothed labels vs intended steering)")
    for window_s in WINDOWS_S:
        errors = [float(np.mean((smooth_steering(frames, window_s) - truth) ** 2))
                  for frames, truth in ((expert, intended), (keyboard, intended_at_keys))]
        print(f"{window_s:8.1f}  {errors[0]:10.6f}  {errors[1]:12.6f}")


if __name__ == "__main__":
    main()
