"""The simulator's images: RGB JPEGs (recordings' IMG/, the telemetry's base64 image), decoded as the seed does.

OpenCV's imdecode returns BGR; feeding that to COLOR_RGB2YUV is the classic silent bug of
this field, so decoding lives here and nowhere else: PIL, converted to RGB.
"""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image


def decode_jpeg_rgb(jpeg_bytes: bytes) -> np.ndarray:
    """Decode JPEG bytes to an HxWx3 uint8 RGB array, exactly as the seed does (PIL).

    Raises ValueError if the bytes are not a decodable image.
    """
    try:
        with Image.open(io.BytesIO(jpeg_bytes)) as image:
            image.load()
            return np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a decodable image: {exc}") from exc


def image_size_px(image_bytes: bytes) -> tuple[int, int]:
    """(width, height) from an image's header, without decoding it: cheap whatever size it claims.

    Raises ValueError if the bytes are not an image PIL can open, or claim a decompression bomb.
    """
    try:
        with warnings.catch_warnings():     # a large claimed size warns; the caller judges the size
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image_bytes)) as image:
                return image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not an image: {exc}") from exc


def read_jpeg_rgb(path: str) -> np.ndarray:
    """Read and decode a JPEG file to RGB uint8 (see decode_jpeg_rgb)."""
    with open(path, "rb") as handle:
        return decode_jpeg_rgb(handle.read())
