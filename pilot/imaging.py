"""The seed's preprocessing and the models' input contracts: the one source of truth for model input.

Every path that feeds the network (augment -> TFRecords, the drive server, evaluate,
replay, road_test) goes through `preprocess` (or a contract's `prepare`) so that training
and driving see the same bytes. Camera frames are decoded to RGB by pilot.udacity.images.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pilot.udacity.simulator import IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX

CROP_ROWS = (60, 135)            # the seed keeps rows 60:135 (drops sky and hood)
BLUR_KERNEL = (3, 3)             # Gaussian, sigma derived from the kernel (sigma=0)
MODEL_HEIGHT_PX = 66
MODEL_WIDTH_PX = 200
MODEL_INPUT_SHAPE = (MODEL_HEIGHT_PX, MODEL_WIDTH_PX, 3)
CAMERA_FRAME_SHAPE = (IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX, 3)   # the simulator's camera frame, RGB


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """The seed's img_preprocess, bit for bit, without the final /255.

    crop rows 60:135 -> RGB->YUV -> Gaussian blur 3x3 -> resize to 200x66 (bilinear).
    Returns uint8 (66, 200, 3); `to_model_input` divides by 255.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
    cropped = rgb[CROP_ROWS[0]:CROP_ROWS[1], :, :]
    yuv = cv2.cvtColor(cropped, cv2.COLOR_RGB2YUV)
    blurred = cv2.GaussianBlur(yuv, BLUR_KERNEL, 0)
    return cv2.resize(blurred, (MODEL_WIDTH_PX, MODEL_HEIGHT_PX))


def to_model_input(preprocessed: np.ndarray) -> np.ndarray:
    """uint8 preprocessed image(s) -> float32 in [0, 1], the model's input contract."""
    return preprocessed.astype(np.float32) / np.float32(255.0)


def seed_img_preprocess(img: np.ndarray) -> np.ndarray:
    """The seed notebook's function verbatim (float64 output); kept for tests and benchmarks."""
    img = img[60:135, :, :]
    img = cv2.cvtColor(img, cv2.COLOR_RGB2YUV)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    img = cv2.resize(img, (200, 66))
    img = img / 255
    return img


# ---------------------------------------------------------------- what a model takes as input

@dataclass(frozen=True)
class InputContract:
    """What a steering model takes: which uint8 image a camera frame becomes, and what float it sees.

    The model sees float32(`prepare(rgb)`) / `divisor`: a division, not a multiplication, so that the
    seed's contract gives the bytes `to_model_input` gives.
    """
    name: str
    shape: tuple[int, int, int]
    divisor: float
    summary: str                     # for start-up lines: what the server feeds the model
    tensor_name: str                 # the input's name in an exported (LiteRT) model

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """A camera frame (RGB uint8) -> the uint8 image this contract feeds the model."""
        if self.shape == MODEL_INPUT_SHAPE:
            return preprocess(rgb)
        if rgb.dtype != np.uint8 or rgb.shape != self.shape:
            raise ValueError(f"expected a {self.shape[1]}x{self.shape[0]} RGB uint8 camera frame, "
                             f"got {rgb.dtype} {rgb.shape}")
        return rgb


# the seed's notebook: the model takes the preprocessed 66x200 YUV image in [0, 1]
SEED_INPUT = InputContract("seed", MODEL_INPUT_SHAPE, 255.0, "seed preprocessing", "yuv_image")
# the Udacity P3 convention: the model takes the camera's RGB frame in 0..255 and crops and normalises itself
CAMERA_INPUT = InputContract("camera", CAMERA_FRAME_SHAPE, 1.0,
                             "the camera frame as it is; the model crops and normalises", "rgb_image")
INPUT_CONTRACTS = (SEED_INPUT, CAMERA_INPUT)


def contract_for_input_shape(shape: tuple) -> InputContract | None:
    """The contract of a model whose input is (height, width, channels) `shape`; None if none fits."""
    return next((contract for contract in INPUT_CONTRACTS if tuple(shape) == contract.shape), None)


def contracts_sentence() -> str:
    """The supported input shapes, for a sentence that refuses another."""
    return " or ".join(f"{c.shape[0]}x{c.shape[1]}x{c.shape[2]} ({c.summary})" for c in INPUT_CONTRACTS)
