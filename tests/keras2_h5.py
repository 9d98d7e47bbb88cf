"""Write a PilotNet as the seed's notebook saved it: a Keras 2 (TF 2.x) HDF5 model.h5.

The seed ran `model.save('model.h5')` under TF 2.x / Keras 2 with h5py 2.10. This helper
writes the same layout with h5py (model_config JSON with a Sequential whose InputLayer
carries `batch_input_shape`, training_config, and `model_weights/<layer>/<layer>/kernel:0`
groups with byte-string attributes), so tests prove that a user's seed model.h5 loads.

`keras2_lambda_layer` writes a Lambda layer as Keras 2 stored one (the function's marshalled
bytecode in base64), so tests can prove that no code stored in a model file ever runs.
"""
from __future__ import annotations

import codecs
import json
import marshal
import types
from pathlib import Path

import h5py
import numpy as np

GLOROT = {"class_name": "GlorotUniform", "config": {"seed": None}}
ZEROS = {"class_name": "Zeros", "config": {}}

# (keras 2 class, keras 2 layer name, config extras) in the seed's order
SEED_LAYERS = [
    ("Conv2D", "conv2d", {"filters": 24, "kernel_size": [5, 5], "strides": [2, 2]}),
    ("Conv2D", "conv2d_1", {"filters": 36, "kernel_size": [5, 5], "strides": [2, 2]}),
    ("Conv2D", "conv2d_2", {"filters": 48, "kernel_size": [5, 5], "strides": [2, 2]}),
    ("Conv2D", "conv2d_3", {"filters": 64, "kernel_size": [3, 3], "strides": [1, 1]}),
    ("Conv2D", "conv2d_4", {"filters": 64, "kernel_size": [3, 3], "strides": [1, 1]}),
    ("Dropout", "dropout", {"rate": 0.5}),
    ("Flatten", "flatten", {}),
    ("Dense", "dense", {"units": 100, "activation": "elu"}),
    ("Dropout", "dropout_1", {"rate": 0.5}),
    ("Dense", "dense_1", {"units": 50, "activation": "elu"}),
    ("Dense", "dense_2", {"units": 10, "activation": "elu"}),
    ("Dense", "dense_3", {"units": 1, "activation": "linear"}),
]


def _layer_config(class_name: str, name: str, extras: dict) -> dict:
    config: dict = {"name": name, "trainable": True, "dtype": "float32"}
    if class_name == "Conv2D":
        config.update(
            padding="valid", data_format="channels_last", dilation_rate=[1, 1], groups=1,
            activation="elu", use_bias=True, kernel_initializer=GLOROT,
            bias_initializer=ZEROS, kernel_regularizer=None, bias_regularizer=None,
            activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
        )
        if name == "conv2d":
            config["batch_input_shape"] = [None, 66, 200, 3]
    elif class_name == "Dense":
        config.update(
            use_bias=True, kernel_initializer=GLOROT, bias_initializer=ZEROS,
            kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
            kernel_constraint=None, bias_constraint=None,
        )
    elif class_name == "Dropout":
        config.update(noise_shape=None, seed=None)
    elif class_name == "Flatten":
        config.update(data_format="channels_last")
    config.update(extras)
    return {"class_name": class_name, "config": config}


def keras2_lambda_layer(name: str, lambda_source: str) -> dict:
    """A Keras 2 Lambda layer config whose function is `lambda_source`, stored as Keras 2's func_dump did."""
    module_code = compile(lambda_source, "<model file>", "eval")
    function_code = next(const for const in module_code.co_consts if isinstance(const, types.CodeType))
    stored = codecs.encode(marshal.dumps(function_code), "base64").decode("ascii")
    return {"class_name": "Lambda", "config": {
        "name": name, "trainable": True, "dtype": "float32", "batch_input_shape": [None, 66, 200, 3],
        "function": [stored, None, None], "function_type": "lambda", "module": "__main__",
        "output_shape": None, "output_shape_type": "raw", "output_shape_module": None, "arguments": {},
    }}


def run_keras2_lambda(layer: dict, inputs: object) -> object:
    """What Keras 2 did with a stored lambda on load and call (func_load): proves a payload is live."""
    stored, _, _ = layer["config"]["function"]
    code = marshal.loads(codecs.decode(stored.encode("ascii"), "base64"))
    return types.FunctionType(code, {"__builtins__": __builtins__})(inputs)


def keras2_model_config(leading_layers: tuple[dict, ...] = ()) -> dict:
    """The model_config JSON the seed's Keras 2 wrote for its Sequential PilotNet.

    `leading_layers` (configs without weights, such as a normalising Lambda) go before the first Conv2D.
    """
    batch_shape = [None, 66, 200, 3]
    layers = [{
        "class_name": "InputLayer",
        "config": {"batch_input_shape": batch_shape, "dtype": "float32", "sparse": False,
                   "ragged": False, "name": "conv2d_input"},
    }, *leading_layers]
    for class_name, name, extras in SEED_LAYERS:
        layers.append(_layer_config(class_name, name, extras))
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def write_keras2_h5(weights: list[np.ndarray], path: Path, leading_layers: tuple[dict, ...] = ()) -> None:
    """Write `weights` (kernel, bias per Conv2D/Dense, in order) as a seed-style model.h5.

    `leading_layers`: weightless layer configs stored before the first Conv2D (see keras2_model_config).
    """
    with_weights = [(c, n) for c, n, _ in SEED_LAYERS if c in ("Conv2D", "Dense")]
    if len(weights) != 2 * len(with_weights):
        raise ValueError(f"expected {2 * len(with_weights)} arrays, got {len(weights)}")
    training_config = {
        "loss": "mse", "metrics": None, "weighted_metrics": None, "loss_weights": None,
        "optimizer_config": {"class_name": "Adam", "config": {
            "name": "Adam", "learning_rate": 0.001, "decay": 0.0, "beta_1": 0.9,
            "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}},
    }
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = b"2.6.0"
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["model_config"] = json.dumps(keras2_model_config(leading_layers)).encode()
        handle.attrs["training_config"] = json.dumps(training_config).encode()
        group = handle.create_group("model_weights")
        group.attrs["keras_version"] = b"2.6.0"
        group.attrs["backend"] = b"tensorflow"
        leading_names = [layer["config"]["name"] for layer in leading_layers]
        group.attrs["layer_names"] = np.array([n.encode() for n in leading_names]
                                              + [n.encode() for _, n, _ in SEED_LAYERS])
        for name in leading_names:
            group.create_group(name).attrs["weight_names"] = np.array([], dtype="S1")
        arrays = iter(weights)
        for class_name, name, _ in SEED_LAYERS:
            layer_group = group.create_group(name)
            if class_name not in ("Conv2D", "Dense"):
                layer_group.attrs["weight_names"] = np.array([], dtype="S1")
                continue
            names = [f"{name}/kernel:0", f"{name}/bias:0"]
            layer_group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for weight_name in names:
                layer_group.create_dataset(weight_name, data=next(arrays))
