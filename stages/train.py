"""train: fit the seed's PilotNet (Adam, MSE) on the augment stage's TFRecord shards.

Publishes the best-validation epoch's model, or the mean of the last train.average_last_epochs
epochs' weights (auto: 4 on a recording under 1,000 training frames, else the best epoch), logs
loss and val_loss per epoch with DVCLive and
writes the final and best losses to a metrics file. After every epoch a checkpoint goes
to --resume-dir; a run interrupted with Ctrl+C continues from its last completed epoch
when run again with the same params on the same records, and ends with the same model
file as an uninterrupted run. --model is written only when training has finished. With
--litert-model the best model is also written as a LiteRT flatbuffer (.tflite; float32 unless
train.litert_quantization says otherwise) for `drive.py --runtime litert`.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import keras
import tensorflow as tf

from pilot.atomic import write_atomic
from pilot.data.records import make_dataset, read_manifest, shard_examples, shard_files, unreadable_shard_error
from pilot.learn import resume
from pilot.learn.litert import LITERT_SUFFIX, QUANTIZATIONS, save_litert
from pilot.learn.model import build_pilotnet, float32_copy
from pilot.learn.training import (
    average_weights,
    averaged_epochs,
    choose_average_last_epochs,
    choose_precision,
    configure_determinism,
    cpu_flags,
    fit,
    make_callbacks,
    make_strategy,
    reproducible_keras_archive,
    resolve_steps_per_epoch,
    summarise_history,
    visible_gpus,
)
from pilot.stage_io import load_params, stop_on_ctrl_c, write_metrics

EVAL_BATCH_SIZE = 500
INTERRUPTED_EXIT_CODE = 130            # 128 + SIGINT, what shells report for Ctrl+C
WORKING_BEST_NAME = "best.keras"       # the best model so far, in --resume-dir until training ends
AVERAGED_NAME = "averaged.keras"       # the averaged model, in --resume-dir until it is published


def publish_model(best_model: Path, model_path: Path, precision: str = "float32",
                  learning_rate: float = 1e-3) -> None:
    """Copy the best model to `model_path` in one step (a reader never sees half a file).

    A model trained in mixed precision is saved as its float32 copy (the same weights), so
    that evaluate, replay, the road test, the drive server and LiteRT all run float32.
    """
    if not best_model.is_file():
        raise ValueError("no epoch gave a finite val_loss, so no model was saved: lower train.learning_rate")
    if precision != "float32":
        float32_model = best_model.with_name(f"float32-{best_model.name}")
        float32_copy(keras.saving.load_model(best_model, compile=False), learning_rate).save(float32_model)
        best_model = float32_model
    write_atomic(model_path, reproducible_keras_archive(best_model))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="augment stage's folder (shards + manifest)")
    parser.add_argument("--model", type=Path, required=True, help="where to save the best model (.keras)")
    parser.add_argument("--metrics", type=Path, required=True, help="where to write the training metrics (JSON)")
    parser.add_argument("--live-dir", type=Path, required=True, help="DVCLive's folder (per-epoch curves)")
    parser.add_argument("--resume-dir", type=Path, default=Path(".train_resume"),
                        help="work folder for per-epoch checkpoints (removed when training ends)")
    parser.add_argument("--litert-model", type=Path, help=f"also write the best model here ({LITERT_SUFFIX})")
    args = parser.parse_args()
    stop_on_ctrl_c()
    try:
        train(args)
    except KeyboardInterrupt:
        interrupted(args.resume_dir)


def train(args: argparse.Namespace) -> None:
    params = load_params("train")
    try:
        if args.model.suffix != ".keras":
            raise ValueError(f"--model must end in .keras, got {args.model}")
        if args.litert_model and args.litert_model.suffix != LITERT_SUFFIX:
            raise ValueError(f"--litert-model must end in {LITERT_SUFFIX}, got {args.litert_model}")
        if params["litert_quantization"] not in QUANTIZATIONS:
            raise ValueError(f"train.litert_quantization must be one of {', '.join(QUANTIZATIONS)}, "
                             f"got {params['litert_quantization']}")
        strategy = make_strategy(str(params["distribute"]))
        precision = choose_precision(str(params["precision"]), visible_gpus(), cpu_flags())
        manifest = read_manifest(args.records)
        batch_size = int(params["batch_size"])
        epochs = int(params["epochs"])
        train_examples = int(manifest["splits"]["train"]["examples"])
        train_frames = int(manifest["splits"]["train"]["frames"])
        average_last = choose_average_last_epochs(params["average_last_epochs"], train_frames)
        averaged = averaged_epochs(epochs, average_last)
        steps = resolve_steps_per_epoch(train_examples, batch_size, params["steps_per_epoch"])
        train_files = shard_files(args.records, "train")
        val_files = shard_files(args.records, "val")
        key = resume.run_key(params, args.records)
        checkpoint = resume.find_checkpoint(args.resume_dir, key)
        if checkpoint is None:
            resume.clear(args.resume_dir)           # other params or records: start afresh
        epochs_done = checkpoint.epochs_done if checkpoint else 0
        best_model = args.resume_dir / WORKING_BEST_NAME
        best_model.unlink(missing_ok=True)
        if checkpoint is not None and checkpoint.best_model.is_file():
            shutil.copyfile(checkpoint.best_model, best_model)
        resume.start_live_dir(args.live_dir, checkpoint)
        configure_determinism(int(params["seed"]), bool(params["deterministic"]))
        encoding = manifest["image_encoding"]
        train_data = make_dataset(train_files, batch_size, training=True,
                                  shuffle_buffer=int(params["shuffle_buffer"]), seed=int(params["seed"]),
                                  skip_batches=epochs_done * steps, encoding=encoding)
        val_data = make_dataset(val_files, EVAL_BATCH_SIZE, training=False,
                                examples=int(manifest["splits"]["val"]["examples"]), encoding=encoding)
        with strategy.scope():                       # variables and optimizer state on every replica
            model = build_pilotnet(float(params["learning_rate"]), precision)
            if checkpoint is not None:
                resume.restore(model, checkpoint)
                print(f"resuming after epoch {epochs_done} of {epochs} from {checkpoint.folder}")
        replicas = strategy.num_replicas_in_sync
        print(f"distribute: {params['distribute']} -> {replicas} replica(s), "
              f"{batch_size / replicas:g} examples each per step of {batch_size}; "
              f"precision: {params['precision']} -> {precision}")
        print(f"training on {train_examples} examples, {steps} steps of {batch_size} per epoch, "
              f"{epochs} epochs; validating on {manifest['splits']['val']['examples']}")
        print(f"average_last_epochs: {params['average_last_epochs']} -> {average_last} ({train_frames} training "
              "frames): model.keras will be " + (f"the mean of epochs {averaged[0]}-{averaged[-1]}" if averaged
                                                  else "the epoch with the best val_loss"))
        callbacks = make_callbacks(best_model, args.live_dir, epochs_done,
                                   checkpoint.best_val_loss if checkpoint else None)
        saver = resume.EpochCheckpoint(args.resume_dir, key, best_model, args.live_dir, callbacks[0], checkpoint,
                                       keep_epochs=len(averaged))
        started = time.perf_counter()
        try:
            fit(model, train_data, val_data, epochs, steps, [*callbacks, saver], initial_epoch=epochs_done)
        except (tf.errors.DataLossError, tf.errors.FailedPreconditionError) as exc:  # broken record, too few
            raise unreadable_shard_error([*train_files, *val_files], shard_examples(manifest)) from exc
        seconds = time.perf_counter() - started
        history = saver.history                   # every epoch, the resumed run's and the earlier ones
        published, averaged_val_loss = best_model, None
        if averaged:
            published = args.resume_dir / AVERAGED_NAME
            averaged_val_loss = save_averaged_model(model, args.resume_dir, averaged, val_data, published)
        publish_model(published, args.model, precision, float(params["learning_rate"]))
        if args.litert_model:
            from pilot.learn.model_file import ModelFileError, load_model_file
            try:
                save_litert(load_model_file(args.model).model, args.litert_model, params["litert_quantization"])
            except ModelFileError as error:
                raise ValueError(str(error)) from error
        resume.clear(args.resume_dir)
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f"train: {exc}")
    except KeyError as exc:
        sys.exit(f"train: params.yaml's train section or the manifest lacks {exc}: see the README")
    summary = summarise_history(history, steps, batch_size)
    summary.update(average_last_epochs=average_last)
    if averaged:           # what model.keras is: these epochs' mean, and its loss on the same validation examples
        summary.update(averaged_epochs=[averaged[0], averaged[-1]], averaged_val_loss=averaged_val_loss)
    summary.update(precision=precision, stored_train_examples=train_examples,
                   # how often each stored example came round (augment.copies_per_frame: auto keeps it near 10)
                   passes_over_stored_examples=round(summary["epochs"] * summary["examples_per_epoch"]
                                                     / train_examples, 2))
    write_metrics(args.metrics, summary)
    images = (epochs - epochs_done) * steps * batch_size
    kept = (f"the mean of the weights of epochs {averaged[0]}-{averaged[-1]} (val_loss {averaged_val_loss:.5f})"
            if averaged else f"epoch {summary['best_epoch']}'s model")
    print(f"trained in {seconds:.0f} s ({images / max(seconds, 1e-9):.0f} img/s including validation); "
          f"best val_loss {summary['best_val_loss']:.5f} at epoch {summary['best_epoch']}; "
          f"{kept} saved to {args.model}" + (f" and {args.litert_model}" if args.litert_model else ""))


def save_averaged_model(model: keras.Model, resume_dir: Path, epochs: range, val_data: tf.data.Dataset,
                        path: Path) -> float:
    """`model` given the mean of `epochs`' weights (from their checkpoints in `resume_dir`), saved to `path`;
    returns its validation loss."""
    model.set_weights(average_weights(resume.epoch_weights(model, resume_dir, epochs)))
    val_loss = float(model.evaluate(val_data, verbose=0))
    model.save(path)
    return val_loss


def interrupted(resume_dir: Path) -> None:
    """Ctrl+C: one sentence on what is kept, exit 130."""
    done = sorted(resume_dir.glob("epoch-*"))
    kept = (f"epoch {int(done[-1].name.split('-')[1])} is saved in {resume_dir}: run it again to continue from there"
            if done else "no epoch had finished")
    print(f"train: interrupted; {kept}.", file=sys.stderr)
    sys.exit(INTERRUPTED_EXIT_CODE)


if __name__ == "__main__":
    main()
