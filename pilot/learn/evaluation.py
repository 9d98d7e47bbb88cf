"""Steering-regression metrics: pure functions of true and predicted steering (-1..1)."""
from __future__ import annotations

from typing import Any

import numpy as np

STEERING_RANGE = (-1.0, 1.0)


def _arrays(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, np.float64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.size} true values but {y_pred.size} predictions")
    if y_true.size == 0:
        raise ValueError("no examples to evaluate")
    return y_true, y_pred


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """MSE, MAE, RMSE and R² (1 - SSE/SST; None when every true value is the same)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    error = y_pred - y_true
    mse = float(np.mean(error**2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    return {
        "mse": mse,
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(mse)),
        "r2": 1.0 - float(np.sum(error**2)) / total if total > 0 else None,
    }


def constant_baseline(y_true: np.ndarray, constant: float) -> dict[str, float | None]:
    """The same metrics for a predictor that always answers `constant` (e.g. the training mean)."""
    y_true = np.asarray(y_true, np.float64).reshape(-1)
    return regression_metrics(y_true, np.full_like(y_true, constant))


def error_by_bin(
    y_true: np.ndarray, y_pred: np.ndarray, bins: int, value_range: tuple[float, float] = STEERING_RANGE
) -> list[dict[str, Any]]:
    """Errors grouped by true steering in `bins` equal-width bins; empty bins are left out.

    Values outside value_range count in the first or last bin.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    y_true, y_pred = _arrays(y_true, y_pred)
    edges = np.linspace(value_range[0], value_range[1], bins + 1)
    index = np.clip(np.digitize(y_true, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        members = index == b
        if not members.any():
            continue
        error = y_pred[members] - y_true[members]
        rows.append({
            "bin_low": float(edges[b]),
            "bin_high": float(edges[b + 1]),
            "bin_center": float((edges[b] + edges[b + 1]) / 2),
            "count": int(members.sum()),
            "mae": float(np.mean(np.abs(error))),
            "rmse": float(np.sqrt(np.mean(error**2))),
            "mean_error": float(np.mean(error)),
        })
    return rows


def label_pairs(record_steering: np.ndarray, val_frames: Any) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """(smoothed, raw) label per validation example from the split's val table, or (None, None, why).

    augment writes one validation example per frame, in the table's order, with its `steering`;
    the pairing holds only if the counts and those labels match (a skipped frame breaks it).
    """
    if "steering_raw" not in val_frames.columns:
        return None, None, "the validation table has no steering_raw column: run `dvc repro ingest` again"
    record_steering = np.asarray(record_steering, np.float64).reshape(-1)
    smoothed = val_frames["steering"].to_numpy(np.float64)
    if smoothed.size != record_steering.size or not np.allclose(smoothed, record_steering, atol=1e-6):
        return None, None, (f"the {record_steering.size} validation examples do not pair one to one with the "
                            f"{smoothed.size} frames of the validation table (a frame skipped by augment?)")
    return smoothed, val_frames["steering_raw"].to_numpy(np.float64), ""


def raw_and_smoothed_metrics(record_steering: np.ndarray, y_pred: np.ndarray,
                             val_frames: Any) -> tuple[dict[str, Any], str]:
    """model_vs_raw, model_vs_smoothed and how far smoothing moved the labels; None where they cannot pair."""
    smoothed, raw, why = label_pairs(record_steering, val_frames)
    if smoothed is None:
        return {"model_vs_raw": None, "model_vs_smoothed": None, "smoothed_vs_raw_labels": None}, why
    return {
        "model_vs_raw": regression_metrics(raw, y_pred),
        "model_vs_smoothed": regression_metrics(smoothed, y_pred),
        "smoothed_vs_raw_labels": regression_metrics(raw, smoothed),
    }, ""


def following_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """How well predictions follow a steering signal: regression_metrics, Pearson correlation, and the calibration
    slope (the least-squares slope of the labels on the predictions: 1 is calibrated, above 1 the model answers too
    softly, below 1 too strongly). None where a signal is constant."""
    y_true, y_pred = _arrays(y_true, y_pred)
    metrics = regression_metrics(y_true, y_pred)
    spread_true, spread_pred = float(np.std(y_true)), float(np.std(y_pred))
    covariance = float(np.mean((y_true - y_true.mean()) * (y_pred - y_pred.mean())))
    metrics["correlation"] = covariance / (spread_true * spread_pred) if spread_true > 0 and spread_pred > 0 else None
    metrics["calibration_slope"] = covariance / spread_pred**2 if spread_pred > 0 else None
    return metrics
