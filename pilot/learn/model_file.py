"""The one model loader: a model file is a description of a network, built as it says, never run as code.

A `.keras` file (this pipeline's, or any Keras 3 model) and a Keras 2 HDF5 `model.h5` (the
seed's notebook and most of the field) store their architecture as JSON. `read_model_file`
reads that JSON as plain data; `code_in_architecture` walks every layer of it (Sequential,
functional and nested models) against allow-lists of Keras classes that carry no code: the
layers below, Keras activation names, and Keras's own initializers, regularizers and
constraints. Only then does Keras build the model from the file, layer by layer with its
weights, in Keras's safe mode (`keras.saving.load_model(..., safe_mode=True)`): what runs is
exactly what the file describes, Dropout and noise layers included (the identity at
inference, as in Keras).

Code in a file is refused in one sentence naming the layer: a `Lambda` stores Python code,
a custom class needs code the file does not carry, an activation that is not a Keras name is
a function. `trust_model_code=True` (the stages' `--trust-model-code`) is the one way
through, for a user's own file: Keras loads with `safe_mode=False` and the caller says that
code from the file will run.

What the model takes is read from its input shape (pilot.imaging's contracts): 66x200x3 is
the seed's preprocessing, 160x320x3 the camera frame as it is (the Udacity P3 convention,
where the model crops and normalises itself). Anything else, a model with more than one
output value, a weights-only HDF5, a truncated file: one sentence each (ModelFileError).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import h5py

from pilot.imaging import InputContract, contract_for_input_shape, contracts_sentence

if TYPE_CHECKING:
    import keras

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
TRUST_FLAG = "--trust-model-code"

# Keras layers that compute only from their config and weights (names of Keras 2 and Keras 3)
SAFE_LAYERS = frozenset({
    "InputLayer",
    "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
    "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "Dense", "Flatten", "Reshape", "Permute", "RepeatVector", "Identity",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianDropout", "GaussianNoise", "AlphaDropout",
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
    "Cropping1D", "Cropping2D", "ZeroPadding1D", "ZeroPadding2D", "UpSampling2D",
    "Rescaling", "Resizing", "CenterCrop",
    "Activation", "ELU", "ReLU", "LeakyReLU", "PReLU", "Softmax",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
})
MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
# layers that store Python code, or name a function to call, instead of describing a computation
CODE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda", "Merge"})
# the objects a safe layer's config may hold (Keras 2 and Keras 3 names)
SAFE_NESTED = frozenset({
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "IdentityInitializer",
    "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "OrthogonalInitializer", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros",
    "L1", "L2", "L1L2", "OrthogonalRegularizer",
    "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm",
    "DTypePolicy", "Policy", "FloatDTypePolicy", "__keras_tensor__", "__tuple__",
})
ACTIVATIONS = frozenset({
    "linear", "relu", "relu6", "elu", "selu", "celu", "gelu", "glu", "sigmoid", "hard_sigmoid", "log_sigmoid",
    "tanh", "softmax", "log_softmax", "softplus", "softsign", "swish", "silu", "hard_silu", "hard_swish",
    "exponential", "leaky_relu", "mish", "hard_tanh", "hard_shrink", "soft_shrink", "tanh_shrink",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "threshold",
})
NOT_CONFIG_KEYS = frozenset({"inbound_nodes", "input_layers", "output_layers", "layers"})
KERAS_1_KEYS = frozenset({"nb_filter", "nb_row", "output_dim", "border_mode", "subsample", "init"})
# what Keras raises for a config or weights it cannot build (and a trusted file's code for code it cannot run)
BUILD_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OSError, EOFError,
                NotImplementedError, RuntimeError, SystemError)


class ModelFileError(Exception):
    """A model file that is missing, unreadable, holds code, or does not fit a steering model: one sentence."""


@dataclass(frozen=True)
class StoredModel:
    """What a model file says about itself, read as plain data (nothing built, nothing run)."""
    path: Path
    format: str                       # "keras" (.keras zip) or "hdf5"
    keras_version: str | None         # the Keras that wrote it, where the file says
    config: dict                      # the stored architecture


@dataclass(frozen=True)
class CodeFinding:
    """A place in a stored architecture that needs code to build: which layer, and why."""
    layer_class: str
    layer_name: str
    why: str

    def sentence(self, file_name: str) -> str:
        return (f"{file_name} has a {self.layer_class} layer '{self.layer_name}' that {self.why}; no code from a "
                f"model file runs unless you pass {TRUST_FLAG} (only for a file you made or trust)")


@dataclass(frozen=True)
class LoadedModel:
    """A steering model built from its file, what it takes as input, and the line that says so."""
    model: keras.Model
    contract: InputContract
    path: Path
    description: str                  # e.g. "model.h5: Keras 2.8 HDF5, 12 layers (relu), input 66x200x3 (...)"
    code_ran: bool                    # True when --trust-model-code let the file's code run


# ---------------------------------------------------------------- reading the file as data

def read_model_file(path: str | Path) -> StoredModel:
    """The architecture a .keras or .h5 file stores, as plain JSON; ModelFileError (one sentence) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} not found: train one with `dvc repro` or pass the path "
                             f"of a .keras file or a Keras 2 model.h5.")
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        raise ModelFileError(f"{path} is a LiteRT model: pass the Keras model it was converted from "
                             f"(the drive server converts and caches it itself), or add --runtime litert.")
    if suffix not in MODEL_SUFFIXES:
        raise ModelFileError(f"{path} is not a Keras model file: pass a .keras file or a Keras 2 model.h5.")
    truncated = f"{path} is truncated or corrupt: train it again (dvc repro train) or copy it again."
    if h5py.is_hdf5(path):
        try:
            with h5py.File(path, "r") as handle:
                text = handle.attrs.get("model_config")
                version = handle.attrs.get("keras_version")
        except OSError as exc:
            raise ModelFileError(truncated) from exc
        if text is None:
            raise ModelFileError(f"{path.name} stores no architecture, weights at most (saved with save_weights, "
                                 f"or not a Keras model): save the whole model with model.save('model.h5') "
                                 f"or as .keras.")
        file_format = "hdf5"
    elif suffix == ".keras" and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json")
                metadata = json.loads(archive.read("metadata.json")) if "metadata.json" in archive.namelist() else {}
        except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError) as exc:
            raise ModelFileError(truncated) from exc
        version = metadata.get("keras_version") if isinstance(metadata, dict) else None
        file_format = "keras"
    elif suffix == ".keras":
        raise ModelFileError(truncated)
    else:
        raise ModelFileError(f"{path} is not an HDF5 file: pass a .keras file or a Keras 2 model.h5.")
    try:
        config = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"{path.name} stores an architecture that is not valid JSON: {truncated}") from exc
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ModelFileError(f"{path.name} stores an architecture that is not a Keras model config.")
    if isinstance(version, bytes):
        version = version.decode("utf-8", "replace")
    return StoredModel(path, file_format, str(version) if version else None, config)


