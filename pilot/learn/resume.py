"""Resume an interrupted training run from its last completed epoch, to the same model.

After every epoch a checkpoint folder `epoch-NNNN/` is written next to the others in the
resume folder (into a temporary name, renamed when complete, so a checkpoint on disk is
always whole): the weights with the optimizer's state, the dropout layers' random state,
the best model so far, a copy of DVCLive's folder and `state.json` (epochs done, best
val_loss, the history, and a key naming the params and records it belongs to).

Keras' BackupAndRestore keeps weights, optimizer and epoch only; a byte-identical model
also needs the dropout RNG state, the best-so-far val_loss of the checkpoint callback and
the position in the training data (the caller skips `epochs_done * steps` batches).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from pilot.atomic import replace_folder
from pilot.data.records import MANIFEST_NAME, SHARD_SUFFIX

STATE_NAME = "state.json"
WEIGHTS_NAME = "state.weights.h5"           # model weights + optimizer variables
RNG_NAME = "dropout_rng.npy"                # SeedGenerator states, which save_weights leaves out
BEST_MODEL_NAME = "best.keras"
LIVE_NAME = "dvclive"
TEMP_PREFIX = "tmp-"


@dataclass
class Checkpoint:
    """What a completed epoch leaves for a later run of the same params on the same records."""

    folder: Path
    epochs_done: int
    best_val_loss: float | None
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def best_model(self) -> Path:
        return self.folder / BEST_MODEL_NAME

    @property
    def live_dir(self) -> Path:
        return self.folder / LIVE_NAME


def run_key(params: dict[str, Any], records_dir: Path) -> str:
    """A digest of the train params, the records' manifest and the shards' names and sizes."""
    shards = sorted((path.name, path.stat().st_size) for path in Path(records_dir).glob(f"*{SHARD_SUFFIX}"))
    text = json.dumps({"params": params, "manifest": (Path(records_dir) / MANIFEST_NAME).read_text("utf-8"),
                       "shards": shards}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def epoch_folder(resume_dir: Path, epochs_done: int) -> Path:
    return resume_dir / f"epoch-{epochs_done:04d}"


def find_checkpoint(resume_dir: Path, key: str) -> Checkpoint | None:
    """The latest complete checkpoint written for `key`, or None (none, or other params/records)."""
    for folder in sorted(resume_dir.glob("epoch-*"), reverse=True):
        try:
            state = json.loads((folder / STATE_NAME).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if state.get("key") == key and (folder / WEIGHTS_NAME).is_file():
            return Checkpoint(folder, int(state["epochs_done"]), state["best_val_loss"], state["history"])
    return None


def _seed_generators(model: keras.Model) -> list[keras.random.SeedGenerator]:
    return [layer.seed_generator for layer in model.layers
            if isinstance(getattr(layer, "seed_generator", None), keras.random.SeedGenerator)]


def restore(model: keras.Model, checkpoint: Checkpoint) -> None:
    """Load a checkpoint's weights, optimizer state and dropout RNG state into a compiled model."""
    model.optimizer.build(model.trainable_variables)    # else load_weights skips the optimizer's variables
    model.load_weights(checkpoint.folder / WEIGHTS_NAME)
    states = np.load(checkpoint.folder / RNG_NAME)
    generators = _seed_generators(model)
    if len(states) != len(generators):
        raise ValueError(f"{checkpoint.folder} holds {len(states)} dropout states for {len(generators)} layers")
    for generator, state in zip(generators, states):
        generator.state.assign(state)


def start_live_dir(live_dir: Path, checkpoint: Checkpoint | None) -> None:
    """DVCLive's folder as the checkpoint left it (or empty): rows of unfinished epochs go."""
    shutil.rmtree(live_dir, ignore_errors=True)
    if checkpoint is not None and checkpoint.live_dir.is_dir():
        shutil.copytree(checkpoint.live_dir, live_dir)


def clear(resume_dir: Path) -> None:
    """Remove every checkpoint: after a completed run, or before a run that cannot use them."""
    shutil.rmtree(resume_dir, ignore_errors=True)


class EpochCheckpoint(keras.callbacks.Callback):
    """Writes a checkpoint after every epoch; put it after ModelCheckpoint and DVCLive's callback."""

    def __init__(self, resume_dir: Path, key: str, best_model: Path, live_dir: Path,
                 best_callback: keras.callbacks.ModelCheckpoint, checkpoint: Checkpoint | None,
                 keep_epochs: int = 1) -> None:
        """keep_epochs: the latest checkpoints kept (the weights averaged at the end need them); older go."""
        super().__init__()
        self.resume_dir, self.key, self.best_model, self.live_dir = resume_dir, key, best_model, live_dir
        self.keep_epochs = max(1, keep_epochs)
        self.best_callback = best_callback
        earlier = checkpoint.history if checkpoint else {}
        self.history: dict[str, list[float]] = {name: list(values) for name, values in earlier.items()}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        best = self.best_callback.best
        state = {"key": self.key, "epochs_done": epoch + 1, "history": self.history,
                 "best_val_loss": None if best is None else float(best)}
        final = epoch_folder(self.resume_dir, epoch + 1)
        temp = self.resume_dir / f"{TEMP_PREFIX}{final.name}"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
        self.model.save_weights(temp / WEIGHTS_NAME)
        np.save(temp / RNG_NAME, np.array([g.state.numpy() for g in _seed_generators(self.model)]))
        if self.best_model.is_file():
            shutil.copy2(self.best_model, temp / BEST_MODEL_NAME)
        if self.live_dir.is_dir():
            shutil.copytree(self.live_dir, temp / LIVE_NAME)
        (temp / STATE_NAME).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        replace_folder(temp, final)                     # the checkpoint appears whole or not at all
        kept = {epoch_folder(self.resume_dir, epoch + 1 - back) for back in range(self.keep_epochs)}
        for older in self.resume_dir.glob("epoch-*"):
            if older not in kept:
                shutil.rmtree(older, ignore_errors=True)


def epoch_weights(model: keras.Model, resume_dir: Path, epochs: range) -> list[list[np.ndarray]]:
    """The model weights at the end of each of `epochs` (1-based), read from their checkpoints into `model`
    (a compiled PilotNet of the same precision; its own weights are overwritten)."""
    model.optimizer.build(model.trainable_variables)
    weights = []
    for epoch in epochs:
        path = epoch_folder(resume_dir, epoch) / WEIGHTS_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: the weights of epoch {epoch} cannot be averaged; "
                                    f"remove {resume_dir} and train again")
        model.load_weights(path)
        weights.append(model.get_weights())
    return weights
