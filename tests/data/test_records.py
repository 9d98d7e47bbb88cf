"""The one TFRecord schema: round trip, shards, the input pipeline, the manifest.

The PNG records (schema 2) must feed the model exactly what today's raw records fed it:
the same float32 bytes for the same examples, in the same order.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pilot.data.codec import encode_image
from pilot.data.records import (
    IMAGE_ENCODING,
    SCHEMA_VERSION,
    ShardWriter,
    make_dataset,
    parse_example,
    read_manifest,
    read_raw_examples,
    schema_description,
    serialize_example,
    shard_files,
    shard_name,
    write_manifest,
)
from pilot.imaging import MODEL_INPUT_SHAPE, preprocess, to_model_input
from pilot.sim.camera import Light, Renderer, encode_jpeg
from pilot.sim.episode import start_state
from pilot.sim.track import generate_track
from pilot.udacity.images import decode_jpeg_rgb


def _images(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, MODEL_INPUT_SHAPE, dtype=np.uint8) for _ in range(count)]


def _camera_images(count: int) -> list[np.ndarray]:
    """Preprocessed frames of the headless simulator's camera (real JPEGs): what augment stores."""
    track = generate_track(7)
    renderer = Renderer(track)
    return [preprocess(decode_jpeg_rgb(encode_jpeg(renderer.render(
        start_state(track, s_m=track.length_m * i / count), ("center", "left", "right")[i % 3],
        Light(brightness=0.6 + 0.1 * (i % 7), warmth=0.1 * (i % 5)))))) for i in range(count)]


def _write(tmp_path, split: str, images: list[np.ndarray], shard_size: int,
           encoding: str = IMAGE_ENCODING, compression: str = "") -> ShardWriter:
    with ShardWriter(tmp_path, split, len(images), shard_size, compression=compression) as writer:
        for index, image in enumerate(images):
            writer.write(serialize_example(image, index / 100, encoding))
    return writer


@pytest.fixture(scope="module")
def mixed_images() -> list[np.ndarray]:
    """Camera frames, noise and flat colours (one channel apart: a channel swap shows)."""
    flat = [np.full(MODEL_INPUT_SHAPE, value, np.uint8) for value in ((16, 128, 235), (0, 0, 255))]
    return _camera_images(9) + _images(3, seed=4) + flat


def test_parse_returns_the_model_input_of_the_stored_bytes():
    image = _images(1)[0]
    parsed_image, steering = parse_example(serialize_example(image, -0.375))
    assert parsed_image.dtype.name == "float32" and tuple(parsed_image.shape) == MODEL_INPUT_SHAPE
    assert np.array_equal(parsed_image.numpy(), to_model_input(image))
    assert float(steering) == -0.375


def test_png_records_feed_the_model_the_same_bytes_as_todays_raw_records(tmp_path, mixed_images):
    for encoding in ("raw", "png"):
        _write(tmp_path / encoding, "val", mixed_images, shard_size=5, encoding=encoding)
    expected = to_model_input(np.stack(mixed_images))
    for training in (False, True):
        fed = {}
        for encoding in ("raw", "png"):
            dataset = make_dataset(shard_files(tmp_path / encoding, "val"), batch_size=7, training=training,
                                   shuffle_buffer=20, seed=5, encoding=encoding)
            batches = list(dataset.take(4 if training else -1))
            fed[encoding] = (np.concatenate([x.numpy() for x, _ in batches]),
                             np.concatenate([y.numpy() for _, y in batches]))
        assert fed["png"][0].dtype == np.float32 and fed["png"][0].tobytes() == fed["raw"][0].tobytes()
        assert np.array_equal(fed["png"][1], fed["raw"][1])
        if not training:
            assert fed["png"][0].tobytes() == expected.tobytes()
    stored = read_raw_examples(shard_files(tmp_path / "png", "val"))
    assert all(np.array_equal(image, got) for image, (got, _) in zip(mixed_images, stored))


def test_the_png_holds_y_u_v_as_its_r_g_b_channels(mixed_images):
    # A third decoder (PIL) agrees: the file is an ordinary RGB PNG whose R, G, B are Y, U, V.
    for image in mixed_images[-4:]:
        with Image.open(io.BytesIO(encode_image(image, "png"))) as png:
            assert png.mode == "RGB" and np.array_equal(np.asarray(png), image)


def test_png_records_are_smaller_than_raw_for_camera_frames(tmp_path):
    images = _camera_images(6)
    for encoding in ("raw", "png"):
        _write(tmp_path / encoding, "train", images, shard_size=10, encoding=encoding)
    size = {encoding: sum(Path(f).stat().st_size for f in shard_files(tmp_path / encoding, "train"))
            for encoding in ("raw", "png")}
    assert size["png"] < size["raw"] / 2


def test_compressed_shards_read_back_the_same(tmp_path, mixed_images):
    _write(tmp_path, "val", mixed_images, shard_size=50, encoding="raw", compression="GZIP")
    dataset = make_dataset(shard_files(tmp_path, "val"), batch_size=50, training=False, encoding="raw",
                           compression="GZIP")
    (images, _), = list(dataset)
    assert images.numpy().tobytes() == to_model_input(np.stack(mixed_images)).tobytes()