def model_layers(config: dict) -> list[dict]:
    """The layer configs of a stored model config (a Keras <= 2.2 Sequential stores a bare list)."""
    body = config.get("config")
    layers = body.get("layers") if isinstance(body, dict) else body
    return [layer if isinstance(layer, dict) else {} for layer in layers] if isinstance(layers, list) else []


def _layer_name(layer: dict, index: int) -> str:
    config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    return str(config.get("name", layer.get("name", f"layer {index + 1}")))


def walk_layers(config: dict) -> Iterator[dict]:
    """Every layer config of a model, nested models' layers included (depth first)."""
    for layer in model_layers(config):
        yield layer
        if layer.get("class_name") in MODEL_CLASSES:
            yield from walk_layers(layer)


def _nested_objects(value: object) -> Iterator[dict]:
    """Every serialised object (a dict with a class_name) inside a layer's config."""
    if isinstance(value, dict):
        if "class_name" in value:
            yield value
        for key, item in value.items():
            if key not in NOT_CONFIG_KEYS:
                yield from _nested_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nested_objects(item)


def _is_keras_module(obj: dict) -> bool:
    module, registered = obj.get("module"), obj.get("registered_name")
    keras_module = module is None or module == "keras" or str(module).startswith("keras.")
    return keras_module and registered in (None, obj.get("class_name"))


