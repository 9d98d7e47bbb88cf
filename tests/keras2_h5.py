"""Write a Keras model as Keras 2.x saved it: an HDF5 model.h5, the seed notebook's and the field's format.

The seed ran `model.save('model.h5')` under TF 2.x / Keras 2. `write_keras2_h5` writes the same
layout with h5py from a Keras 3 model: `model_config` JSON (a Sequential whose InputLayer carries
`batch_input_shape`, or, as Keras <= 2.3 wrote it, the first layer carrying it; configs without
Keras 3's `module` and `registered_name`, dtypes as plain strings), `training_config`,
`keras_version`, and `model_weights/<layer>/<layer>/<weight>:0` datasets listed by the
`layer_names` and `weight_names` attributes as byte strings. So tests prove that users' files
load, layer by layer, as Keras 2 would have built them.

`keras2_lambda_layer` writes a Lambda layer as Keras 2 stored one (the function's marshalled
bytecode in base64), so tests can prove that no code stored in a model file runs unasked.
"""
from __future__ import annotations

import codecs
import json
import marshal
import types
from pathlib import Path

import h5py
import keras
import numpy as np

KERAS_3_ONLY_KEYS = ("lora_rank", "lora_alpha", "quantization_config", "gradient_checkpointing", "synchronized",
                     "optional")


def _keras2_value(value: object) -> object:
    """A Keras 3 config value as Keras 2 wrote it: nested objects without module and registered_name."""
    if isinstance(value, dict):
        if "class_name" in value:
            if value["class_name"] in ("DTypePolicy", "FloatDTypePolicy"):
                return value["config"]["name"]
            return {"class_name": value["class_name"], "config": _keras2_value(value.get("config", {}))}
        return {key: _keras2_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_keras2_value(item) for item in value]
    return value


def keras2_layer_config(layer: keras.layers.Layer) -> dict:
    """One layer's {"class_name", "config"} as Keras 2.x stored it in model_config."""
    config = {key: _keras2_value(value) for key, value in layer.get_config().items() if key not in KERAS_3_ONLY_KEYS}
    config["dtype"] = "float32"
    if isinstance(layer, keras.layers.BatchNormalization):
        config["axis"] = [config["axis"] % 4] if isinstance(config["axis"], int) else config["axis"]
    return {"class_name": type(layer).__name__, "config": config}


def keras2_model_config(model: keras.Sequential, leading_layers: tuple[dict, ...] = (),
                        input_layer: bool = True) -> dict:
    """The model_config JSON Keras 2 wrote for a Sequential with `model`'s layers.

    `leading_layers` (configs without weights, such as a normalising Lambda) go before the first layer;
    `input_layer=False` writes the input shape on the first layer, as Keras <= 2.3 did.
    """
    batch_shape = [None, *model.input_shape[1:]]
    layers = [*leading_layers, *(keras2_layer_config(layer) for layer in model.layers)]
    if input_layer:
        layers.insert(0, {"class_name": "InputLayer", "config": {
            "batch_input_shape": batch_shape, "dtype": "float32", "sparse": False, "ragged": False,
            "name": f"{layers[0]['config']['name']}_input"}})
    else:
        layers[0]["config"]["batch_input_shape"] = batch_shape
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def write_keras2_h5(model: keras.Sequential, path: Path, leading_layers: tuple[dict, ...] = (),
                    input_layer: bool = True, keras_version: str = "2.8.0") -> Path:
    """Write `model` (a Keras 3 Sequential) with its weights as Keras `keras_version` saved it to model.h5."""
    training_config = {
        "loss": "mse", "metrics": None, "weighted_metrics": None, "loss_weights": None,
        "optimizer_config": {"class_name": "Adam", "config": {
            "name": "Adam", "learning_rate": 0.001, "decay": 0.0, "beta_1": 0.9,
            "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}},
    }
    version = keras_version.encode()
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = version
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["model_config"] = json.dumps(keras2_model_config(model, leading_layers, input_layer)).encode()
        handle.attrs["training_config"] = json.dumps(training_config).encode()
        group = handle.create_group("model_weights")
        group.attrs["keras_version"] = version
        group.attrs["backend"] = b"tensorflow"
        leading_names = [layer["config"]["name"] for layer in leading_layers]
        group.attrs["layer_names"] = np.array([name.encode()
                                               for name in [*leading_names, *(layer.name for layer in model.layers)]])
        for name in leading_names:
            group.create_group(name).attrs["weight_names"] = np.array([], dtype="S1")
        for layer in model.layers:
            layer_group = group.create_group(layer.name)
            names = [f"{layer.name}/{weight.name}:0" for weight in layer.weights]
            layer_group.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S" if names else "S1")
            for weight_name, weight in zip(names, layer.weights):
                layer_group.create_dataset(weight_name, data=np.asarray(weight.numpy()))
    return path


def keras2_lambda_layer(name: str, lambda_source: str, batch_input_shape: list | None = None) -> dict:
    """A Keras 2 Lambda layer config whose function is `lambda_source`, stored as Keras 2's func_dump did."""
    module_code = compile(lambda_source, "<model file>", "eval")
    function_code = next(const for const in module_code.co_consts if isinstance(const, types.CodeType))
    stored = codecs.encode(marshal.dumps(function_code), "base64").decode("ascii")
    config = {
        "name": name, "trainable": True, "dtype": "float32",
        "function": [stored, None, None], "function_type": "lambda", "module": "__main__",
        "output_shape": None, "output_shape_type": "raw", "output_shape_module": None, "arguments": {},
    }
    if batch_input_shape is not None:
        config["batch_input_shape"] = batch_input_shape
    return {"class_name": "Lambda", "config": config}


def run_keras2_lambda(layer: dict, inputs: object) -> object:
    """What Keras 2 did with a stored lambda on load and call (func_load): proves a payload is live."""
    stored, _, _ = layer["config"]["function"]
    code = marshal.loads(codecs.decode(stored.encode("ascii"), "base64"))
    return types.FunctionType(code, {"__builtins__": __builtins__})(inputs)


def file_writing_lambda(marker: Path) -> str:
    """A normalising lambda that, if it ever ran, would also write `marker`."""
    return f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), x / 127.5 - 1.0)[1]"
