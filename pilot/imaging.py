"""Decoding, the seed's preprocessing and the stored encoding: the one source of truth for model input.

Every path that feeds the network (augment -> TFRecords, the drive server, evaluate,
road_test) goes through `preprocess` so that training and driving see the same bytes.
`encode_image` turns a preprocessed image into the bytes a TFRecord stores; it needs no
TensorFlow, so augment's worker processes run it (pilot.records decodes in tf.data).
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
IMAGE_ENCODINGS = ("png", "raw")  # both lossless: png is ~3x smaller, raw needs no decoding
# Paeth filter + run-length deflate: on simulator frames 13.2 kB (3.0x smaller than raw) in
# ~0.6 ms, where cv2's default (adaptive filter, zlib level 3) gives 15.2 kB in ~1.4 ms
# (bench/train_input.py --formats raw,png,png-zlib1,png-zlib3,png-zlib6 compares them).
PNG_FLAGS = (cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_PAETH,
             cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE)


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


def encode_image(preprocessed: np.ndarray, encoding: str, png_flags: tuple[int, ...] = PNG_FLAGS) -> bytes:
    """A preprocessed uint8 (66, 200, 3) YUV image -> the bytes a record stores, losslessly.

    'raw': the array's bytes, row-major. 'png': a PNG that holds Y, U, V as its R, G, B
    channels; cv2.imencode reads its input as B, G, R, so the channels go in reversed and
    tf.io.decode_png returns Y, U, V again, bit for bit.
    """
    if preprocessed.dtype != np.uint8 or preprocessed.shape != MODEL_INPUT_SHAPE:
        raise ValueError(f"expected uint8 {MODEL_INPUT_SHAPE}, got {preprocessed.dtype} {preprocessed.shape}")
    if encoding == "raw":
        return preprocessed.tobytes()
    if encoding != "png":
        raise ValueError(f"unknown image encoding '{encoding}': use one of {', '.join(IMAGE_ENCODINGS)}")
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(preprocessed[:, :, ::-1]), list(png_flags))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buffer.tobytes()


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
