"""The TFRecord schema in one place: serialise, parse, shard, read back, and the manifest.

An example is the seed's preprocessed image (66x200x3 YUV uint8) and its steering (-1..1,
float32). The image is stored losslessly (pilot.data.codec, run in augment's workers), as raw
bytes or as a PNG (about 3x smaller, decoded in the tf.data pipeline); augment.image_encoding
chooses (`auto`: raw while the records stay small, codec.choose_encoding). The reader
divides by 255 in float32, which is `pilot.imaging.to_model_input`: the model's input
contract, the same bytes for either encoding. The manifest names the encoding;
`make_dataset` takes it as an argument (the stages pass the manifest's).
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from pilot.data.codec import IMAGE_ENCODINGS, encode_image
from pilot.imaging import CROP_ROWS, MODEL_INPUT_SHAPE

SCHEMA_VERSION = 2           # 2: the image's encoding is named in the manifest (png or raw); 1 was raw only
IMAGE_ENCODING = "png"       # the functions' default when no manifest is at hand (augment chooses its own)
IMAGE_KEY = "image"          # the encoded image: a PNG, or raw uint8 bytes (H, W, C) row-major
STEERING_KEY = "steering"    # float32, normalised -1..1
FEATURE_SPEC = {
    IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
    STEERING_KEY: tf.io.FixedLenFeature([], tf.float32),
}
MANIFEST_NAME = "manifest.json"
SHARD_SUFFIX = ".tfrecord"
READ_CYCLE_LENGTH = 4        # shards read at once by the interleave


def check_encoding(encoding: str) -> str:
    """`encoding` if it is one this schema knows; ValueError with one sentence if not."""
    if encoding not in IMAGE_ENCODINGS:
        raise ValueError(f"unknown image encoding '{encoding}': use one of {', '.join(IMAGE_ENCODINGS)}")
    return encoding


def serialize_encoded(image_bytes: bytes, steering: float) -> bytes:
    """An image already encoded by pilot.data.codec.encode_image and its steering -> a tf.train.Example."""
    feature = {
        IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_bytes])),
        STEERING_KEY: tf.train.Feature(float_list=tf.train.FloatList(value=[float(steering)])),
    }
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    # Features is a protobuf map: without deterministic=True its key order follows the
    # process's string hashing, and the same example gives different bytes per run.
    return example.SerializeToString(deterministic=True)


def serialize_example(image: np.ndarray, steering: float, encoding: str = IMAGE_ENCODING) -> bytes:
    """One preprocessed uint8 image and its steering -> a serialised tf.train.Example."""
    return serialize_encoded(encode_image(image, check_encoding(encoding)), steering)


def decode_images(encoded: tf.Tensor, encoding: str) -> tf.Tensor:
    """A batch of encoded images (strings) -> uint8 images (N, 66, 200, 3), as they were stored."""
    if check_encoding(encoding) == "raw":
        return tf.reshape(tf.io.decode_raw(encoded, tf.uint8), (-1, *MODEL_INPUT_SHAPE))
    return tf.map_fn(lambda png: tf.io.decode_png(png, channels=3), encoded,
                     fn_output_signature=tf.TensorSpec(MODEL_INPUT_SHAPE, tf.uint8))


def parse_batch(serialized: tf.Tensor, encoding: str = IMAGE_ENCODING) -> tuple[tf.Tensor, tf.Tensor]:
    """A batch of serialised examples -> (float32 images in [0, 1], float32 steering)."""
    parsed = tf.io.parse_example(serialized, FEATURE_SPEC)
    images = decode_images(parsed[IMAGE_KEY], encoding)
    return tf.math.divide(tf.cast(images, tf.float32), tf.constant(255.0, tf.float32)), parsed[STEERING_KEY]


def parse_example(serialized: tf.Tensor, encoding: str = IMAGE_ENCODING) -> tuple[tf.Tensor, tf.Tensor]:
    """One serialised example -> (float32 image (66, 200, 3) in [0, 1], float32 steering)."""
    images, steering = parse_batch(tf.expand_dims(serialized, 0), encoding)
    return images[0], steering[0]


def shard_name(split: str, shard: int, num_shards: int) -> str:
    """train-00003-of-00016.tfrecord"""
    return f"{split}-{shard:05d}-of-{num_shards:05d}{SHARD_SUFFIX}"


def shard_files(records_dir: str | Path, split: str) -> list[str]:
    """The split's shard paths, sorted; raises FileNotFoundError if there are none."""
    files = sorted(str(path) for path in Path(records_dir).glob(f"{split}-*-of-*{SHARD_SUFFIX}"))
    if not files:
        raise FileNotFoundError(f"no {split} shards in {records_dir}: run the augment stage first")
    return files


