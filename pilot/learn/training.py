"""Fitting PilotNet on the TFRecord shards: seeding, determinism, callbacks, the fit summary."""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)            # reproducible-build convention for archive dates


def configure_determinism(seed: int, deterministic: bool) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TensorFlow ops deterministic.

    Op determinism cannot be switched off again in the same process.
    """
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


DISTRIBUTE_MODES = ("auto", "none", "mirrored")


def choose_devices(mode: str, gpus: list[str], cpus: list[str]) -> list[str]:
    """The devices training replicates the model over; one device means no replication.

    none: the default device. mirrored: every visible GPU, or with none every logical CPU
    device (one, unless TensorFlow was told to split the CPU). auto: mirrored when more
    than one GPU is visible, else none.
    """
    if mode not in DISTRIBUTE_MODES:
        raise ValueError(f"train.distribute must be one of {', '.join(DISTRIBUTE_MODES)}, got {mode!r}")
    if mode == "mirrored" or (mode == "auto" and len(gpus) > 1):
        return list(gpus or cpus)
    return []


def visible_gpus() -> list[str]:
    """The GPUs TensorFlow sees, by device name: what train.distribute and train.precision decide on."""
    return [d.name for d in tf.config.list_logical_devices("GPU")]


def make_strategy(mode: str) -> tf.distribute.Strategy:
    """train.distribute as a tf.distribute strategy: build and compile the model in its scope().

    With MirroredStrategy every replica holds a copy of the model and takes an equal share
    of each batch; the gradients are averaged, so train.batch_size is the global batch.
    """
    devices = choose_devices(mode, visible_gpus(), [d.name for d in tf.config.list_logical_devices("CPU")])
    if not devices:
        return tf.distribute.get_strategy()          # the default: one device, no replication
    return tf.distribute.MirroredStrategy(devices)


PRECISION_SETTINGS = ("auto", "float32", "mixed_bfloat16")
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")    # /proc/cpuinfo: the CPU multiplies bfloat16 itself
CPU_INFO = Path("/proc/cpuinfo")


def cpu_flags(cpu_info: Path = CPU_INFO) -> set[str]:
    """The CPU's feature flags as Linux lists them; empty where there is no /proc/cpuinfo (macOS, Windows)."""
    try:
        text = cpu_info.read_text()
    except OSError:
        return set()
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split()}


def choose_precision(setting: str, gpus: list[str], flags: set[str]) -> str:
    """train.precision as the Keras dtype policy training runs under.

    auto: mixed_bfloat16 on a CPU that does bfloat16 arithmetic natively (AVX512-BF16 or AMX:
    about 1.5x faster steps; elsewhere bfloat16 is emulated and slower than float32), float32
    everywhere else, GPUs included (not measured there). The saved model is float32 either way.
    """
    if setting not in PRECISION_SETTINGS:
        raise ValueError(f"train.precision must be one of {', '.join(PRECISION_SETTINGS)}, got {setting!r}")
    if setting != "auto":
        return setting
    if not gpus and any(flag in flags for flag in NATIVE_BF16_CPU_FLAGS):
        return "mixed_bfloat16"
    return "float32"


def resolve_steps_per_epoch(train_examples: int, batch_size: int, steps_per_epoch: int | None) -> int:
    """The params' steps_per_epoch, or (null) the batches in one pass over the training examples."""
    if steps_per_epoch is not None:
        if steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be at least 1 or null, got {steps_per_epoch}")
        return int(steps_per_epoch)
    if train_examples < batch_size:
        raise ValueError(
            f"{train_examples} training examples cannot fill one batch of {batch_size}: "
            "lower train.batch_size or raise augment.copies_per_frame"
        )
    return train_examples // batch_size


def make_callbacks(
    model_path: Path, live_dir: Path, epochs_done: int = 0, best_val_loss: float | None = None
) -> list[keras.callbacks.Callback]:
    """Keep the best-validation model; log loss and val_loss per epoch with DVCLive.

    A resumed run (epochs_done > 0) keeps the curves already in `live_dir` and saves a
    model only when it beats `best_val_loss`, as the uninterrupted run would have.
    """
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback
    from scmrepo.exceptions import SCMError

    model_path.parent.mkdir(parents=True, exist_ok=True)
    # dvc.yaml declares the plots itself: DVCLive must neither edit it nor save experiments.
    try:
        live = Live(dir=str(live_dir), dvcyaml=False, save_dvc_exp=False, report=None, resume=epochs_done > 0)
    except SCMError as exc:                          # DVCLive 3.49 reads HEAD even when it has no use for it
        raise ValueError(f"DVCLive cannot start in a git repository with no commit ({exc}): "
                         "commit the project once (git add -A && git commit) before training") from exc
    if epochs_done > 0:
        live.step = epochs_done          # DVCLive's resume reads step 0 back as "nothing logged yet"
    return [
        keras.callbacks.ModelCheckpoint(str(model_path), monitor="val_loss", save_best_only=True, verbose=1,
                                        initial_value_threshold=best_val_loss),
        DVCLiveCallback(live=live),
    ]


