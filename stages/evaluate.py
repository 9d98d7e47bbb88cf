"""evaluate: the trained model on the validation shards, next to a constant predictor.

Writes MSE, MAE, RMSE and R² for the model and for a predictor that always answers
the training set's mean steering, the predicted-vs-true pairs and the error by
steering bin (CSV plots). `model` is measured against the labels the model trained on
(smoothed when ingest.smooth_steering_s is set); with --val, `model_vs_raw` and
`model_vs_smoothed` measure it against the recorded and the smoothed steering.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.data.records import make_dataset, read_manifest, shard_examples, shard_files, unreadable_shard_error
from pilot.data.frames import read_frames
from pilot.learn.evaluation import constant_baseline, error_by_bin, raw_and_smoothed_metrics, regression_metrics
from pilot.stage_io import load_params, write_metrics

BATCH_SIZE = 500


def predict(
    model_path: Path, files: list[str], examples: int, examples_by_file: dict[str, int] | None = None,
    encoding: str = "png",
) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) steering for every example in `files`, in file order."""
    import tensorflow as tf

    from pilot.learn.model import load_keras_archive

    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path} not found: run the train stage first (dvc repro train)")
    model = load_keras_archive(model_path)
    truths, predictions = [], []
    try:
        for images, steering in make_dataset(files, BATCH_SIZE, training=False, examples=examples,
                                                 encoding=encoding):
            predictions.append(model(images, training=False).numpy().reshape(-1))
            truths.append(steering.numpy())
    except (tf.errors.DataLossError, tf.errors.FailedPreconditionError):   # broken record, or too few
        raise unreadable_shard_error(files, examples_by_file) from None
    return np.concatenate(truths), np.concatenate(predictions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="augment stage's folder (shards + manifest)")
    parser.add_argument("--model", type=Path, required=True, help="the trained model (.keras)")
    parser.add_argument("--metrics", type=Path, required=True, help="where to write the metrics (JSON)")
    parser.add_argument("--plots-dir", type=Path, required=True, help="folder for the CSV plots")
    parser.add_argument("--val", type=Path, help="split stage's val.csv (raw and smoothed labels per frame)")
    args = parser.parse_args()
    params = load_params("evaluate")
    try:
        manifest = read_manifest(args.records)
        train_mean = float(manifest["splits"]["train"]["steering_mean"])
        y_true, y_pred = predict(args.model, shard_files(args.records, "val"),
                                 int(manifest["splits"]["val"]["examples"]), shard_examples(manifest),
                                 manifest["image_encoding"])
        bins = error_by_bin(y_true, y_pred, int(params["steering_bins"]))
        val_frames = read_frames(args.val, made_by="split") if args.val else None
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f"evaluate: {exc}")
    except KeyError as exc:
        sys.exit(f"evaluate: params.yaml's evaluate section or the manifest lacks {exc}: see the README")
    model_metrics = regression_metrics(y_true, y_pred)
    baseline = constant_baseline(y_true, train_mean)
    metrics = {
        "examples": int(y_true.size),
        "model": model_metrics,
        "constant_baseline": {**baseline, "value": train_mean},
        "mse_ratio_to_baseline": model_metrics["mse"] / baseline["mse"] if baseline["mse"] > 0 else None,
    }
    if val_frames is not None:
        labels, why = raw_and_smoothed_metrics(y_true, y_pred, val_frames)
        metrics.update(labels)
        if why:
            print(f"evaluate: no raw-vs-smoothed metrics: {why}")
    write_metrics(args.metrics, metrics)
    args.plots_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"true_steering": y_true, "predicted_steering": y_pred}).to_csv(
        args.plots_dir / "predictions.csv", index=False, float_format="%.5f")
    pd.DataFrame(bins).to_csv(args.plots_dir / "error_by_bin.csv", index=False, float_format="%.5f")
    print(f"validation ({y_true.size} examples): model MSE {model_metrics['mse']:.5f}, "
          f"constant {train_mean:+.3f} MSE {baseline['mse']:.5f}; model R² {model_metrics['r2']}")
    if metrics.get("model_vs_raw"):
        print(f"validation: model MSE {metrics['model_vs_raw']['mse']:.5f} against the raw steering, "
              f"{metrics['model_vs_smoothed']['mse']:.5f} against the smoothed")


if __name__ == "__main__":
    main()
