"""Load a steering model (.keras from this pipeline, or the seed's Keras 2 model.h5) and
predict one frame in about a millisecond.

Model files are data, never code. Before anything is built, the architecture stored in the
file (the .keras zip's config.json, the HDF5 file's `model_config` attribute) is read as
plain JSON and compared, layer by layer, with the seed's PilotNet; a file that differs is
refused with one sentence naming the first differing layer, unless the caller allows a
mismatch. A .keras file then loads with `safe_mode=True`; an HDF5 file is read for its
weights only, into PilotNet. No Lambda or custom object from a file is ever deserialised.

`model.predict` builds a data pipeline on every call (about 45 ms for one frame on a CPU);
`FastPredictor` traces the model once into a `tf.function` with a fixed input signature
and warms it up at load, so a frame costs one graph call. `SeedStylePredictor` keeps the
seed's per-frame path (float64 preprocessing + `model.predict`) for side-by-side benchmarks.
"""
from __future__ import annotations

import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import h5py
import keras
import numpy as np
import tensorflow as tf

from pilot.drive.litert import LITERT_SUFFIX
from pilot.imaging import MODEL_INPUT_SHAPE, preprocess, seed_img_preprocess
from pilot.learn.model import build_pilotnet
from pilot.udacity.simulator import IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
ALLOW_MISMATCH_FLAG = "--allow-architecture-mismatch"
# the config keys that change what a layer computes when driving (Dropout: none, it is the identity)
COMPUTE_KEYS = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
               "groups", "activation", "use_bias"),
    "Dense": ("units", "activation", "use_bias"),
    "Flatten": ("data_format",),
    "Dropout": (),
}
CODE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})   # layers that store Python code


class ModelLoadError(Exception):
    """A model file that is missing, unreadable, or not the seed's PilotNet the drive server runs."""


def _input_shape_error(path: Path, input_shape: tuple | None) -> ModelLoadError:
    return ModelLoadError(
        f"{path} takes input {input_shape}, but the drive server feeds the seed's "
        f"preprocessed {MODEL_INPUT_SHAPE[0]}x{MODEL_INPUT_SHAPE[1]}x3 YUV images in [0, 1]: "
        f"use a model trained by this pipeline or by the seed's notebook."
    )


def _check_shapes(model: keras.Model, path: Path) -> None:
    input_shape = tuple(model.inputs[0].shape) if model.inputs else None
    if input_shape is None or tuple(input_shape[1:]) != MODEL_INPUT_SHAPE:
        raise _input_shape_error(path, input_shape)
    output_shape = tuple(model.outputs[0].shape)
    if output_shape[1:] != (1,):
        raise ModelLoadError(
            f"{path} returns {output_shape} per batch, but a steering model must return one "
            f"value per image (None, 1): use a model trained by this pipeline or the seed's notebook."
        )


# ---------------------------------------------------------------- the architecture, read as data

@dataclass(frozen=True)
class LayerSpec:
    """One layer of a stored architecture: its class, its name, what it computes."""
    class_name: str
    name: str
    settings: tuple[tuple[str, object], ...]     # (key, value) for the class's COMPUTE_KEYS

    def differences(self, other: "LayerSpec") -> list[tuple[str, object, object]]:
        """(key, self's value, other's value) for every setting both state and that differ."""
        theirs = dict(other.settings)
        return [(key, value, theirs[key]) for key, value in self.settings
                if key in theirs and value != theirs[key]]

    def matches(self, other: "LayerSpec") -> bool:
        return self.class_name == other.class_name and not self.differences(other)


def _plain(value: object) -> object:
    """JSON lists as tuples, so Keras 2 and Keras 3 configs compare equal."""
    return tuple(_plain(item) for item in value) if isinstance(value, list) else value


def read_stored_architecture(path: Path) -> dict | None:
    """The architecture JSON a model file stores, parsed as plain data (nothing deserialised).

    None for an HDF5 file that stores weights only. Raises ModelLoadError for an unreadable file.
    """
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, "r") as handle:
                text = handle.attrs.get("model_config")
            if text is None:
                return None
        else:
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json")
        config = json.loads(text)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ModelLoadError(f"{path} could not be read as a Keras model ({exc}).") from exc
    if not isinstance(config, dict):
        raise ModelLoadError(f"{path} stores an architecture that is not a Keras model config.")
    return config