def code_in_architecture(config: dict) -> list[CodeFinding]:
    """Each layer of a stored architecture that needs code to build, in order (empty: Keras builds it safely)."""
    findings = []
    if config.get("class_name") not in MODEL_CLASSES or not _is_keras_module(config):
        return [CodeFinding(str(config.get("class_name")), str(config.get("config", {}).get("name", "model"))
                            if isinstance(config.get("config"), dict) else "model",
                            "is not a Keras model class but a custom one, whose code the file does not carry")]
    for index, layer in enumerate(walk_layers(config)):
        class_name = str(layer.get("class_name", "?"))
        name = _layer_name(layer, index)
        body = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        if class_name in CODE_LAYERS:
            findings.append(CodeFinding(class_name, name, "stores Python code"))
            continue
        if class_name in MODEL_CLASSES and _is_keras_module(layer):
            continue
        if class_name not in SAFE_LAYERS or not _is_keras_module(layer):
            findings.append(CodeFinding(class_name, name,
                                        "is a custom class, which needs code the file does not carry"))
            continue
        activation = body.get("activation")
        if activation is not None and not (isinstance(activation, str) and activation in ACTIVATIONS):
            shown = activation if isinstance(activation, str) else "a stored function"
            findings.append(CodeFinding(class_name, name, f"has the activation {shown!r}, which is not a Keras "
                                                          f"activation name but a function the file needs code for"))
            continue
        for obj in _nested_objects({key: value for key, value in body.items() if key != "activation"}):
            if obj.get("class_name") not in SAFE_NESTED or not _is_keras_module(obj):
                findings.append(CodeFinding(class_name, name,
                                            f"uses a {obj.get('class_name')} object, which is not "
                                            f"one of Keras's own and needs code the file does not carry"))
                break
    return findings


def written_by_keras_1(stored: StoredModel) -> bool:
    """True for a Keras 1 file (its layers say nb_filter, subsample, output_dim, ...)."""
    if stored.keras_version and stored.keras_version.startswith("1."):
        return True
    return any(KERAS_1_KEYS & set(layer.get("config", {}) if isinstance(layer.get("config"), dict) else ())
               for layer in walk_layers(stored.config))


def layer_activations(config: dict) -> list[str]:
    """The activations a stored architecture uses, in order of first use (linear left out)."""
    names: list[str] = []
    for layer in walk_layers(config):
        body = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        class_name = layer.get("class_name")
        activation = body.get("activation") if class_name != "LeakyReLU" else "leaky_relu"
        if class_name in ("ELU", "ReLU", "PReLU", "Softmax"):
            activation = class_name.lower()
        if isinstance(activation, str) and activation != "linear" and activation not in names:
            names.append(activation)
    return names


# ---------------------------------------------------------------- building it

def _keras_load(path: Path, safe_mode: bool) -> keras.Model:
    import keras

    with warnings.catch_warnings():       # Keras 2 configs pass input_shape to their first layer
        warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
        warnings.filterwarnings("ignore", message=".*legacy.*", category=UserWarning)
        return keras.saving.load_model(path, compile=False, safe_mode=safe_mode)


def keras3_readable_config(config: dict) -> dict | None:
    """The same architecture in the form Keras 3 reads, where a Keras 2 file's form trips it; None if it reads as is.

    Keras <= 2.2 stored a Sequential's config as a bare list of layers, and Keras <= 2.3 gave a
    Sequential's first layer its `batch_input_shape` instead of an InputLayer, which Keras 3 takes
    for a shape without the batch (it builds a 5-D input). Both are rewritten as Keras 2.4+ wrote
    them; no layer or setting changes.
    """
    if config.get("class_name") != "Sequential":
        return None
    body = config.get("config")
    layers = model_layers(config)
    changed = isinstance(body, list)
    first = layers[0] if layers else {}
    first_config = first.get("config") if isinstance(first.get("config"), dict) else {}
    if first.get("class_name") != "InputLayer" and "batch_input_shape" in first_config:
        first_config = dict(first_config)
        input_layer = {"class_name": "InputLayer", "config": {
            "batch_input_shape": first_config.pop("batch_input_shape"),
            "dtype": first_config.get("dtype", "float32"), "sparse": False,
            "name": f"{first_config.get('name', 'layer')}_input"}}
        layers = [input_layer, {**first, "config": first_config}, *layers[1:]]
        changed = True
    if not changed:
        return None
    name = body.get("name", "sequential") if isinstance(body, dict) else "sequential"
    return {"class_name": "Sequential", "config": {"name": name, "layers": layers}}


