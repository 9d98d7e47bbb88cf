"""Loading steering models (.keras and the seed's Keras 2 model.h5) and the fast predictor."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from tests.drive_support import camera_jpeg, run_drive
from tests.keras2_h5 import keras2_lambda_layer, run_keras2_lambda, write_keras2_h5
from pilot.imaging import decode_jpeg_rgb, preprocess, to_model_input
from pilot.learn.model import build_pilotnet
from pilot.drive.predictor import (FastPredictor, ModelLoadError, SeedStylePredictor, load_predictor,
                             load_steering_model)


def file_writing_lambda(marker: Path) -> str:
    """A normalising lambda that, if it ever ran, would also write `marker`."""
    return f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), x / 127.5 - 1.0)[1]"


@pytest.fixture(scope="module")
def pilotnet():
    keras.utils.set_random_seed(3)
    return build_pilotnet()


@pytest.fixture(scope="module")
def frames():
    return [decode_jpeg_rgb(camera_jpeg(seed)) for seed in range(4)]


def reference_steering(model: keras.Model, rgb: np.ndarray) -> float:
    """What the model says for one frame, through the project's one preprocessing path."""
    batch = to_model_input(preprocess(rgb))[np.newaxis]
    return float(model(batch, training=False).numpy()[0, 0])


def test_keras_model_from_this_pipeline_loads_and_predicts_like_the_model(pilotnet, frames, tmp_path):
    path = tmp_path / "model.keras"
    pilotnet.save(path)
    predictor = load_predictor(path)
    assert isinstance(predictor, FastPredictor)
    for rgb in frames:
        assert predictor.predict_rgb(rgb) == pytest.approx(reference_steering(pilotnet, rgb), abs=1e-6)


def test_seed_notebook_keras2_h5_loads_with_its_weights(pilotnet, frames, tmp_path):
    path = tmp_path / "model.h5"
    write_keras2_h5(pilotnet.get_weights(), path)
    model = load_steering_model(path)
    assert model.input_shape == (None, 66, 200, 3)
    predictor = load_predictor(path)
    for rgb in frames:
        assert predictor.predict_rgb(rgb) == pytest.approx(reference_steering(pilotnet, rgb), abs=1e-6)


def test_old_keras_h5_with_a_list_config_falls_back_to_pilotnet_and_weights_by_order(
        pilotnet, frames, tmp_path):
    """Keras 2.0-era files store a Sequential's config as a bare list; Keras 3 cannot read it."""
    path = tmp_path / "model.h5"
    write_keras2_h5(pilotnet.get_weights(), path)
    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        config["config"] = config["config"]["layers"][1:]
        handle.attrs["model_config"] = json.dumps(config).encode()
    with pytest.raises(TypeError):
        keras.models.load_model(path, compile=False)       # the case the fallback exists for
    model = load_steering_model(path)
    for rgb in frames:
        assert reference_steering(model, rgb) == pytest.approx(reference_steering(pilotnet, rgb), abs=1e-6)


def test_h5_whose_weights_do_not_fit_pilotnet_gets_one_sentence(pilotnet, tmp_path):
    path = tmp_path / "model.h5"
    weights = pilotnet.get_weights()
    write_keras2_h5([np.zeros((3, 1), np.float32), *weights[1:]], path)
    with pytest.raises(ModelLoadError, match="do not fit the seed's PilotNet"):
        load_steering_model(path)
    weights_only = tmp_path / "weights_only.h5"
    with h5py.File(weights_only, "w") as handle:
        group = handle.create_group("model_weights")
        group.attrs["layer_names"] = np.array([b"dense"])
        group.create_group("dense").attrs["weight_names"] = np.array([b"dense/kernel:0"])
        group["dense"].create_dataset("dense/kernel:0", data=np.zeros((3, 1), np.float32))
    with pytest.raises(ModelLoadError, match="stores weights but no architecture"):
        load_steering_model(weights_only)
    with pytest.raises(ModelLoadError, match="do not fit the seed's PilotNet"):
        load_steering_model(weights_only, allow_architecture_mismatch=True)


def test_h5_whose_lambda_would_write_a_file_is_refused_and_its_code_never_runs(pilotnet, frames, tmp_path):
    marker, canary = tmp_path / "lambda_ran.txt", tmp_path / "canary.txt"
    assert run_keras2_lambda(keras2_lambda_layer("lambda", file_writing_lambda(canary)), 255.0) == 1.0
    assert canary.read_text() == "ran"          # the stored payload is live: Keras 2 would have run it
    path = tmp_path / "normalised.h5"
    write_keras2_h5(pilotnet.get_weights(), path,
                    leading_layers=(keras2_lambda_layer("lambda", file_writing_lambda(marker)),))
    with pytest.raises(ModelLoadError) as caught:
        load_predictor(path)
    message = str(caught.value)
    assert message.startswith("normalised.h5 has a Lambda layer 'lambda'")
    assert "--allow-architecture-mismatch" in message and "\n" not in message
    assert not marker.exists()
    predictor = load_predictor(path, allow_architecture_mismatch=True)   # PilotNet + the file's weights
    for rgb in frames[:2]:
        assert predictor.predict_rgb(rgb) == pytest.approx(reference_steering(pilotnet, rgb), abs=1e-6)
    assert not marker.exists()