def fit(
    model: keras.Model,
    train_data: tf.data.Dataset,
    val_data: tf.data.Dataset,
    epochs: int,
    steps_per_epoch: int,
    callbacks: list[keras.callbacks.Callback],
    verbose: int | str = 1,
    initial_epoch: int = 0,
) -> dict[str, list[float]]:
    """model.fit with the Keras progress bar; returns the history of the epochs it ran."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    history = model.fit(
        train_data,
        validation_data=val_data,
        epochs=epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,                  # the dataset shuffles itself
        verbose=verbose,
    )
    return {key: [float(value) for value in values] for key, values in history.history.items()}


def summarise_history(history: dict[str, list[float]], steps_per_epoch: int, batch_size: int) -> dict[str, Any]:
    """metrics/train.json: final and best losses (MSE, steering units squared) and the schedule."""
    val_loss = history["val_loss"]
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    return {
        "loss": history["loss"][-1],
        "val_loss": val_loss[-1],
        "best_val_loss": val_loss[best],
        "best_epoch": best + 1,
        "epochs": len(val_loss),
        "steps_per_epoch": steps_per_epoch,
        "examples_per_epoch": steps_per_epoch * batch_size,
    }


SHORT_RECORDING_TRAIN_FRAMES = 1000   # under this many training frames, `auto` averages (a lap of a few minutes)
SHORT_RECORDING_AVERAGED_EPOCHS = 4   # and this many epochs (README: Averaging the last epochs' weights)


def choose_average_last_epochs(setting: int | str, train_frames: int) -> int:
    """train.average_last_epochs: a number as given, or `auto`: SHORT_RECORDING_AVERAGED_EPOCHS for a short
    recording (fewer than SHORT_RECORDING_TRAIN_FRAMES training frames, where the validation loss that picks
    the best epoch is noise and the mean answered the side cameras more, measured on two real laps), else 0
    (the best epoch: on the default data's 4,109 training frames the mean held the road test's line less well)."""
    if setting == "auto":
        return SHORT_RECORDING_AVERAGED_EPOCHS if train_frames < SHORT_RECORDING_TRAIN_FRAMES else 0
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 0:
        raise ValueError(f"train.average_last_epochs must be auto, 0 (keep the best val_loss epoch) or a number "
                         f"of epochs, got {setting!r}")
    return setting


def averaged_epochs(epochs: int, average_last_epochs: int) -> range:
    """The epochs (1-based) whose weights make the published model: the last `average_last_epochs` (all of
    them when there are fewer, as in a one-epoch experiment), or none (0: the best-validation epoch instead)."""
    return range(max(1, epochs - average_last_epochs + 1), epochs + 1) if average_last_epochs > 0 else range(0)


def average_weights(weight_sets: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The element-wise mean of several weight lists of one architecture (stochastic weight averaging's
    tail average: points along the end of training, averaged, sit nearer the middle of the valley they
    wander in than any one of them). Accumulated in float64, returned in each weight's own dtype."""
    if not weight_sets:
        raise ValueError("no weights to average")
    return [np.mean(np.stack([np.asarray(w, np.float64) for w in same]), axis=0).astype(np.asarray(same[0]).dtype)
            for same in zip(*weight_sets, strict=True)]


def reproducible_keras_archive(path: Path) -> bytes:
    """A saved .keras archive's bytes, rewritten so that the same weights always give the same bytes.

    Keras stamps the save time into metadata.json and memory addresses into config.json
    ("shared_object_id"), and dates the weights member. The times become the zip epoch
    and the addresses are numbered in order of appearance; what loads is unchanged.
    """
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    rewritten = []
    for info, data in members:
        if info.filename == "metadata.json":
            metadata = json.loads(data)
            metadata["date_saved"] = "{:04d}-{:02d}-{:02d}@{:02d}:{:02d}:{:02d}".format(*ZIP_EPOCH)
            data = json.dumps(metadata).encode()
        elif info.filename == "config.json":
            text = data.decode()
            addresses = dict.fromkeys(re.findall(r'"shared_object_id": (\d+)', text))
            numbers = {address: str(number) for number, address in enumerate(addresses, 1)}
            text = re.sub(r'("shared_object_id": )(\d+)', lambda m: m.group(1) + numbers[m.group(2)], text)
            data = text.encode()
        rewritten.append((zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH), info.compress_type, data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, compress_type, data in rewritten:
            info.compress_type = compress_type
            archive.writestr(info, data)
    return buffer.getvalue()
