"""Loading steering models (.keras and the seed's Keras 2 model.h5) and the fast predictor."""
from __future__ import annotations

import json

import h5py
import keras
import numpy as np
import pytest

from tests.drive_support import camera_jpeg
from tests.keras2_h5 import write_keras2_h5
from pilot.imaging import decode_jpeg_rgb, preprocess, to_model_input
from pilot.learn.model import build_pilotnet
from pilot.drive.predictor import (FastPredictor, ModelLoadError, SeedStylePredictor, load_predictor,
                             load_steering_model)


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


def test_h5_whose_weights_do_not_fit_pilotnet_gets_one_sentence(tmp_path):
    path = tmp_path / "model.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = b'{"class_name": "Sequential", "config": []}'
        group = handle.create_group("model_weights")
        group.attrs["layer_names"] = np.array([b"dense"])
        group.create_group("dense").attrs["weight_names"] = np.array([b"dense/kernel:0"])
        group["dense"].create_dataset("dense/kernel:0", data=np.zeros((3, 1), np.float32))
    with pytest.raises(ModelLoadError, match="do not fit the seed's PilotNet"):
        load_steering_model(path)


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
        load_steering_model(path)


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
