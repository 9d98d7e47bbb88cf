"""Byte for byte: drive-time input == TFRecord input == the seed's img_preprocess on an RGB decode."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from pilot.data.examples import ExampleSpec, ExampleTask, make_example
from pilot.data.records import ShardWriter, make_dataset, read_raw_examples, serialize_example, shard_files
from pilot.imaging import preprocess, seed_img_preprocess, to_model_input
from pilot.testing.synthetic import road_frame
from pilot.udacity.images import decode_jpeg_rgb


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


JPEGS = {
    "road": _jpeg(road_frame(0.3, noise_seed=11)),
    "noise": _jpeg(np.random.default_rng(12).integers(0, 256, (160, 320, 3), dtype=np.uint8)),
}


@pytest.mark.parametrize("name", sorted(JPEGS))
def test_drive_path_equals_tfrecord_path_and_the_seed(tmp_path, name):
    jpeg = JPEGS[name]
    drive_uint8 = preprocess(decode_jpeg_rgb(jpeg))
    drive_input = to_model_input(drive_uint8)                # what the drive server feeds the model

    # The seed: matplotlib's imread of a JPEG is PIL's RGB decode; img_preprocess returns float64.
    seed_input = seed_img_preprocess(np.asarray(Image.open(io.BytesIO(jpeg))))
    assert seed_input.dtype == np.float64
    assert np.array_equal(drive_input, seed_input.astype(np.float32))
    assert np.array_equal(np.rint(seed_input * 255).astype(np.uint8), drive_uint8)

    # The TFRecord path: the augment stage's validation example, written, then read by training.
    (tmp_path / "center.jpg").write_bytes(jpeg)
    task = ExampleTask(index=0, frame=0, center="center.jpg", left="-", right="-", steering=0.5)
    example = make_example(task, ExampleSpec("val", seed=1, augment=False, steering_correction=0.15,
                                             image_root=str(tmp_path)))
    with ShardWriter(tmp_path, "val", 1, shard_size=10) as writer:
        writer.write(serialize_example(example.image, example.steering))
    files = shard_files(tmp_path, "val")
    stored_uint8, _ = read_raw_examples(files)[0]
    assert np.array_equal(stored_uint8, drive_uint8)
    (record_input, steering), = list(make_dataset(files, batch_size=1, training=False))
    assert record_input.dtype.name == "float32"
    assert np.array_equal(record_input.numpy()[0], drive_input)
    assert float(steering.numpy()[0]) == 0.5


def test_the_comparison_catches_the_bgr_decode_bug():
    jpeg = JPEGS["road"]
    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert not np.array_equal(preprocess(bgr), preprocess(decode_jpeg_rgb(jpeg)))
