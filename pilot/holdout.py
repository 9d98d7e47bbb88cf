"""A model scored on recordings training never saw: the honest test of generalisation.

A split inside one recording keeps the same session, driver, light and laps on both sides, so its
validation flatters. A separate recording (another session, another driver, another input device)
is what a user's model meets next. `score_recording` asks the model about every `every`-th centre
frame of one such recording and reports how it follows the driver's steering, raw and averaged over
FOLLOW_SMOOTHING_S (a keyboard's spikes are not what the driver meant), with the calibration slope
of the labels on the predictions, and how strongly it answers being off its line (the side cameras
and synthesised offsets, pilot.replay.lateral, with the rig fitted to the recording's own cameras).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from pilot.data.labels import smooth_steering
from pilot.learn.evaluation import following_metrics
from pilot.replay.lateral import lateral_response
from pilot.replay.rig_fit import fit_rig, spread
from pilot.udacity.images import read_jpeg_rgb
from pilot.udacity.simulator import CAMERAS

FOLLOW_SMOOTHING_S = 1.0         # the labels the predictions are also compared with, averaged over this window
LATERAL_FRAMES = 60              # frames the lateral response (and its rig fit) uses


def score_recording(predict: Callable[[np.ndarray], float], frames: pd.DataFrame, root: str = ".", every: int = 3,
                    trained_correction: float | None = None, lateral_frames: int = LATERAL_FRAMES,
                    min_speed_mph: float = 2.0) -> dict:
    """One recording's frames (ingest's columns, `steering_raw` or `steering` as recorded) -> its scores."""
    frames = frames.sort_values("time", kind="stable").reset_index(drop=True)
    raw_column = "steering_raw" if "steering_raw" in frames.columns else "steering"
    recorded = frames.assign(steering=frames[raw_column].to_numpy(float))
    smoothed = smooth_steering(recorded, FOLLOW_SMOOTHING_S)
    moving = np.flatnonzero(frames["speed"].to_numpy(float) >= min_speed_mph)
    picks = moving[::every]
    predictions = np.array([predict(read_jpeg_rgb(str(Path(root) / frames.at[index, "center"]))) for index in picks])
    scores = {
        "frames": int(picks.size),
        "vs_raw": following_metrics(recorded["steering"].to_numpy(float)[picks], predictions),
        "vs_smoothed": following_metrics(smoothed[picks], predictions),
        "prediction_mean": float(predictions.mean()),
        "prediction_std": float(predictions.std()),
    }
    if lateral_frames > 0:
        chosen = frames.iloc[moving[spread(len(moving), lateral_frames)]]
        scores["lateral_response"] = lateral_on_frames(predict, chosen, root, trained_correction)
    return scores


def lateral_on_frames(predict: Callable[[np.ndarray], float], frames: pd.DataFrame, root: str = ".",
                      trained_correction: float | None = None) -> dict:
    """The model's answer to being off its line (pilot.replay.lateral) on these frames' three cameras, with the rig
    fitted to their own side cameras (evaluate's validation frames, a test recording's)."""
    triples = [tuple(read_jpeg_rgb(str(Path(root) / row[camera])) for camera in CAMERAS)
               for _, row in frames.iterrows()]
    fit = fit_rig(triples)
    return {**lateral_response(predict, triples, fit.rig, trained_correction), "rig": fit.as_dict()}
