"""Decoding and the seed's preprocessing: the one source of truth for model input.

Every path that feeds the network (augment -> TFRecords, the drive server, evaluate,
road_test) goes through `preprocess` so that training and driving see the same bytes.
"""
from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

CAMERA_HEIGHT_PX = 160
CAMERA_WIDTH_PX = 320
CROP_ROWS = (60, 135)            # the seed keeps rows 60:135 (drops sky and hood)
BLUR_KERNEL = (3, 3)             # Gaussian, sigma derived from the kernel (sigma=0)
MODEL_HEIGHT_PX = 66
MODEL_WIDTH_PX = 200
MODEL_INPUT_SHAPE = (MODEL_HEIGHT_PX, MODEL_WIDTH_PX, 3)


def decode_jpeg_rgb(jpeg_bytes: bytes) -> np.ndarray:
    """Decode JPEG bytes to an HxWx3 uint8 RGB array, exactly as the seed does (PIL).

    OpenCV's imdecode returns BGR; feeding that to COLOR_RGB2YUV is the classic
    silent bug of this field, so decoding lives here and nowhere else.
    Raises ValueError if the bytes are not a decodable image.
    """
    try:
        with Image.open(io.BytesIO(jpeg_bytes)) as image:
            image.load()
            return np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a decodable image: {exc}") from exc


def read_jpeg_rgb(path: str) -> np.ndarray:
    """Read and decode a JPEG file to RGB uint8 (see decode_jpeg_rgb)."""
    with open(path, "rb") as handle:
        return decode_jpeg_rgb(handle.read())


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
