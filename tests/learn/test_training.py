"""Fitting helpers: schedule, summary, best checkpoint and DVCLive curves on a tiny real fit.

Op determinism is process-wide and cannot be undone, so the same-seed-same-model
check runs the train stage in its own process (tests/test_stages_learning.py).
"""
from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pandas as pd
import pytest

from pilot.data.examples import ExampleSpec, iter_examples, plan_tasks
from pilot.data.records import ShardWriter, make_dataset, serialize_example, shard_files
from pilot.learn import resume
from pilot.learn.model import build_pilotnet, float32_copy
from pilot.learn.training import (
    average_weights,
    averaged_epochs,
    choose_average_last_epochs,
    choose_devices,
    choose_precision,
    configure_determinism,
    cpu_flags,
    fit,
    make_callbacks,
    reproducible_keras_archive,
    resolve_steps_per_epoch,
    summarise_history,
)
from pilot.testing.synthetic import write_split_csvs

GPUS = ["/device:GPU:0", "/device:GPU:1"]
CPUS = ["/device:CPU:0", "/device:CPU:1"]


@pytest.mark.parametrize("mode, gpus, cpus, devices", [
    ("auto", GPUS, CPUS[:1], GPUS),              # two GPUs: mirrored on both
    ("auto", GPUS[:1], CPUS[:1], []),            # one GPU: the default strategy
    ("auto", [], CPUS, []),                      # a split CPU alone does not turn mirroring on
    ("none", GPUS, CPUS, []),
    ("mirrored", GPUS[:1], CPUS, GPUS[:1]),      # GPUs first, even one
    ("mirrored", [], CPUS, CPUS),                # no GPU: every logical CPU device
])
def test_distribute_modes_choose_the_devices(mode, gpus, cpus, devices):
    assert choose_devices(mode, gpus, cpus) == devices


def test_an_unknown_distribute_mode_names_the_choices():
    with pytest.raises(ValueError, match="one of auto, none, mirrored, got 'tpu'"):
        choose_devices("tpu", [], CPUS)


def test_callbacks_in_a_repository_with_no_commit_ask_for_one(tmp_path, monkeypatch):
    import subprocess
    import sys

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="commit the project once"):
        make_callbacks(tmp_path / "models" / "model.keras", tmp_path / "dvclive")


def test_steps_per_epoch_defaults_to_one_pass():
    assert resolve_steps_per_epoch(1050, 100, None) == 10
    assert resolve_steps_per_epoch(1050, 100, 3) == 3
    with pytest.raises(ValueError, match="cannot fill one batch"):
        resolve_steps_per_epoch(50, 100, None)
    with pytest.raises(ValueError, match="at least 1"):
        resolve_steps_per_epoch(1050, 100, 0)


def test_summary_reports_the_best_epoch_one_based():
    history = {"loss": [0.5, 0.3, 0.2], "val_loss": [0.4, 0.1, 0.2]}
    assert summarise_history(history, steps_per_epoch=7, batch_size=10) == {
        "loss": 0.2, "val_loss": 0.2, "best_val_loss": 0.1, "best_epoch": 2, "epochs": 3,
        "steps_per_epoch": 7, "examples_per_epoch": 70}


def _tiny_datasets(tmp_path, frames: int = 10):
    """Train and val datasets of `frames` synthetic frames (train: 3 augmented copies each), batches of 10."""
    table = pd.read_csv(write_split_csvs(tmp_path / "recording", frames=frames, seed=4)[0])
    for split, augment, copies in (("train", True, 3), ("val", False, 1)):
        tasks = plan_tasks(table, copies, shuffle_seed=1)
        with ShardWriter(tmp_path / "records", split, len(tasks), shard_size=16) as writer:
            for example in iter_examples(tasks, ExampleSpec(split, 1, augment, 0.15), workers=1):
                writer.write(serialize_example(example.image, example.steering))
    train = make_dataset(shard_files(tmp_path / "records", "train"), 10, training=True, shuffle_buffer=30, seed=2)
    val = make_dataset(shard_files(tmp_path / "records", "val"), 10, training=False, examples=len(table))
    return train, val


