"""The one model loader: files built as they describe, code refused, one sentence for every bad file."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from pilot.imaging import CAMERA_INPUT, SEED_INPUT
from pilot.learn.model_file import ModelFileError, code_in_architecture, load_model_file, read_model_file
from pilot.learn.predictors import FastPredictor, SeedStylePredictor
from pilot.udacity.images import decode_jpeg_rgb
from tests.drive_support import camera_jpeg
from tests.keras2_h5 import (
    file_writing_lambda,
    keras2_lambda_layer,
    keras2_model_config,
    run_keras2_lambda,
    write_keras2_h5,
)
from tests.learn.field_models import FIELD_MODELS, seed_pilotnet

STEERING_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """Real JPEGs (camera-like, encoded and decoded) with different roads."""
    return [decode_jpeg_rgb(camera_jpeg(seed)) for seed in range(6)]


@pytest.fixture(scope="module")
def field_models() -> dict[str, keras.Model]:
    return {name: build() for name, build in FIELD_MODELS.items()}


def max_steering_difference(model: keras.Model, loaded, frames) -> float:
    """How far the loaded file steers from the Keras 3 model it was written from, on `frames`."""
    reference, built = FastPredictor(model, loaded.contract), FastPredictor(loaded.model, loaded.contract)
    return max(abs(built.predict_rgb(rgb) - reference.predict_rgb(rgb)) for rgb in frames)


def edited_h5(path: Path, edit) -> Path:
    """`path` with its stored model_config changed by `edit(config)`."""
    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        edit(config)
        handle.attrs["model_config"] = json.dumps(config).encode()
    return path


def refusal(path: Path, **kwargs) -> str:
    with pytest.raises(ModelFileError) as caught:
        load_model_file(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name", sorted(FIELD_MODELS))
@pytest.mark.parametrize("input_layer", [True, False], ids=["keras_2_4_plus", "keras_2_2_first_layer_shape"])
def test_a_keras_2_h5_is_built_as_its_file_describes(field_models, frames, tmp_path, name, input_layer):
    model = field_models[name]
    path = write_keras2_h5(model, tmp_path / "model.h5", input_layer=input_layer)
    loaded = load_model_file(path)
    assert [type(layer).__name__ for layer in loaded.model.layers] == [type(layer).__name__ for layer in model.layers]
    assert loaded.contract == (CAMERA_INPUT if name == "p3_camera" else SEED_INPUT)
    assert max_steering_difference(model, loaded, frames) <= STEERING_TOLERANCE
    height, width, _ = loaded.contract.shape
    assert loaded.description.startswith("model.h5: Keras 2.8 HDF5, ")
    assert f"input {height}x{width}x3 ({loaded.contract.summary}), {model.count_params():,} parameters" \
        in loaded.description
    assert not loaded.code_ran


def test_the_relu_variant_drives_as_relu_not_as_the_seeds_elu(field_models, frames, tmp_path):
    """What two weeks of refusing, then of driving it as elu PilotNet, got wrong: the activation is the file's."""
    model = field_models["relu_dropout"]
    loaded = load_model_file(write_keras2_h5(model, tmp_path / "model.h5"))
    assert loaded.description == ("model.h5: Keras 2.8 HDF5, 13 layers (relu), input 66x200x3 (seed preprocessing), "
                                  "252,219 parameters")
    assert {layer.activation.__name__ for layer in loaded.model.layers if hasattr(layer, "activation")} \
        == {"relu", "linear"}


def test_a_pipeline_keras_file_and_a_keras_3_h5_load(field_models, frames, tmp_path):
    model = field_models["seed"]
    for path in (tmp_path / "model.keras", tmp_path / "keras3.h5"):
        model.save(path)
        loaded = load_model_file(path)
        assert max_steering_difference(model, loaded, frames) == 0.0
    assert load_model_file(tmp_path / "model.keras").description.startswith(
        f"model.keras: Keras {'.'.join(keras.__version__.split('.')[:2])} .keras, 12 layers (elu)")


def test_a_functional_model_loads(frames, tmp_path):
    inputs = keras.Input((66, 200, 3))
    left = keras.layers.Conv2D(8, 5, strides=2, activation="elu")(inputs)
    right = keras.layers.Conv2D(8, 5, strides=2, activation="relu")(inputs)
    merged = keras.layers.Add()([left, right])
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.MaxPooling2D(4)(merged)))
    keras.utils.set_random_seed(8)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "functional.keras")
    loaded = load_model_file(tmp_path / "functional.keras")
    assert max_steering_difference(model, loaded, frames) == 0.0