def test_keras_file_with_a_stored_lambda_is_refused_even_with_the_flag(pilotnet, tmp_path):
    marker = tmp_path / "lambda_ran.txt"
    path = tmp_path / "normalised.keras"
    pilotnet.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    stored = keras2_lambda_layer("normalise", file_writing_lambda(marker))["config"]["function"][0]
    config["config"]["layers"].insert(1, {     # a Lambda as Keras 3 stores one (same func_dump)
        "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
        "config": {"name": "normalise", "trainable": True, "dtype": "float32", "arguments": {},
                   "function": {"class_name": "__lambda__",
                                "config": {"code": stored, "defaults": None, "closure": None}}}})
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ModelLoadError, match=r"^normalised.keras has a Lambda layer 'normalise'.*"
                                             r"--allow-architecture-mismatch"):
        load_steering_model(path)
    with pytest.raises(ModelLoadError, match="stores Python code, which this server never runs"):
        load_steering_model(path, allow_architecture_mismatch=True)
    assert not marker.exists()


def test_architecture_differences_name_the_first_layer_that_differs(pilotnet, tmp_path):
    def h5_with_layers(edit) -> Path:
        path = tmp_path / "edited.h5"
        write_keras2_h5(pilotnet.get_weights(), path)
        with h5py.File(path, "r+") as handle:
            config = json.loads(handle.attrs["model_config"])
            edit(config["config"]["layers"])
            handle.attrs["model_config"] = json.dumps(config).encode()
        return path

    def refusal(path: Path) -> str:
        with pytest.raises(ModelLoadError) as caught:
            load_steering_model(path)
        return str(caught.value)

    no_dropout = h5_with_layers(lambda layers: layers.pop(6))
    assert "has no Dropout layer before its Flatten layer 'flatten'" in refusal(no_dropout)
    load_steering_model(no_dropout, allow_architecture_mismatch=True)   # dropout has no weights
    relu = h5_with_layers(lambda layers: layers[8]["config"].update(activation="relu"))
    assert "Dense layer 'dense' with activation=relu where the seed's PilotNet has activation=elu" \
        in refusal(relu)
    other_dropout = h5_with_layers(lambda layers: layers[6]["config"].update(rate=0.2))
    load_steering_model(other_dropout)                   # dropout is the identity when driving
    model = keras.Sequential([keras.Input((66, 200, 3)), keras.layers.Rescaling(1 / 255.0),
                              *build_pilotnet().layers])
    keras_path = tmp_path / "rescaled.keras"
    model.save(keras_path)
    assert refusal(keras_path).startswith(
        "rescaled.keras has a Rescaling layer 'rescaling' that the seed's PilotNet does not have")
    assert load_steering_model(keras_path, allow_architecture_mismatch=True).layers[0].name == "rescaling"


def test_drive_refuses_a_mismatched_model_in_one_sentence(pilotnet, tmp_path):
    marker = tmp_path / "lambda_ran.txt"
    path = tmp_path / "normalised.h5"
    write_keras2_h5(pilotnet.get_weights(), path,
                    leading_layers=(keras2_lambda_layer("lambda_1", file_writing_lambda(marker)),))
    result = run_drive([str(path), "--port", "0"])
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("drive: normalised.h5 has a Lambda layer 'lambda_1'")
    assert last_line.endswith("pass --allow-architecture-mismatch to drive it anyway.")
    assert "Traceback" not in result.stderr and not marker.exists()


def test_model_with_another_input_shape_gets_one_clear_sentence(tmp_path):
    model = keras.Sequential([keras.Input((160, 320, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    path = tmp_path / "raw_camera.keras"
    model.save(path)
    with pytest.raises(ModelLoadError) as caught:
        load_steering_model(path)
    message = str(caught.value)
    assert "(None, 160, 320, 3)" in message and "66x200x3" in message
    assert "\n" not in message


def test_model_with_more_than_one_output_value_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((66, 200, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    path = tmp_path / "two_outputs.keras"
    model.save(path)
    with pytest.raises(ModelLoadError, match="one value per image"):
        load_steering_model(path, allow_architecture_mismatch=True)


def test_missing_or_foreign_model_files_get_one_sentence(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        load_steering_model(tmp_path / "nope.keras")
    text_file = tmp_path / "model.txt"
    text_file.write_text("not a model")
    with pytest.raises(ModelLoadError, match="not a Keras model file"):
        load_steering_model(text_file)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 truncated zip")
    with pytest.raises(ModelLoadError, match="broken.keras is truncated or corrupt"):
        load_steering_model(broken)


def test_a_truncated_or_damaged_keras_file_gets_one_sentence_naming_it(pilotnet, tmp_path):
    whole = tmp_path / "model.keras"
    pilotnet.save(whole)
    data = whole.read_bytes()
    half, damaged = tmp_path / "half.keras", tmp_path / "damaged.keras"
    half.write_bytes(data[: len(data) // 2])
    damaged.write_bytes(data[: len(data) // 2] + bytes(2000) + data[len(data) // 2 + 2000:])  # CRC fails
    for path in (half, damaged):
        with pytest.raises(ModelLoadError) as caught:
            load_steering_model(path)
        assert str(caught.value) == f"{path} is truncated or corrupt: train it again with `dvc repro train`."


def test_seed_style_predictor_agrees_with_the_fast_one(pilotnet, frames, tmp_path):
    """The benchmark's seed path (float64 preprocess + model.predict) gives the same steering."""
    fast, seed_style = FastPredictor(pilotnet), SeedStylePredictor(pilotnet)
    for rgb in frames[:2]:
        assert seed_style.predict_rgb(rgb) == pytest.approx(fast.predict_rgb(rgb), abs=1e-4)
