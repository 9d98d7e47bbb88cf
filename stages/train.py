"""train: fit the seed's PilotNet (Adam, MSE) on the augment stage's TFRecord shards.

Keeps the best-validation model, logs loss and val_loss per epoch with DVCLive and
writes the final and best losses to a metrics file. With --litert-model it also writes
the best model as a LiteRT flatbuffer (.tflite; float32 unless litert_quantization says
otherwise) for `drive.py --runtime litert`.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import keras

from pilot.litert import LITERT_SUFFIX, QUANTIZATIONS, save_litert
from pilot.metrics_file import write_metrics
from pilot.model import build_pilotnet
from pilot.params import load_params
from pilot.records import make_dataset, read_manifest, shard_files
from pilot.training import (
    configure_determinism,
    fit,
    make_callbacks,
    make_keras_file_reproducible,
    resolve_steps_per_epoch,
    summarize,
)

EVAL_BATCH_SIZE = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="augment stage's folder (shards + manifest)")
    parser.add_argument("--model", type=Path, required=True, help="where to save the best model (.keras)")
    parser.add_argument("--metrics", type=Path, required=True, help="where to write the training metrics (JSON)")
    parser.add_argument("--live-dir", type=Path, required=True, help="DVCLive's folder (per-epoch curves)")
    parser.add_argument("--litert-model", type=Path, help=f"also write the best model here ({LITERT_SUFFIX})")
    args = parser.parse_args()
    params = load_params("train")
    try:
        if args.model.suffix != ".keras":
            raise ValueError(f"--model must end in .keras, got {args.model}")
        if args.litert_model and args.litert_model.suffix != LITERT_SUFFIX:
            raise ValueError(f"--litert-model must end in {LITERT_SUFFIX}, got {args.litert_model}")
        if params["litert_quantization"] not in QUANTIZATIONS:
            raise ValueError(f"train.litert_quantization must be one of {', '.join(QUANTIZATIONS)}, "
                             f"got {params['litert_quantization']}")
        manifest = read_manifest(args.records)
        batch_size = int(params["batch_size"])
        train_examples = int(manifest["splits"]["train"]["examples"])
        steps = resolve_steps_per_epoch(train_examples, batch_size, params["steps_per_epoch"])
        configure_determinism(int(params["seed"]), bool(params["deterministic"]))
        encoding = manifest["image_encoding"]
        train_data = make_dataset(shard_files(args.records, "train"), batch_size, training=True,
                                  shuffle_buffer=int(params["shuffle_buffer"]), seed=int(params["seed"]),
                                  encoding=encoding)
        val_data = make_dataset(shard_files(args.records, "val"), EVAL_BATCH_SIZE, training=False,
                                examples=int(manifest["splits"]["val"]["examples"]), encoding=encoding)
        model = build_pilotnet(float(params["learning_rate"]))
        print(f"training on {train_examples} examples, {steps} steps of {batch_size} per epoch, "
              f"{params['epochs']} epochs; validating on {manifest['splits']['val']['examples']}")
        started = time.perf_counter()
        history = fit(model, train_data, val_data, int(params["epochs"]), steps,
                      make_callbacks(args.model, args.live_dir))
        seconds = time.perf_counter() - started
        make_keras_file_reproducible(args.model)
        if args.litert_model:
            save_litert(keras.models.load_model(args.model, compile=False), args.litert_model,
                        params["litert_quantization"])
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f"train: {exc}")
    except KeyError as exc:
        sys.exit(f"train: params.yaml's train section or the manifest lacks {exc}: see the README")
    summary = summarize(history, steps, batch_size)
    write_metrics(args.metrics, summary)
    images = int(params["epochs"]) * steps * batch_size
    print(f"trained in {seconds:.0f} s ({images / seconds:.0f} img/s including validation); "
          f"best val_loss {summary['best_val_loss']:.5f} at epoch {summary['best_epoch']}, "
          f"model saved to {args.model}" + (f" and {args.litert_model}" if args.litert_model else ""))


if __name__ == "__main__":
    main()