def layer_specs(model_config: dict) -> tuple[tuple | None, list[LayerSpec]]:
    """A stored model config -> (its input shape if stated, its layers in order without the input)."""
    body = model_config.get("config")
    layers = body.get("layers") if isinstance(body, dict) else body   # Keras 2.0: a bare list
    if not isinstance(layers, list):
        return None, []
    input_shape = None
    specs = []
    for index, layer in enumerate(layers):
        layer = layer if isinstance(layer, dict) else {}
        class_name = str(layer.get("class_name", "?"))
        config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        shape = config.get("batch_shape", config.get("batch_input_shape"))
        if input_shape is None and shape is not None:
            input_shape = _plain(shape)
        if class_name == "InputLayer":
            continue
        settings = tuple((key, _plain(config[key])) for key in COMPUTE_KEYS.get(class_name, ())
                         if key in config)
        specs.append(LayerSpec(class_name, str(config.get("name", f"layer {index}")), settings))
    return input_shape, specs


def pilotnet_specs() -> list[LayerSpec]:
    """The layers of the PilotNet this server drives, from its own config."""
    return layer_specs({"config": build_pilotnet().get_config()})[1]


def _first_difference(found: list[LayerSpec], expected: list[LayerSpec]) -> str | None:
    """What differs first, as the middle of a sentence about the file; None if nothing does."""
    expected_classes = {spec.class_name for spec in expected}
    for index in range(max(len(found), len(expected))):
        if index < len(found) and index < len(expected) and found[index].matches(expected[index]):
            continue
        here = found[index] if index < len(found) else None
        wanted = expected[index] if index < len(expected) else None
        position = f"the seed's PilotNet's layer {index + 1} of {len(expected)}"
        if here is None:
            return f"has no {wanted.class_name} layer where the seed's PilotNet has one ({position})"
        code = " (stored Python code, which this server never runs)" \
            if here.class_name in CODE_LAYERS else ""
        later = found[index + 1] if index + 1 < len(found) else None
        if (wanted is None or here.class_name not in expected_classes
                or (later is not None and later.matches(wanted))):
            return f"has a {here.class_name} layer '{here.name}'{code} that the seed's PilotNet does not have"
        if index + 1 < len(expected) and here.matches(expected[index + 1]):
            return f"has no {wanted.class_name} layer before its {here.class_name} layer '{here.name}' ({position})"
        if here.class_name == wanted.class_name:
            key, value, pilotnet_value = here.differences(wanted)[0]
            return (f"has a {here.class_name} layer '{here.name}' with {key}={value} where the seed's "
                    f"PilotNet has {key}={pilotnet_value}")
        return (f"has a {here.class_name} layer '{here.name}' where the seed's PilotNet has a "
                f"{wanted.class_name} ({position})")
    return None


def check_architecture(path: Path, model_config: dict | None, allow_mismatch: bool = False) -> None:
    """Refuse a file whose stored layers are not the seed's PilotNet (one sentence naming the layer).

    With `allow_mismatch` only what no flag can fix is refused: an input that is not 66x200x3,
    and, in a .keras file (which loads its own architecture), a layer that stores Python code.
    """
    is_hdf5 = h5py.is_hdf5(path)
    if model_config is None:
        if allow_mismatch:
            return
        raise ModelLoadError(
            f"{path.name} stores weights but no architecture to check against the seed's PilotNet; "
            f"pass {ALLOW_MISMATCH_FLAG} to drive it as PilotNet anyway."
        )
    input_shape, found = layer_specs(model_config)
    if input_shape is not None and tuple(input_shape[1:]) != MODEL_INPUT_SHAPE:
        raise _input_shape_error(path, input_shape)
    code_layers = [spec for spec in found if spec.class_name in CODE_LAYERS]
    if allow_mismatch and code_layers and not is_hdf5:
        raise ModelLoadError(
            f"{path.name} has a {code_layers[0].class_name} layer '{code_layers[0].name}' that stores "
            f"Python code, which this server never runs: save the model without it, or as a model.h5 "
            f"to drive the seed's PilotNet with its weights."
        )
    difference = _first_difference(found, pilotnet_specs())
    if difference is None or allow_mismatch:
        return
    if is_hdf5:
        consequence = "this server would drive the seed's PilotNet with its weights, not the model as trained"
    else:
        consequence = "this server drives the seed's PilotNet only"
    raise ModelLoadError(
        f"{path.name} {difference}: {consequence}; pass {ALLOW_MISMATCH_FLAG} to drive it anyway."
    )


# ---------------------------------------------------------------- loading