def test_fit_keeps_the_best_model_and_logs_both_curves(tmp_path):
    train, val = _tiny_datasets(tmp_path)
    configure_determinism(seed=2, deterministic=False)
    model = build_pilotnet(1e-3)
    assert model.count_params() == 252_219
    model_path, live_dir = tmp_path / "models" / "model.keras", tmp_path / "dvclive"
    history = fit(model, train, val, epochs=2, steps_per_epoch=2,
                  callbacks=make_callbacks(model_path, live_dir), verbose=0)
    assert len(history["loss"]) == len(history["val_loss"]) == 2
    best = keras.models.load_model(model_path)
    images, steering = next(iter(val))
    best_loss = best.evaluate(images.numpy(), steering.numpy(), verbose=0)
    assert best_loss == pytest.approx(min(history["val_loss"]), rel=1e-4)
    for split, values in (("train", history["loss"]), ("eval", history["val_loss"])):
        curve = pd.read_csv(live_dir / "plots" / "metrics" / split / "loss.tsv", sep="\t")
        assert curve["step"].tolist() == [0, 1]
        assert np.allclose(curve["loss"], values)


def test_the_averaged_epochs_are_the_last_ones_and_zero_means_none():
    assert list(averaged_epochs(16, 4)) == [13, 14, 15, 16]
    assert list(averaged_epochs(3, 3)) == [1, 2, 3]
    assert list(averaged_epochs(1, 4)) == [1]                  # a one-epoch experiment: that epoch
    assert list(averaged_epochs(16, 0)) == []


@pytest.mark.parametrize("setting, train_frames, chosen", [
    ("auto", 770, 4),                  # the real Jungle lap after balancing and the split
    ("auto", 999, 4),
    ("auto", 1000, 0),
    ("auto", 4109, 0),                 # the default data: the best epoch, as before
    (0, 770, 0),
    (6, 5000, 6),
])
def test_auto_averages_the_last_epochs_of_a_short_recording_only(setting, train_frames, chosen):
    assert choose_average_last_epochs(setting, train_frames) == chosen


@pytest.mark.parametrize("setting", [-1, "four", 2.5, True, None])
def test_a_bad_average_last_epochs_names_the_choices(setting):
    with pytest.raises(ValueError, match=r"average_last_epochs must be auto, 0 .* or a number of epochs, got"):
        choose_average_last_epochs(setting, 100)


def test_average_weights_is_the_elementwise_mean_in_each_weights_dtype():
    first = [np.array([[1.0, 2.0]], np.float32), np.array([0.5], np.float32)]
    second = [np.array([[3.0, 6.0]], np.float32), np.array([1.0], np.float32)]
    third = [np.array([[2.0, 1.0]], np.float32), np.array([0.0], np.float32)]
    mean = average_weights([first, second, third])
    assert [w.dtype for w in mean] == [np.float32, np.float32]
    assert np.array_equal(mean[0], [[2.0, 3.0]]) and np.array_equal(mean[1], [0.5])
    assert all(np.array_equal(a, b) for a, b in zip(average_weights([first]), first))
    with pytest.raises(ValueError):
        average_weights([first, second[:1]])                 # another architecture
    with pytest.raises(ValueError, match="no weights"):
        average_weights([])


