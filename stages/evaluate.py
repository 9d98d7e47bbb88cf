"""evaluate: the trained model on the validation shards, next to a constant predictor.

Writes MSE, MAE, RMSE and R² for the model and for a predictor that always answers
the training set's mean steering, the predicted-vs-true pairs and the error by
steering bin (CSV plots). The model may be any file the drive server takes: one that takes
the seed's preprocessed image reads the validation shards; one that takes the camera frame
as it is (160x320x3) reads the validation frames' centre JPEGs (--val). `model` is measured
against the labels the model trained on (smoothed when ingest.smooth_steering_s is set); with
--val, `model_vs_raw` and
`model_vs_smoothed` measure it against the recorded and the smoothed steering.

With --test-log (ingest's table of ingest.test_sources, recordings training never saw), `test`
scores the model on each of them (pilot.holdout): correlation, MSE and calibration slope against
the recorded and the 1 s-smoothed steering, and the lateral response on their own side cameras.

What is scored on camera frames (the lateral response, the test recordings, a camera-frame model's
validation) is the steering the drive server gives: with `evaluate.flip_average`, as with
`drive.flip_average`, the mean of the frame's and its mirror's. The validation shards hold the
preprocessed image, which cannot be mirrored through the rig, so `model` there is the network alone.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.data.frames import read_frames
from pilot.data.records import make_dataset, read_manifest, shard_examples, shard_files, unreadable_shard_error
from pilot.holdout import lateral_on_frames, score_recording
from pilot.imaging import SEED_INPUT
from pilot.learn.evaluation import constant_baseline, error_by_bin, raw_and_smoothed_metrics, regression_metrics
from pilot.learn.model_file import TRUST_FLAG
from pilot.learn.runtime import flip_average_setting, load_stage_model
from pilot.replay.rig_fit import spread
from pilot.stage_io import load_params, write_metrics
from pilot.udacity.images import read_jpeg_rgb

BATCH_SIZE = 500


def predict(
    model, files: list[str], examples: int, examples_by_file: dict[str, int] | None = None,
    encoding: str = "png",
) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) steering for every example in `files`, in file order."""
    import tensorflow as tf

    truths, predictions = [], []
    try:
        for images, steering in make_dataset(files, BATCH_SIZE, training=False, examples=examples,
                                                 encoding=encoding):
            predictions.append(model(images, training=False).numpy().reshape(-1))
            truths.append(steering.numpy())
    except (tf.errors.DataLossError, tf.errors.FailedPreconditionError):   # broken record, or too few
        raise unreadable_shard_error(files, examples_by_file) from None
    return np.concatenate(truths), np.concatenate(predictions)


def predict_camera_frames(predictor, val_frames: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) steering on each validation frame's centre JPEG, for a model that takes the camera frame."""
    predictions = [predictor.predict_rgb(read_jpeg_rgb(str(path))) for path in val_frames["center"]]
    return val_frames["steering"].to_numpy(dtype=float), np.asarray(predictions, dtype=float)


def lateral_metrics(predictor, val_frames: pd.DataFrame, trained_correction: float | None, count: int) -> dict:
    """The model's answer to being off its line (pilot.replay.lateral) on `count` validation frames, with the rig
    fitted to their own side cameras."""
    return lateral_on_frames(predictor.predict_rgb, val_frames.iloc[spread(len(val_frames), count)], ".",
                             trained_correction)


def test_metrics(predictor, test_frames: pd.DataFrame, trained_correction: float | None, every: int,
                 lateral_frames: int) -> dict:
    """pilot.holdout's scores for each test recording, printed one line each."""
    scores = {}
    for name, rows in test_frames.groupby("recording", sort=True):
        try:
            found = score_recording(predictor.predict_rgb, rows, ".", every, trained_correction, lateral_frames)
        except FileNotFoundError as exc:
            sys.exit(f"evaluate: test recording '{name}': {exc}")
        scores[str(name)] = found
        lateral = found.get("lateral_response", {})
        print(f"evaluate: test recording {name} ({found['frames']} frames): correlation with the steering "
              f"{found['vs_raw']['correlation']}, with it smoothed over 1 s {found['vs_smoothed']['correlation']} "
              f"(calibration slope {found['vs_smoothed']['calibration_slope']}); side cameras "
              f"{lateral.get('share_of_correction')} of the trained correction")
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="augment stage's folder (shards + manifest)")
    parser.add_argument("--model", type=Path, required=True, help="the trained model (.keras)")
    parser.add_argument("--metrics", type=Path, required=True, help="where to write the metrics (JSON)")
    parser.add_argument("--plots-dir", type=Path, required=True, help="folder for the CSV plots")
    parser.add_argument("--val", type=Path, help="split stage's val.csv (raw and smoothed labels per frame)")
    parser.add_argument("--test-log", type=Path, help="ingest's test_log.csv: recordings training never saw")
    parser.add_argument(TRUST_FLAG, dest="trust_model_code", action="store_true",
                        help="let code stored in the model file run (only for a file you made or trust)")
    args = parser.parse_args()
    params = load_params("evaluate")
    try:
        manifest = read_manifest(args.records)
        train_mean = float(manifest["splits"]["train"]["steering_mean"])
        val_frames = read_frames(args.val, made_by="split") if args.val else None
        test_frames = read_frames(args.test_log, made_by="ingest", allow_empty=True) if args.test_log else None
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f"evaluate: {exc}")
    except KeyError as exc:
        sys.exit(f"evaluate: the manifest lacks {exc}: run the augment stage again")
    try:
        flip_average = flip_average_setting(params["flip_average"], "evaluate")
    except ValueError as exc:
        sys.exit(f"evaluate: {exc}")
    except KeyError as exc:
        sys.exit(f"evaluate: params.yaml's evaluate section lacks {exc}: see the README")
    served = load_stage_model("evaluate", args.model, args.trust_model_code, flip_average=flip_average)
    try:
        if served.predictor.contract == SEED_INPUT:
            y_true, y_pred = predict(served.keras_model, shard_files(args.records, "val"),
                                     int(manifest["splits"]["val"]["examples"]), shard_examples(manifest),
                                     manifest["image_encoding"])
        elif val_frames is not None:
            y_true, y_pred = predict_camera_frames(served.predictor, val_frames)
        else:
            raise ValueError(f"{args.model.name} takes the camera frame, not the preprocessed shards: "
                             f"pass --val data/split/val.csv to evaluate it on the frames' JPEGs.")
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
    if val_frames is not None:
        labels, why = raw_and_smoothed_metrics(y_true, y_pred, val_frames)
        metrics.update(labels)
        if why:
            print(f"evaluate: no raw-vs-smoothed metrics: {why}")
        if int(params["lateral_frames"]) > 0:
            correction = manifest.get("params", {}).get("steering_correction")
            lateral = lateral_metrics(served.predictor, val_frames, correction, int(params["lateral_frames"]))
            metrics["lateral_response"] = lateral
            print(f"evaluate: lateral response on {lateral['frames']} validation frames: left camera "
                  f"{lateral['left_camera']:+.3f}, right {lateral['right_camera']:+.3f} (trained with +-{correction}: "
                  f"{lateral['share_of_correction']} of it); synthesised offsets {lateral['synthesised_offset_m']}")
    if test_frames is not None and not test_frames.empty:
        correction = manifest.get("params", {}).get("steering_correction")
        metrics["test"] = test_metrics(served.predictor, test_frames, correction, int(params["test_every"]),
                                       int(params["lateral_frames"]))
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
