"""The edge model: a steering model as a LiteRT (TensorFlow Lite) flatbuffer, and a predictor that runs it.

`convert_to_litert` traces the Keras model for one uint8 frame of its input contract, the
division to float included (for the seed's /255 the converter folds it into the first
convolution's weights), and converts it in float32 by default (no quantisation), so its
steering matches the Keras model's within 1e-5. `LiteRTPredictor` has FastPredictor's
interface (one frame in, one steering value out): XNNPACK kernels (the interpreter's default
delegate, asked for explicitly), the frame copied straight into the interpreter's input buffer,
one thread by default (the drive server passes params.yaml's drive.litert_threads: XNNPACK
splits a frame's convolutions across threads, which TensorFlow's kernels do not gain from at
this size).

Speed: see bench/litert_inference.py (the model call alone, side by side with the Keras
predictor at the same thread count) and the README's drive-server section.

Runtime: the `ai-edge-litert` package (`ai_edge_litert.interpreter`), LiteRT's own runtime,
which replaces TensorFlow's deprecated `tf.lite.Interpreter` (same API, same .tflite files).
Serving needs only it and numpy, as on a Raspberry Pi; TensorFlow is imported only to convert,
inside `convert_to_litert`, so the drive stage reads LITERT_SUFFIX without loading it.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pilot.atomic import write_atomic
from pilot.imaging import CAMERA_FRAME_SHAPE, SEED_INPUT, InputContract, contract_for_input_shape, contracts_sentence

if TYPE_CHECKING:
    import keras

LITERT_SUFFIX = ".tflite"
QUANTIZATIONS = ("none", "dynamic")   # float32, or int8 weights with dynamic-range int8 kernels


class LiteRTLoadError(Exception):
    """A .tflite file that is missing, unreadable, or does not fit the drive server's input."""


def convert_to_litert(model: keras.Model, quantization: str = "none", contract: InputContract = SEED_INPUT) -> bytes:
    """A Keras steering model -> a .tflite: one uint8 frame of `contract` in, (1, 1) steering out."""
    import keras
    import tensorflow as tf

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown LiteRT quantization '{quantization}': use one of {', '.join(QUANTIZATIONS)}")

    archive = keras.export.ExportArchive()           # a SavedModel that holds the weights
    archive.track(model)
    divisor = contract.divisor
    archive.add_endpoint(
        "serve",
        lambda image_uint8: model(tf.cast(image_uint8, tf.float32) / divisor, training=False),
        input_signature=[tf.TensorSpec((1, *contract.shape), tf.uint8, name=contract.tensor_name)],
    )
    with tempfile.TemporaryDirectory() as scratch:
        archive.write_out(scratch, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(scratch)
        converter.optimizations = [tf.lite.Optimize.DEFAULT] if quantization == "dynamic" else []
        return converter.convert()


def save_litert(model: keras.Model, path: str | Path, quantization: str = "none",
                contract: InputContract = SEED_INPUT) -> Path:
    """Convert `model` and write it to `path` (.tflite)."""
    path = Path(path)
    if path.suffix != LITERT_SUFFIX:
        raise ValueError(f"a LiteRT model file must end in {LITERT_SUFFIX}, got {path}")
    return write_atomic(path, convert_to_litert(model, quantization, contract))


class LiteRTPredictor:
    """One frame in, one steering value out, through the LiteRT interpreter (one thread by default)."""

    def __init__(self, model_content: bytes, threads: int = 1, source: str = "the model") -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"LiteRT needs a whole number of threads, 1 or more, got {threads!r}")
        try:   # OpResolverType.AUTO applies the XNNPACK delegate (LiteRT's default on x86 and Arm)
            self._interpreter = Interpreter(model_content=model_content, num_threads=threads,
                                            experimental_op_resolver_type=OpResolverType.AUTO)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise LiteRTLoadError(f"{source} could not be read as a LiteRT model ({exc}).") from exc
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        contract = contract_for_input_shape(tuple(inputs[0]["shape"])[1:]) if len(inputs) == 1 else None
        if (contract is None or inputs[0]["shape"][0] != 1 or inputs[0]["dtype"] != np.uint8
                or len(outputs) != 1 or int(np.prod(outputs[0]["shape"])) != 1):
            raise LiteRTLoadError(
                f"{source} takes {[(tuple(d['shape']), d['dtype'].__name__) for d in inputs]} and returns "
                f"{[tuple(d['shape']) for d in outputs]}, but the drive server feeds one uint8 frame of "
                f"{contracts_sentence()} and reads one steering value: convert the model with "
                f"pilot.learn.litert (the drive server and the train stage do)."
            )
        self.contract = contract
        # Zero-copy views of the input and output buffers: a fresh view per call, never one
        # held across invoke() (the interpreter may move its buffers).
        self._input = self._interpreter.tensor(inputs[0]["index"])
        self._output = self._interpreter.tensor(outputs[0]["index"])
        self.predict_rgb(np.zeros(CAMERA_FRAME_SHAPE, np.uint8))  # warm up at load, as FastPredictor

    def predict_input(self, image: np.ndarray) -> float:
        """The contract's uint8 image (for the seed's: pilot.imaging.preprocess) -> raw model output."""
        if image.shape != self.contract.shape or image.dtype != np.uint8:
            raise ValueError(f"expected uint8 {self.contract.shape}, got {image.dtype} {image.shape}")
        self._input()[0] = image
        self._interpreter.invoke()
        return float(self._output().reshape(-1)[0])

    def predict_rgb(self, rgb: np.ndarray) -> float:
        """An RGB camera frame (uint8 HxWx3) -> raw model output."""
        return self.predict_input(self.contract.prepare(rgb))


def load_litert_predictor(path: str | Path, threads: int = 1) -> LiteRTPredictor:
    """Load a .tflite steering model; LiteRTLoadError with one sentence a user can act on."""
    path = Path(path)
    if not path.is_file():
        raise LiteRTLoadError(f"LiteRT model {path} not found: the train stage writes one "
                              f"(dvc repro train), or pass the path of a {LITERT_SUFFIX} file.")
    if path.suffix.lower() != LITERT_SUFFIX:
        raise LiteRTLoadError(f"{path} is not a LiteRT model: pass a {LITERT_SUFFIX} file "
                              f"(or drop --runtime litert to serve a Keras model).")
    return LiteRTPredictor(path.read_bytes(), threads, source=str(path))
