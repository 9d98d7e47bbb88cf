"""Steering from one camera frame in about a millisecond, for any model the loader builds.

`model.predict` builds a data pipeline on every call (about 45 ms for one frame on a CPU);
`FastPredictor` traces the model once into a `tf.function` with a fixed input signature (one
uint8 frame of the model's input contract, the division to float inside the graph) and warms
it up at load, so a frame costs one graph call. `SeedStylePredictor` keeps the seed's
per-frame path (float64 preprocessing + `model.predict`) for side-by-side benchmarks.

Every predictor has `predict_rgb(rgb)` (a camera frame in) and `predict_input(image)` (the
contract's uint8 image in); the LiteRT predictor (pilot.learn.litert) has the same two.
`FlipAveragedPredictor` wraps any of them (`flip_average` in params.yaml's drive, evaluate and
replay sections): the steering is the mean of the frame's and of its mirror image's, the second's
sign turned back. It steers from camera frames only (the mirror is turned back to the rig's yaw
and roll on the full frame), so it has `predict_rgb` alone.
"""
from __future__ import annotations

from typing import Protocol

import keras
import numpy as np
import tensorflow as tf

from pilot.data.augment import flip
from pilot.imaging import CAMERA_FRAME_SHAPE, SEED_INPUT, InputContract, seed_img_preprocess
from pilot.udacity.camera_rig import CameraRig


class SteeringPredictor(Protocol):
    contract: InputContract

    def predict_input(self, image: np.ndarray) -> float: ...

    def predict_rgb(self, rgb: np.ndarray) -> float: ...


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

    def __init__(self, model: keras.Model, contract: InputContract = SEED_INPUT) -> None:
        self.model = model
        self.contract = contract
        signature = [tf.TensorSpec((1, *contract.shape), tf.uint8)]
        divisor = contract.divisor

        @tf.function(input_signature=signature)
        def steer(image_uint8: tf.Tensor) -> tf.Tensor:
            return model(tf.cast(image_uint8, tf.float32) / divisor, training=False)

        # the concrete function skips tf.function's per-call dispatch (~0.2 ms of a ~1.2 ms call)
        self._steer = steer.get_concrete_function()
        self.predict_rgb(np.zeros(CAMERA_FRAME_SHAPE, np.uint8))  # trace + warm up at load

    def predict_input(self, image: np.ndarray) -> float:
        """The contract's uint8 image (for the seed's: pilot.imaging.preprocess) -> raw model output."""
        output = self._steer(tf.convert_to_tensor(image[np.newaxis]))
        return float(output.numpy().reshape(-1)[0])

    def predict_rgb(self, rgb: np.ndarray) -> float:
        """An RGB camera frame (uint8 HxWx3) -> raw model output."""
        return self.predict_input(self.contract.prepare(rgb))


class SeedStylePredictor:
    """The seed's automatico.py inference, verbatim in spirit: float64 preprocess + predict."""

    contract = SEED_INPUT

    def __init__(self, model: keras.Model) -> None:
        self.model = model

    def predict_input(self, image: np.ndarray) -> float:
        return float(self.model.predict(image[np.newaxis] / 255, verbose=0).reshape(-1)[0])

    def predict_rgb(self, rgb: np.ndarray) -> float:
        image = np.array([seed_img_preprocess(rgb)])
        return float(self.model.predict(image, verbose=0).reshape(-1)[0])


class FlipAveragedPredictor:
    """Test-time flip: the mean of the model's steering on the frame and minus its steering on the mirrored frame.

    Training mirrors half its examples with the steering negated (pilot.data.augment.flip, turned back to the
    simulator's rig), so a model should steer a mirrored road the other way by as much. Where it does not, the
    difference is a steady lean to one side, which sign and size change from one training seed to the next
    (measured: 0.13 m of a 0.14 m mean |cross-track| on the flat tracks with one seed, README); the average
    cancels it and keeps what the two views agree on. Two model calls and one perspective warp a frame.
    """

    def __init__(self, predictor, rig: CameraRig | None = None) -> None:
        self.predictor = predictor
        self.contract = predictor.contract
        self.rig = CameraRig() if rig is None else rig

    def predict_rgb(self, rgb: np.ndarray) -> float:
        """An RGB camera frame (uint8 HxWx3) -> the mean of its steering and its mirror's, sign turned back."""
        mirrored, _ = flip(rgb, 0.0, self.rig)
        return 0.5 * (self.predictor.predict_rgb(rgb) - self.predictor.predict_rgb(mirrored))