def test_serialized_bytes_do_not_depend_on_the_process_string_hashing():
    # Features is a protobuf map; its key order follows PYTHONHASHSEED unless serialised
    # deterministically (hash seeds 0 and 2 give different orders with this protobuf).
    code = ("import sys, numpy as np; from pilot.data.records import serialize_example; "
            "sys.stdout.buffer.write(serialize_example(np.arange(39600, dtype=np.uint8).reshape(66, 200, 3), 0.25))")
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout
        for seed in ("0", "2")
    }
    assert len(outputs) == 1


def test_serialize_refuses_anything_but_a_preprocessed_uint8_image():
    with pytest.raises(ValueError, match="expected uint8"):
        serialize_example(np.zeros(MODEL_INPUT_SHAPE, np.float32), 0.0)
    with pytest.raises(ValueError, match="expected uint8"):
        serialize_example(np.zeros((160, 320, 3), np.uint8), 0.0)
    with pytest.raises(ValueError, match="unknown image encoding 'jpeg'"):
        serialize_example(np.zeros(MODEL_INPUT_SHAPE, np.uint8), 0.0, "jpeg")


def test_shards_are_named_and_filled_in_order(tmp_path):
    images = _images(5)
    writer = _write(tmp_path, "train", images, shard_size=2)
    assert shard_name("train", 3, 16) == "train-00003-of-00016.tfrecord"
    assert [shard["examples"] for shard in writer.shards()] == [2, 2, 1]
    files = shard_files(tmp_path, "train")
    assert [path.rsplit("/", 1)[-1] for path in files] == [f"train-0000{i}-of-00003.tfrecord" for i in range(3)]
    stored = read_raw_examples(files)
    assert all(np.array_equal(image, got) for image, (got, _) in zip(images, stored))
    assert [round(steering, 2) for _, steering in stored] == [0.0, 0.01, 0.02, 0.03, 0.04]
    with pytest.raises(FileNotFoundError, match="run the augment stage"):
        shard_files(tmp_path, "val")


def test_shards_are_renamed_when_fewer_examples_arrive_than_planned(tmp_path):
    writer = _write(tmp_path, "train", _images(3), shard_size=2)     # planned for 3: two shards
    assert writer.num_shards == 2
    with ShardWriter(tmp_path, "val", expected_examples=5, shard_size=2) as short:   # 3 of 5 arrive
        for image in _images(3):
            short.write(serialize_example(image, 0.0))
    assert [path.rsplit("/", 1)[-1] for path in shard_files(tmp_path, "val")] == [
        "val-00000-of-00002.tfrecord", "val-00001-of-00002.tfrecord"]
    assert short.shards() == [{"file": "val-00000-of-00002.tfrecord", "examples": 2},
                              {"file": "val-00001-of-00002.tfrecord", "examples": 1}]


def test_evaluation_dataset_reads_everything_once_in_order(tmp_path):
    images = _images(7)
    _write(tmp_path, "val", images, shard_size=3)
    batches = list(make_dataset(shard_files(tmp_path, "val"), batch_size=4, training=False))
    assert [int(x.shape[0]) for x, _ in batches] == [4, 3]
    got = np.concatenate([x.numpy() for x, _ in batches])
    assert np.array_equal(got, to_model_input(np.stack(images)))


def test_training_dataset_shuffles_repeats_and_follows_its_seed(tmp_path):
    images = _images(10)
    _write(tmp_path, "train", images, shard_size=4)
    files = shard_files(tmp_path, "train")

    def steering_order(seed: int) -> list[float]:
        dataset = make_dataset(files, batch_size=5, training=True, shuffle_buffer=10, seed=seed)
        return [round(float(s), 2) for _, y in dataset.take(6) for s in y.numpy()]

    first = steering_order(seed=3)
    assert first == steering_order(seed=3)
    assert len(first) == 30                                   # repeats past one pass of 10
    assert sorted(first[:10]) == [i / 100 for i in range(10)]   # each pass is a permutation
    assert first[:10] != sorted(first[:10]) and first[:10] != first[10:20]


def test_manifest_round_trip_and_version_check(tmp_path):
    write_manifest(tmp_path, {**schema_description(), "splits": {"train": {"examples": 3}}})
    manifest = read_manifest(tmp_path)
    assert manifest["splits"]["train"]["examples"] == 3
    assert manifest["schema_version"] == SCHEMA_VERSION == 2 and manifest["image_encoding"] == "png"
    for stale in ({"schema_version": 1}, {"schema_version": SCHEMA_VERSION, "image_encoding": "jpeg"}):
        (tmp_path / "manifest.json").write_text(json.dumps(stale))
        with pytest.raises(ValueError, match="re-run the augment stage"):
            read_manifest(tmp_path)
    with pytest.raises(FileNotFoundError, match="run the augment stage"):
        read_manifest(tmp_path / "missing")


def test_auto_encoding_is_raw_while_the_records_stay_small_and_png_beyond():
    from pilot.data.codec import AUTO_RAW_LIMIT_BYTES, RAW_EXAMPLE_BYTES, choose_encoding

    fits = AUTO_RAW_LIMIT_BYTES // RAW_EXAMPLE_BYTES
    assert choose_encoding("auto", 78)[0] == "raw"
    assert choose_encoding("auto", fits)[0] == "raw"
    encoding, why = choose_encoding("auto", fits + 1)
    assert encoding == "png" and "over 3.2 GB" in why
    assert choose_encoding("png", 78) == ("png", "as set") and choose_encoding("raw", 10 ** 9) == ("raw", "as set")
    with pytest.raises(ValueError, match=r"^augment.image_encoding must be one of auto, png, raw, got 'jpeg'$"):
        choose_encoding("jpeg", 78)
