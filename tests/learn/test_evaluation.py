"""Metrics against values computed by hand."""
from __future__ import annotations

import numpy as np
import pytest

from pilot.learn.evaluation import constant_baseline, error_by_bin, following_metrics, regression_metrics

TRUE = [0.0, 0.5, -0.5, 1.0]
PRED = [0.1, 0.3, -0.5, 0.6]
# errors 0.1, -0.2, 0, -0.4: squares 0.01 + 0.04 + 0 + 0.16 = 0.21; |e| sum 0.7
# mean of TRUE = 0.25; SST = 0.0625 + 0.0625 + 0.5625 + 0.5625 = 1.25


def test_regression_metrics_by_hand():
    metrics = regression_metrics(TRUE, PRED)
    assert metrics["mse"] == pytest.approx(0.21 / 4)
    assert metrics["mae"] == pytest.approx(0.7 / 4)
    assert metrics["rmse"] == pytest.approx((0.21 / 4) ** 0.5)
    assert metrics["r2"] == pytest.approx(1 - 0.21 / 1.25)


def test_perfect_predictions_and_undefined_r2():
    assert regression_metrics(TRUE, TRUE) == {"mse": 0.0, "mae": 0.0, "rmse": 0.0, "r2": 1.0}
    assert regression_metrics([0.2, 0.2], [0.1, 0.3])["r2"] is None


def test_constant_baseline_at_the_mean_has_r2_zero_and_mse_the_variance():
    at_mean = constant_baseline(TRUE, 0.25)
    assert at_mean["mse"] == pytest.approx(1.25 / 4) and at_mean["r2"] == pytest.approx(0.0)
    at_zero = constant_baseline(TRUE, 0.0)
    assert at_zero["mse"] == pytest.approx((0 + 0.25 + 0.25 + 1) / 4)
    assert at_zero["r2"] == pytest.approx(1 - 1.5 / 1.25)


def test_error_by_bin_groups_by_true_steering():
    rows = error_by_bin(TRUE, PRED, bins=4)      # edges -1, -0.5, 0, 0.5, 1
    assert [(r["bin_low"], r["bin_high"], r["count"]) for r in rows] == [
        (-0.5, 0.0, 1), (0.0, 0.5, 1), (0.5, 1.0, 2)]    # -0.5 opens its bin; 1.0 joins the last; empty bin left out
    last = rows[-1]
    assert last["bin_center"] == 0.75
    assert last["mae"] == pytest.approx(0.3) and last["mean_error"] == pytest.approx(-0.3)
    assert last["rmse"] == pytest.approx(((0.04 + 0.16) / 2) ** 0.5)


def test_out_of_range_steering_counts_in_the_end_bins_and_bad_input_is_refused():
    rows = error_by_bin([-1.15, 1.15], [-1.0, 1.0], bins=2)
    assert [r["count"] for r in rows] == [1, 1]
    with pytest.raises(ValueError, match="bins"):
        error_by_bin(TRUE, PRED, bins=0)
    with pytest.raises(ValueError, match="predictions"):
        regression_metrics(TRUE, PRED[:2])
    with pytest.raises(ValueError, match="no examples"):
        regression_metrics([], [])


def test_following_metrics_give_correlation_and_the_calibration_slope_in_closed_form():
    labels = np.array([-0.3, -0.1, 0.0, 0.2, 0.4])
    too_hard = following_metrics(labels, 2 * labels + 0.05)         # turns with the driver, twice as hard
    assert too_hard["correlation"] == pytest.approx(1.0)
    assert too_hard["calibration_slope"] == pytest.approx(0.5)
    too_soft = following_metrics(labels, labels / 4)
    assert too_soft["calibration_slope"] == pytest.approx(4.0)
    against = following_metrics(labels, -labels)
    assert against["correlation"] == pytest.approx(-1.0) and against["calibration_slope"] == pytest.approx(-1.0)
    constant = following_metrics(labels, np.full(5, 0.1))
    assert constant["correlation"] is None and constant["calibration_slope"] is None