def test_the_checkpoints_kept_for_averaging_hold_each_epochs_weights(tmp_path):
    train, val = _tiny_datasets(tmp_path)
    configure_determinism(seed=2, deterministic=False)
    model = build_pilotnet(1e-3)
    best_path, live_dir, resume_dir = tmp_path / "best.keras", tmp_path / "dvclive", tmp_path / "resume"
    callbacks = make_callbacks(best_path, live_dir)
    seen = []                                             # the weights at each epoch's end, as training left them
    capture = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()))
    saver = resume.EpochCheckpoint(resume_dir, "key", best_path, live_dir, callbacks[0], None, keep_epochs=2)
    fit(model, train, val, epochs=3, steps_per_epoch=2, callbacks=[*callbacks, saver, capture], verbose=0)
    assert sorted(path.name for path in resume_dir.glob("epoch-*")) == ["epoch-0002", "epoch-0003"]  # 1 went
    read = resume.epoch_weights(build_pilotnet(1e-3), resume_dir, range(2, 4))
    for stored, trained in zip(read, seen[1:], strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(stored, trained, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(*read))           # two different points, not one twice
    mean = average_weights(read)
    assert all(np.allclose(m, (a + b) / 2, rtol=1e-6, atol=1e-7) for m, a, b in zip(mean, *read))
    with pytest.raises(FileNotFoundError, match="epoch 1 cannot be averaged"):
        resume.epoch_weights(build_pilotnet(1e-3), resume_dir, range(1, 4))


def restamp_as_saved_later(path) -> None:
    """Rewrite a .keras archive with another save time in metadata.json and the members' dates."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            if info.filename == "metadata.json":
                metadata = json.loads(data)
                metadata["date_saved"] = "2031-01-02@03:04:05"
                data = json.dumps(metadata).encode()
            stamped = zipfile.ZipInfo(info.filename, date_time=(2031, 1, 2, 3, 4, 6))
            stamped.compress_type = info.compress_type
            archive.writestr(stamped, data)


def test_saved_models_with_the_same_weights_are_the_same_bytes(tmp_path):
    paths = []
    for name in ("first", "second"):                 # separate objects, as in two processes
        keras.backend.clear_session()                 # the same layer names, as in a new process
        configure_determinism(seed=4, deterministic=False)
        path = tmp_path / f"{name}.keras"
        build_pilotnet().save(path)
        paths.append(path)
    restamp_as_saved_later(paths[1])                  # as if saved at another time, without waiting
    assert paths[0].read_bytes() != paths[1].read_bytes()      # Keras stamps time and addresses
    for path in paths:
        path.write_bytes(reproducible_keras_archive(path))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    with zipfile.ZipFile(paths[0]) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    loaded = keras.models.load_model(paths[0])
    assert loaded.count_params() == 252_219
    images = np.random.default_rng(0).random((2, 66, 200, 3), dtype=np.float32)
    configure_determinism(seed=4, deterministic=False)
    assert np.array_equal(loaded.predict(images, verbose=0), build_pilotnet().predict(images, verbose=0))


def _unnamed_layers(model: keras.Model) -> list[dict]:
    """Each layer's config without the name Keras numbers layers by."""
    return [{k: v for k, v in layer.get_config().items() if k != "name"} for layer in model.layers]


ZEN4_FLAGS = {"avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni"}


@pytest.mark.parametrize("setting, gpus, flags, precision", [
    ("auto", [], ZEN4_FLAGS, "mixed_bfloat16"),              # native bfloat16 dot products
    ("auto", [], {"avx2", "fma", "amx_bf16"}, "mixed_bfloat16"),
    ("auto", [], {"avx2", "fma", "avx512f"}, "float32"),       # bfloat16 would be emulated: slower
    ("auto", [], set(), "float32"),                             # no /proc/cpuinfo: nothing is assumed
    ("auto", GPUS[:1], ZEN4_FLAGS, "float32"),                  # a GPU trains: not measured there
    ("float32", [], ZEN4_FLAGS, "float32"),
    ("mixed_bfloat16", [], set(), "mixed_bfloat16"),           # asked for by name: granted, if slow
])
def test_precision_auto_takes_bfloat16_only_where_the_cpu_has_it(setting, gpus, flags, precision):
    assert choose_precision(setting, gpus, flags) == precision


def test_an_unknown_precision_names_the_choices():
    with pytest.raises(ValueError, match="train.precision must be one of auto, float32, mixed_bfloat16, got 'fp16'"):
        choose_precision("fp16", [], set())


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpu_info = tmp_path / "cpuinfo"
    cpu_info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    assert cpu_flags(cpu_info) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "absent") == set()


def test_mixed_precision_computes_in_bfloat16_and_its_float32_copy_is_the_seed_network():
    keras.utils.set_random_seed(3)
    mixed = build_pilotnet(precision="mixed_bfloat16")
    assert {layer.compute_dtype for layer in mixed.layers[:-1]} == {"bfloat16"}
    assert {v.dtype for v in mixed.weights} == {"float32"}          # weights stay float32: the copy is exact
    images = np.random.default_rng(0).random((4, 66, 200, 3), dtype=np.float32)
    assert mixed.predict(images, verbose=0).dtype == np.float32      # the steering layer computes in float32

    copy = float32_copy(mixed)
    assert {layer.compute_dtype for layer in copy.layers} == {"float32"}
    assert all(np.array_equal(a, b) for a, b in zip(mixed.get_weights(), copy.get_weights()))
    assert _unnamed_layers(copy) == _unnamed_layers(build_pilotnet())   # what gets saved: the float32 network
    # the same weights computed in bfloat16 steer within its 8-bit mantissa of the float32 answer
    assert np.allclose(mixed.predict(images, verbose=0), copy.predict(images, verbose=0), atol=2e-2)


def test_an_unknown_model_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be one of float32, mixed_bfloat16, got 'float16'"):
        build_pilotnet(precision="float16")