def test_a_keras_2_2_bare_list_config_loads(field_models, frames, tmp_path):
    """Keras <= 2.2 stored a Sequential's config as a bare list of layers, which Keras 3 cannot read."""
    model = field_models["seed"]
    path = edited_h5(write_keras2_h5(model, tmp_path / "model.h5", keras_version="2.1.6"),
                     lambda config: config.update(config=config["config"]["layers"]))
    with pytest.raises(TypeError):
        keras.saving.load_model(path, compile=False)          # the case the rewrite exists for
    before = path.read_bytes()
    assert max_steering_difference(model, load_model_file(path), frames) <= STEERING_TOLERANCE
    assert path.read_bytes() == before                        # the user's file is never written


def test_dropout_rates_change_nothing_at_inference(field_models, frames, tmp_path):
    model = field_models["seed"]

    def rates(config):
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Dropout":
                layer["config"]["rate"] = 0.9

    loaded = load_model_file(edited_h5(write_keras2_h5(model, tmp_path / "model.h5"), rates))
    assert max_steering_difference(model, loaded, frames) <= STEERING_TOLERANCE


def test_a_stored_lambda_is_refused_and_runs_only_when_trusted(field_models, frames, tmp_path):
    marker, canary = tmp_path / "lambda_ran.txt", tmp_path / "canary.txt"
    lambda_layer = keras2_lambda_layer("lambda_1", file_writing_lambda(marker), batch_input_shape=[None, 66, 200, 3])
    assert run_keras2_lambda(keras2_lambda_layer("canary", file_writing_lambda(canary)), 255.0) == 1.0
    assert canary.read_text() == "ran"          # the stored payload is live: Keras 2 would have run it
    model = field_models["seed"]
    path = write_keras2_h5(model, tmp_path / "normalised.h5", leading_layers=(lambda_layer,), input_layer=False)
    message = refusal(path)
    assert message == ("normalised.h5 has a Lambda layer 'lambda_1' that stores Python code; no code from a model "
                       "file runs unless you pass --trust-model-code (only for a file you made or trust).")
    assert not marker.exists()
    loaded = load_model_file(path, trust_model_code=True)
    assert loaded.code_ran
    normalised = keras.Sequential([keras.Input((66, 200, 3)), keras.layers.Rescaling(1 / 127.5, offset=-1.0),
                                   *model.layers])
    assert max_steering_difference(normalised, loaded, frames[:2]) <= STEERING_TOLERANCE
    assert marker.read_text() == "ran"          # asked for by name: the file's code ran, and only now


def test_a_keras_file_with_a_stored_lambda_is_refused(field_models, tmp_path):
    marker = tmp_path / "lambda_ran.txt"
    path = tmp_path / "normalised.keras"
    field_models["seed"].save(path)
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
    assert refusal(path).startswith("normalised.keras has a Lambda layer 'normalise' that stores Python code;")
    assert not marker.exists()


@pytest.mark.parametrize("edit, sentence", [
    (lambda layers: layers[3].update(class_name="MyAttention"),
     "model.h5 has a MyAttention layer '{name}' that is a custom class, which needs code the file does not carry;"),
    (lambda layers: layers[3]["config"].update(activation="my_swish"),
     "model.h5 has a Conv2D layer '{name}' that has the activation 'my_swish', which is not a Keras activation name"),
    (lambda layers: layers[3]["config"].update(activation={"class_name": "function", "config": "evil",
                                                           "module": "os"}),
     "model.h5 has a Conv2D layer '{name}' that has the activation 'a stored function', which is not a Keras"),
    (lambda layers: layers[3]["config"].update(kernel_initializer={"class_name": "Evil", "config": {}}),
     "model.h5 has a Conv2D layer '{name}' that uses a Evil object, which is not one of Keras's own"),
    (lambda layers: layers[3].update(module="my_package.layers"),
     "model.h5 has a Conv2D layer '{name}' that is a custom class, which needs code the file does not carry;"),
])
def test_layers_that_need_code_are_refused_in_one_sentence(field_models, tmp_path, edit, sentence):
    path = edited_h5(write_keras2_h5(field_models["seed"], tmp_path / "model.h5"),
                     lambda config: edit(config["config"]["layers"]))
    name = field_models["seed"].layers[2].name          # layers[3] of the file: after its InputLayer
    assert refusal(path).startswith(sentence.format(name=name))
    assert "--trust-model-code" in refusal(path)


