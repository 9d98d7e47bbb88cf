"""The stored image's lossless encoding, without TensorFlow: augment's worker processes encode.

A record stores the seed's preprocessed image (uint8 66x200x3 YUV) as a PNG or as raw
bytes; pilot.data.records decodes it in the tf.data pipeline. Kept apart from pilot.imaging
so that a change of storage format leaves the stages that only decode and preprocess
(simulate, ingest) untouched in DVC's graph.
"""
from __future__ import annotations

import cv2
import numpy as np

from pilot.imaging import MODEL_INPUT_SHAPE

IMAGE_ENCODINGS = ("png", "raw")  # both lossless: png is ~3x smaller, raw needs no decoding
ENCODING_SETTINGS = ("auto", *IMAGE_ENCODINGS)   # augment.image_encoding
RAW_EXAMPLE_BYTES = int(np.prod(MODEL_INPUT_SHAPE))   # 39,600: one raw image
# auto: raw while the records stay this small (the default data's are 1.6 GB raw, 0.45 GB as PNG); training in
# mixed bfloat16 spends ~15 % of its CPU decoding PNGs (bench/train_input.py --precision mixed_bfloat16)
AUTO_RAW_LIMIT_BYTES = 3 * 1024 ** 3
# Paeth filter + run-length deflate: on simulator frames 13.0 kB (3.0x smaller than raw) in
# ~0.6 ms, where cv2's default (adaptive filter, zlib level 3) gives 15.1 kB in ~1.5 ms
# (bench/train_input.py --formats raw,png,png-zlib1,png-zlib3,png-zlib6 compares them).
PNG_FLAGS = (cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_PAETH,
             cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE)


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


def choose_encoding(setting: str, examples: int) -> tuple[str, str]:
    """augment.image_encoding -> (the encoding the records get, why); ValueError with one sentence for a bad setting.

    auto: raw (nothing to decode while training) while `examples` raw images fit AUTO_RAW_LIMIT_BYTES, else png
    (3.25x smaller, decoded in the input pipeline).
    """
    if setting not in ENCODING_SETTINGS:
        raise ValueError(f"augment.image_encoding must be one of {', '.join(ENCODING_SETTINGS)}, got {setting!r}")
    if setting != "auto":
        return setting, "as set"
    size_gb = examples * RAW_EXAMPLE_BYTES / 1e9
    limit_gb = AUTO_RAW_LIMIT_BYTES / 1e9
    if examples * RAW_EXAMPLE_BYTES <= AUTO_RAW_LIMIT_BYTES:
        return "raw", f"{examples} examples are {size_gb:.1f} GB raw, within {limit_gb:.1f} GB: nothing to decode"
    return "png", f"{examples} examples would be {size_gb:.1f} GB raw, over {limit_gb:.1f} GB: PNG, ~3x smaller"
