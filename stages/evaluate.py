"""evaluate: the trained model on the validation shards, next to a constant predictor.

Writes MSE, MAE, RMSE and R² for the model and for a predictor that always answers
the training set's mean steering, the predicted-vs-true pairs and the error by
steering bin (CSV plots).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.evaluation import constant_baseline, error_by_bin, regression_metrics
from pilot.metrics_file import write_metrics
from pilot.params import load_params
from pilot.records import make_dataset, read_manifest, shard_files

BATCH_SIZE = 500


def predict(model_path: Path, files: list[str], examples: int, encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) steering for every example in `files`, in file order."""
    import keras

    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path} not found: run the train stage first (dvc repro train)")
    model = keras.models.load_model(model_path, compile=False)
    truths, predictions = [], []
    for images, steering in make_dataset(files, BATCH_SIZE, training=False, examples=examples, encoding=encoding):
        predictions.append(model(images, training=False).numpy().reshape(-1))
        truths.append(steering.numpy())
    return np.concatenate(truths), np.concatenate(predictions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="augment stage's folder (shards + manifest)")
    parser.add_argument("--model", type=Path, required=True, help="the trained model (.keras)")
    parser.add_argument("--metrics", type=Path, required=True, help="where to write the metrics (JSON)")
    parser.add_argument("--plots-dir", type=Path, required=True, help="folder for the CSV plots")
    args = parser.parse_args()
    params = load_params("evaluate")
    try:
        manifest = read_manifest(args.records)
        train_mean = float(manifest["splits"]["train"]["steering_mean"])
        y_true, y_pred = predict(args.model, shard_files(args.records, "val"),
                                 int(manifest["splits"]["val"]["examples"]), manifest["image_encoding"])
        bins = error_by_bin(y_true, y_pred, int(params["steering_bins"]))
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
    write_metrics(args.metrics, metrics)
    args.plots_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"true_steering": y_true, "predicted_steering": y_pred}).to_csv(
        args.plots_dir / "predictions.csv", index=False, float_format="%.5f")
    pd.DataFrame(bins).to_csv(args.plots_dir / "error_by_bin.csv", index=False, float_format="%.5f")
    print(f"validation ({y_true.size} examples): model MSE {model_metrics['mse']:.5f}, "
          f"constant {train_mean:+.3f} MSE {baseline['mse']:.5f}; model R² {model_metrics['r2']}")


if __name__ == "__main__":
    main()