def _build(stored: StoredModel, safe_mode: bool) -> keras.Model:
    """Keras builds the model the file describes, its weights loaded layer by layer."""
    readable = keras3_readable_config(stored.config) if stored.format == "hdf5" else None
    if readable is None:
        return _keras_load(stored.path, safe_mode)
    # the same layers in the form Keras 3 reads, in a scratch copy of the file (the user's is never written)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "model.h5"
        shutil.copyfile(stored.path, copy)
        with h5py.File(copy, "r+") as handle:
            handle.attrs["model_config"] = json.dumps(readable).encode("utf-8")
        return _keras_load(copy, safe_mode)


def _version_label(stored: StoredModel) -> str:
    kind = "HDF5" if stored.format == "hdf5" else ".keras"
    if not stored.keras_version:
        return f"Keras {kind}"
    major_minor = ".".join(stored.keras_version.split(".")[:2])
    return f"Keras {major_minor} {kind}"


def describe(stored: StoredModel, model: keras.Model, contract: InputContract) -> str:
    """The start-up line's account of a loaded model."""
    layers = sum(1 for layer in walk_layers(stored.config)
                 if layer.get("class_name") not in ("InputLayer", *MODEL_CLASSES))
    activations = layer_activations(stored.config)
    height, width, channels = contract.shape
    return (f"{stored.path.name}: {_version_label(stored)}, {layers} layers"
            + (f" ({', '.join(activations)})" if activations else "")
            + f", input {height}x{width}x{channels} ({contract.summary}), {model.count_params():,} parameters")


def check_model_file(path: str | Path, trust_model_code: bool = False) -> StoredModel:
    """Everything that can be refused before anything is built (no TensorFlow): ModelFileError, one sentence.

    A missing, foreign or truncated file, a weights-only HDF5, a Keras 1 file, and, unless
    `trust_model_code`, a layer that needs code.
    """
    stored = read_model_file(path)
    findings = code_in_architecture(stored.config)
    if findings and not trust_model_code:
        raise ModelFileError(findings[0].sentence(stored.path.name) + ".")
    if written_by_keras_1(stored):
        raise ModelFileError(f"{stored.path.name} was written by Keras {stored.keras_version or '1'}, whose layer "
                             f"configs Keras 3 cannot rebuild: load it in Keras 2 and save it again (model.save).")
    return stored


def load_model_file(path: str | Path, trust_model_code: bool = False) -> LoadedModel:
    """Build the steering model a .keras or Keras 2 .h5 file describes; ModelFileError (one sentence) if it can't.

    Without `trust_model_code` no code stored in the file runs: a layer that needs code is refused.
    """
    stored = check_model_file(path, trust_model_code)
    name = stored.path.name
    holds_code = bool(code_in_architecture(stored.config))
    try:
        model = _build(stored, safe_mode=not trust_model_code)
    except BUILD_ERRORS as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if holds_code:
            raise ModelFileError(f"{name}'s stored code could not be run here ({reason}): a model file's code is "
                                 f"bytecode of the Python that saved it; save the model again without it.") from exc
        raise ModelFileError(f"{name} could not be built by Keras ({reason}).") from exc
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelFileError(f"{name} has {len(model.inputs)} inputs and {len(model.outputs)} outputs, but a "
                             f"steering model takes one image and returns one steering value.")
    input_shape = tuple(model.inputs[0].shape)
    contract = contract_for_input_shape(input_shape[1:])
    if contract is None:
        raise ModelFileError(f"{name} takes input {input_shape}, but a steering model here takes "
                             f"{contracts_sentence()}.")
    output_shape = tuple(model.outputs[0].shape)
    if tuple(output_shape[1:]) not in ((1,), ()):
        raise ModelFileError(f"{name} returns {output_shape} per batch, but a steering model returns one "
                             f"value per image (None, 1).")
    return LoadedModel(model, contract, stored.path, describe(stored, model, contract), code_ran=holds_code)