class ShardWriter:
    """Writes serialised examples into shards of at most `shard_size` examples.

    Shards are named for the `expected_examples` while writing; on close they are
    renamed if fewer were written (skipped examples), so "-of-N" always counts the files.
    `compression` as in make_dataset (the pipeline writes none).
    """

    def __init__(self, out_dir: str | Path, split: str, expected_examples: int, shard_size: int,
                 compression: str = ""):
        if shard_size < 1:
            raise ValueError(f"shard_size must be at least 1, got {shard_size}")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.split = split
        self.shard_size = shard_size
        self.num_shards = max(1, math.ceil(expected_examples / shard_size))
        self.counts: list[int] = []
        self.options = tf.io.TFRecordOptions(compression_type=compression)
        self._writer: tf.io.TFRecordWriter | None = None

    def write(self, serialized: bytes) -> None:
        if self._writer is None or self.counts[-1] == self.shard_size:
            self._open_next()
        self._writer.write(serialized)
        self.counts[-1] += 1

    def _open_next(self) -> None:
        if len(self.counts) == self.num_shards:
            raise ValueError(f"more {self.split} examples than the {self.num_shards} shards planned")
        self._close_current()
        self._writer = tf.io.TFRecordWriter(
            str(self.out_dir / shard_name(self.split, len(self.counts), self.num_shards)), self.options
        )
        self.counts.append(0)

    def _close_current(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self) -> None:
        """Finish the last shard; rename the shards if fewer were written than planned."""
        self._close_current()
        if self.counts and len(self.counts) != self.num_shards:
            for shard in range(len(self.counts)):
                (self.out_dir / shard_name(self.split, shard, self.num_shards)).rename(
                    self.out_dir / shard_name(self.split, shard, len(self.counts)))
            self.num_shards = len(self.counts)

    def shards(self) -> list[dict[str, Any]]:
        """[{file, examples}] for the manifest."""
        return [
            {"file": shard_name(self.split, i, self.num_shards), "examples": count}
            for i, count in enumerate(self.counts)
        ]

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def make_dataset(
    files: Sequence[str],
    batch_size: int,
    training: bool,
    shuffle_buffer: int = 4000,
    seed: int | None = None,
    examples: int | None = None,
    skip_batches: int = 0,
    encoding: str = IMAGE_ENCODING,
    compression: str = "",
) -> tf.data.Dataset:
    """Read -> (shuffle, repeat: training only) -> batch -> parse and decode -> prefetch.

    Training reads shards in parallel (interleaved, in a shuffled shard order), repeats
    forever (give fit a steps_per_epoch) and reshuffles on every pass; evaluation reads
    every example once, in file order. Examples are parsed a batch at a time: one
    vectorised parse, then the batch's PNGs decoded in one call (less tf.data overhead
    than a map per example). `examples` (the manifest's count) tells
    Keras how long an evaluation pass is; reading a different number is an error.
    `skip_batches` (training) starts the stream where a run that already drew that many
    batches stands, batch for batch: a resumed run sees the data an uninterrupted one does.
    """
    if not files:
        raise ValueError("make_dataset needs at least one TFRecord file")
    check_encoding(encoding)

    def read(paths: tf.Tensor) -> tf.data.Dataset:
        return tf.data.TFRecordDataset(paths, compression_type=compression)

    if training:
        dataset = tf.data.Dataset.from_tensor_slices(list(files))
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.interleave(
            read,
            cycle_length=min(len(files), READ_CYCLE_LENGTH),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat()
        dataset = dataset.skip(skip_batches * batch_size)
    else:
        dataset = read(list(files))
        if examples is not None:
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(examples))
    dataset = dataset.batch(batch_size, drop_remainder=training)
    dataset = dataset.map(lambda serialized: parse_batch(serialized, encoding),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def find_unreadable_shard(files: Sequence[str], expected_examples: dict[str, int] | None = None) -> str | None:
    """The first file whose records are truncated, fail their checksums or (given the
    manifest's counts by file name) number fewer or more than written; None if all are whole."""
    for path in files:
        try:
            count = sum(1 for _ in tf.data.TFRecordDataset(path))
        except tf.errors.DataLossError:
            return path
        if expected_examples is not None and expected_examples.get(Path(path).name, count) != count:
            return path
    return None


def shard_examples(manifest: dict[str, Any]) -> dict[str, int]:
    """{shard file name: examples written} from the manifest."""
    return {shard["file"]: int(shard["examples"])
            for split in manifest.get("splits", {}).values() for shard in split.get("shards", [])}


def unreadable_shard_error(files: Sequence[str], expected_examples: dict[str, int] | None = None,
                           stage: str = "augment") -> ValueError:
    """A one-sentence error naming the broken shard, for a read error met while reading `files`."""
    path = find_unreadable_shard(files, expected_examples)
    where = path if path is not None else "one of " + ", ".join(files)
    return ValueError(f"{where} is truncated or corrupt: run `dvc repro {stage}` again")


IMAGE_FEATURE_DESCRIPTIONS = {
    "png": "PNG (lossless) of the uint8 image, shape image_shape (H, W, C); its R, G, B channels hold Y, U, V",
    "raw": "raw uint8 bytes, shape image_shape (H, W, C), YUV",
}


def schema_description(encoding: str = IMAGE_ENCODING) -> dict[str, Any]:
    """The manifest's account of what an example holds and how its image was made."""
    return {
        "schema_version": SCHEMA_VERSION,
        "image_encoding": check_encoding(encoding),
        "features": {IMAGE_KEY: IMAGE_FEATURE_DESCRIPTIONS[encoding],
                     STEERING_KEY: "float32, normalised -1..1"},
        "image_shape": list(MODEL_INPUT_SHAPE),
        "image_dtype": "uint8",
        "model_input": "float32(image) / 255",
        "preprocessing": {"decode": "PIL, RGB", "crop_rows": list(CROP_ROWS), "colour": "cv2.COLOR_RGB2YUV",
                          "blur": "cv2.GaussianBlur 3x3, sigma 0", "resize": "cv2.resize to 200x66, bilinear",
                          "stored": "uint8, before /255"},
    }


def write_manifest(records_dir: str | Path, manifest: dict[str, Any]) -> Path:
    """Write manifest.json as a new file: never through a read-only link into DVC's cache."""
    path = Path(records_dir) / MANIFEST_NAME
    path.unlink(missing_ok=True)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_manifest(records_dir: str | Path) -> dict[str, Any]:
    """The augment stage's manifest; FileNotFoundError / ValueError with a sentence if unusable."""
    path = Path(records_dir) / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the augment stage first")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"{path} has schema version {manifest.get('schema_version')}, this code reads "
            f"{SCHEMA_VERSION}: re-run the augment stage"
        )
    if manifest.get("image_encoding") not in IMAGE_ENCODINGS:
        raise ValueError(f"{path} names no known image_encoding ({manifest.get('image_encoding')}): "
                         "re-run the augment stage")
    return manifest


def read_raw_examples(
    files: Sequence[str], limit: int | None = None, encoding: str = IMAGE_ENCODING
) -> list[tuple[np.ndarray, float]]:
    """The stored (uint8 image, steering) pairs, decoded, in file order: for checks and sample grids."""
    dataset = tf.data.TFRecordDataset(list(files))
    if limit is not None:
        dataset = dataset.take(limit)
    examples = []
    for serialized in dataset.batch(1):
        parsed = tf.io.parse_example(serialized, FEATURE_SPEC)
        image = decode_images(parsed[IMAGE_KEY], encoding)[0]
        examples.append((image.numpy(), float(parsed[STEERING_KEY][0].numpy())))
    return examples
