"""Load a steering model (.keras from this pipeline, or the seed's Keras 2 model.h5) and
predict one frame in about a millisecond.

`model.predict` builds a data pipeline on every call (about 45 ms for one frame on a CPU);
`FastPredictor` traces the model once into a `tf.function` with a fixed input signature
and warms it up at load, so a frame costs one graph call. `SeedStylePredictor` keeps the
seed's per-frame path (float64 preprocessing + `model.predict`) for side-by-side benchmarks.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import keras
import numpy as np
import tensorflow as tf

from pilot.imaging import MODEL_INPUT_SHAPE, preprocess, seed_img_preprocess
from pilot.litert import LITERT_SUFFIX
from pilot.model import build_pilotnet

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


class ModelLoadError(Exception):
    """A model file that is missing, unreadable, or does not fit the drive server's input."""


def _check_shapes(model: keras.Model, path: Path) -> None:
    input_shape = tuple(model.inputs[0].shape) if model.inputs else None
    if input_shape is None or tuple(input_shape[1:]) != MODEL_INPUT_SHAPE:
        raise ModelLoadError(
            f"{path} takes input {input_shape}, but the drive server feeds the seed's "
            f"preprocessed {MODEL_INPUT_SHAPE[0]}x{MODEL_INPUT_SHAPE[1]}x3 YUV images in [0, 1]: "
            f"use a model trained by this pipeline or by the seed's notebook."
        )
    output_shape = tuple(model.outputs[0].shape)
    if output_shape[1:] != (1,):
        raise ModelLoadError(
            f"{path} returns {output_shape} per batch, but a steering model must return one "
            f"value per image (None, 1): use a model trained by this pipeline or the seed's notebook."
        )


def _load_weights_by_layer_order(path: Path) -> keras.Model:
    """Seed-era HDF5 whose config Keras 3 cannot read: PilotNet + the file's weights in order."""
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


def load_steering_model(path: str | Path) -> keras.Model:
    """Load a .keras model or a legacy Keras 2 HDF5 model.h5; check it takes 66x200x3.

    Raises ModelLoadError with one sentence a user can act on.
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
    is_hdf5 = h5py.is_hdf5(path)
    try:
        # compile=False: a driving server never trains, and Keras 3 cannot deserialize the
        # seed's Keras 2 training config ('mse' as keras.metrics.mse).
        with warnings.catch_warnings():   # Keras 2 configs pass input_shape to Conv2D
            warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
            model = keras.models.load_model(path, compile=False)
    except (ValueError, TypeError, KeyError, OSError) as exc:
        if not is_hdf5:
            raise ModelLoadError(f"{path} could not be read as a Keras model ({exc}).") from exc
        model = _load_weights_by_layer_order(path)
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
        self.predict_rgb(np.zeros((160, 320, 3), np.uint8))  # trace + warm up at load

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


def load_predictor(path: str | Path, inference: str = "fast") -> FastPredictor | SeedStylePredictor:
    """Load the model at `path` and wrap it: 'fast' (default) or 'seed' (benchmarks only)."""
    model = load_steering_model(path)
    if inference == "fast":
        return FastPredictor(model)
    if inference == "seed":
        return SeedStylePredictor(model)
    raise ValueError(f"unknown inference '{inference}': use 'fast' or 'seed'")