def _load_weights_by_layer_order(path: Path) -> keras.Model:
    """An HDF5 model file, read for its weights only: PilotNet + the file's weights in order."""
    model = build_pilotnet()
    arrays: list[np.ndarray] = []
    with h5py.File(path, "r") as handle:
        group = handle["model_weights"] if "model_weights" in handle else handle
        for layer_name in group.attrs.get("layer_names", []):
            layer_name = layer_name.decode() if isinstance(layer_name, bytes) else layer_name
            layer_group = group[layer_name]
            for weight_name in layer_group.attrs.get("weight_names", []):
                weight_name = weight_name.decode() if isinstance(weight_name, bytes) else weight_name
                arrays.append(np.asarray(layer_group[weight_name]))
    expected = [tuple(w.shape) for w in model.get_weights()]
    found = [tuple(a.shape) for a in arrays]
    if found != expected:
        raise ModelLoadError(
            f"{path} is an HDF5 model this Keras cannot rebuild, and its weights "
            f"({len(found)} arrays) do not fit the seed's PilotNet ({len(expected)} arrays): "
            f"re-save it as .keras with the Keras that trained it."
        )
    model.set_weights(arrays)
    return model


def load_steering_model(path: str | Path, allow_architecture_mismatch: bool = False) -> keras.Model:
    """Load a .keras model or a legacy Keras 2 HDF5 model.h5; check it is the seed's PilotNet.

    Raises ModelLoadError with one sentence a user can act on. No code stored in the file runs.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(
            f"model file {path} not found: train one with `dvc repro` or pass the path "
            f"of a .keras or seed model.h5 file."
        )
    if path.suffix.lower() == LITERT_SUFFIX:
        raise ModelLoadError(f"{path} is a LiteRT model: add --runtime litert to serve it.")
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelLoadError(
            f"{path} is not a Keras model file: pass a .keras file or a seed model.h5."
        )
    truncated = f"{path} is truncated or corrupt: train it again with `dvc repro train`."
    if not h5py.is_hdf5(path) and path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        raise ModelLoadError(truncated)
    check_architecture(path, read_stored_architecture(path), allow_architecture_mismatch)
    if h5py.is_hdf5(path):
        model = _load_weights_by_layer_order(path)   # legacy HDF5: weights only, never its config
    else:
        try:
            # compile=False: a driving server never trains; safe_mode: no stored lambda ever loads
            with warnings.catch_warnings():   # Keras 2 configs pass input_shape to Conv2D
                warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
                model = keras.models.load_model(path, compile=False, safe_mode=True)
        except zipfile.BadZipFile as exc:
            raise ModelLoadError(truncated) from exc
        except (ValueError, TypeError, KeyError, OSError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelLoadError(f"{path} could not be read as a Keras model ({reason}).") from exc
    _check_shapes(model, path)
    return model


def limit_inference_threads(threads: int) -> bool:
    """Run TensorFlow's ops on `threads` threads; False if TensorFlow has already started.

    One frame of PilotNet is too small to gain from splitting its convolutions, and a
    single thread answers sooner when other programs (the simulator) share the cores.
    """
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        return False
    return True


class FastPredictor:
    """One frame in, one steering value out, through a traced tf.function (no model.predict)."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        signature = [tf.TensorSpec((1, *MODEL_INPUT_SHAPE), tf.uint8)]

        @tf.function(input_signature=signature)
        def steer(image_uint8: tf.Tensor) -> tf.Tensor:
            scaled = tf.cast(image_uint8, tf.float32) / 255.0
            return model(scaled, training=False)

        # the concrete function skips tf.function's per-call dispatch (~0.2 ms of a ~1.2 ms call)
        self._steer = steer.get_concrete_function()
        self.predict_rgb(np.zeros((IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX, 3), np.uint8))  # trace + warm up at load

    def predict_preprocessed(self, preprocessed: np.ndarray) -> float:
        """uint8 (66, 200, 3) from pilot.imaging.preprocess -> raw model output."""
        output = self._steer(tf.convert_to_tensor(preprocessed[np.newaxis]))
        return float(output.numpy().reshape(-1)[0])

    def predict_rgb(self, rgb: np.ndarray) -> float:
        """An RGB camera frame (uint8 HxWx3) -> raw model output."""
        return self.predict_preprocessed(preprocess(rgb))


class SeedStylePredictor:
    """The seed's automatico.py inference, verbatim in spirit: float64 preprocess + predict."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model

    def predict_rgb(self, rgb: np.ndarray) -> float:
        image = np.array([seed_img_preprocess(rgb)])
        return float(self.model.predict(image, verbose=0).reshape(-1)[0])


def load_predictor(path: str | Path, inference: str = "fast",
                   allow_architecture_mismatch: bool = False) -> FastPredictor | SeedStylePredictor:
    """Load the model at `path` and wrap it: 'fast' (default) or 'seed' (benchmarks only)."""
    model = load_steering_model(path, allow_architecture_mismatch)
    if inference == "fast":
        return FastPredictor(model)
    if inference == "seed":
        return SeedStylePredictor(model)
    raise ValueError(f"unknown inference '{inference}': use 'fast' or 'seed'")

