"""evaluate's metrics against the raw and the smoothed labels: pairing examples with the validation table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilot.learn.evaluation import label_pairs, raw_and_smoothed_metrics


def val_table(smoothed: list[float], raw: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"recording": "r", "time": "t", "steering": smoothed, "steering_raw": raw})


def test_metrics_against_raw_and_smoothed_labels_pair_examples_with_frames_in_order():
    frames = val_table([0.1, 0.2, 0.3], [0.0, 0.5, 0.0])
    records = np.float32([0.1, 0.2, 0.3])                 # what augment stored: the smoothed label, float32
    metrics, why = raw_and_smoothed_metrics(records, np.array([0.1, 0.2, 0.3]), frames)
    assert why == ""
    assert metrics["model_vs_smoothed"]["mse"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["model_vs_raw"]["mse"] == pytest.approx((0.01 + 0.09 + 0.09) / 3)
    assert metrics["smoothed_vs_raw_labels"]["mse"] == pytest.approx(metrics["model_vs_raw"]["mse"])


def test_a_skipped_frame_or_an_old_table_gives_no_raw_metrics_and_says_why():
    frames = val_table([0.1, 0.2, 0.3], [0.0, 0.5, 0.0])
    assert label_pairs(np.float32([0.1, 0.3]), frames)[2].startswith("the 2 validation examples do not pair")
    assert label_pairs(np.float32([0.3, 0.2, 0.1]), frames)[0] is None           # same count, another order
    metrics, why = raw_and_smoothed_metrics(np.float32([0.1]), np.zeros(1), frames.drop(columns="steering_raw"))
    assert metrics == {"model_vs_raw": None, "model_vs_smoothed": None, "smoothed_vs_raw_labels": None}
    assert "steering_raw" in why