def test_a_custom_model_class_is_refused(field_models, tmp_path):
    path = edited_h5(write_keras2_h5(field_models["seed"], tmp_path / "model.h5"),
                     lambda config: config.update(class_name="MyPilot"))
    assert "MyPilot" in refusal(path) and "custom" in refusal(path)


def test_code_in_a_nested_model_is_found():
    inner = {"class_name": "Sequential", "config": {"name": "inner", "layers": [
        {"class_name": "InputLayer", "config": {"name": "in"}},
        {"class_name": "Lambda", "config": {"name": "hidden_lambda", "function": ["AAAA", None, None]}}]}}
    outer = {"class_name": "Sequential", "config": {"name": "outer", "layers": [inner]}}
    [finding] = code_in_architecture(outer)
    assert (finding.layer_class, finding.layer_name) == ("Lambda", "hidden_lambda")


def test_files_that_are_not_steering_models_get_one_sentence(field_models, tmp_path):
    model = field_models["seed"]
    assert refusal(tmp_path / "nope.h5").startswith(f"model file {tmp_path / 'nope.h5'} not found")
    text_file = tmp_path / "model.txt"
    text_file.write_text("not a model")
    assert "is not a Keras model file" in refusal(text_file)
    whole = write_keras2_h5(model, tmp_path / "whole.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert refusal(truncated) == (f"{truncated} is truncated or corrupt: train it again (dvc repro train) "
                                  f"or copy it again.")
    model.save(tmp_path / "whole.keras")
    data = (tmp_path / "whole.keras").read_bytes()
    for name, damaged in (("half.keras", data[: len(data) // 2]), ("not_zip.keras", b"PK\x03\x04 truncated zip")):
        (tmp_path / name).write_bytes(damaged)
        assert refusal(tmp_path / name).endswith("is truncated or corrupt: train it again (dvc repro train) "
                                                 "or copy it again.")
    weights_only = tmp_path / "weights_only.h5"
    model.save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "w.weights.h5").rename(weights_only)
    assert refusal(weights_only).startswith("weights_only.h5 stores no architecture, weights at most")


def test_other_input_shapes_and_outputs_get_one_sentence(tmp_path):
    odd = keras.Sequential([keras.Input((120, 240, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    odd.save(tmp_path / "odd.keras")
    message = refusal(tmp_path / "odd.keras")
    assert "(None, 120, 240, 3)" in message and "66x200x3 (seed preprocessing)" in message \
        and "160x320x3 (the camera frame as it is" in message
    wide = keras.Sequential([keras.Input((66, 200, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    wide.save(tmp_path / "two_values.keras")
    assert "returns one value per image" in refusal(tmp_path / "two_values.keras")
    inputs = keras.Input((66, 200, 3))
    flat = keras.layers.Flatten()(inputs)
    keras.Model(inputs, [keras.layers.Dense(1)(flat), keras.layers.Dense(1)(flat)]).save(tmp_path / "two_outputs.keras")
    assert refusal(tmp_path / "two_outputs.keras") == (
        "two_outputs.keras has 1 inputs and 2 outputs, but a steering model takes one image and returns one "
        "steering value.")


def test_a_keras_1_file_gets_one_sentence(tmp_path):
    path = tmp_path / "old.h5"
    config = {"class_name": "Sequential", "config": [
        {"class_name": "Convolution2D", "config": {"name": "convolution2d_1", "nb_filter": 24, "nb_row": 5,
                                                   "nb_col": 5, "subsample": [2, 2], "activation": "relu",
                                                   "batch_input_shape": [None, 66, 200, 3]}}]}
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = b"1.2.1"
        handle.attrs["model_config"] = json.dumps(config).encode()
        handle.create_group("model_weights")
    assert refusal(path) == ("old.h5 was written by Keras 1.2.1, whose layer configs Keras 3 cannot rebuild: "
                             "load it in Keras 2 and save it again (model.save).")


def test_reading_a_file_builds_nothing(field_models, tmp_path):
    path = write_keras2_h5(field_models["relu_dropout"], tmp_path / "model.h5", keras_version="2.8.0")
    stored = read_model_file(path)
    assert (stored.format, stored.keras_version, stored.config) == ("hdf5", "2.8.0",
                                                                    keras2_model_config(field_models["relu_dropout"]))


def test_seed_style_predictor_agrees_with_the_fast_one(frames):
    """The benchmark's seed path (float64 preprocess + model.predict) gives the same steering."""
    model = seed_pilotnet()
    fast, seed_style = FastPredictor(model), SeedStylePredictor(model)
    for rgb in frames[:2]:
        assert seed_style.predict_rgb(rgb) == pytest.approx(fast.predict_rgb(rgb), abs=1e-4)
