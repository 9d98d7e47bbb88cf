"""Real model files from the field: does each drive as its notebook would steer it?

For each model file: what the one loader says of it (the drive server's start-up line), the
runtime `--runtime auto` picks, and the largest steering difference on real camera frames
between what the drive server serves (and the Keras model it built) and the file's own
notebook: Keras 2 (`tf_keras`: `pip install -c constraints.txt -e '.[bench]'`) loading the file
the way `load_model('model.h5')` did, on the seed's float64 preprocessing. A Keras 3 file's
notebook is Keras 3 itself. A file the loader refuses prints its sentence.

    .venv/bin/python bench/model_files.py MODEL.h5 [MODEL.h5 ...] --frames RECORDING/IMG [--count 100]

Target (issue 20): every accepted file within 1e-5 of its notebook.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from pilot.imaging import seed_img_preprocess  # noqa: E402
from pilot.learn.model_file import ModelFileError, load_model_file  # noqa: E402
from pilot.learn.predictors import FastPredictor  # noqa: E402
from pilot.learn.runtime import serve_model  # noqa: E402
from pilot.udacity.images import read_jpeg_rgb

TOLERANCE = 1e-5


def notebook_model(path: Path):
    """The file as its notebook loaded it: Keras 2 for a Keras 2 file (tf_keras), else Keras 3; and which."""
    import h5py
    version = ""
    if h5py.is_hdf5(path):
        with h5py.File(path, "r") as handle:
            version = handle.attrs.get("keras_version", b"")
            version = version.decode() if isinstance(version, bytes) else str(version)
    if version.startswith("2."):
        try:
            import tf_keras
        except ImportError:
            sys.exit("bench/model_files.py: Keras 2 files need tf_keras as their notebook's Keras: "
                     "pip install -c constraints.txt -e '.[bench]' (tf-keras, pinned to TensorFlow's version).")
        return tf_keras.models.load_model(path, compile=False), f"tf_keras {tf_keras.__version__} (Keras 2)"
    import keras
    return keras.saving.load_model(path, compile=False), f"keras {keras.__version__}"


def notebook_steering(model, frames: list[np.ndarray]) -> np.ndarray:
    """The seed notebook's inference: img_preprocess (float64) on an RGB frame, then the model on the batch."""
    batch = np.stack([seed_img_preprocess(rgb) for rgb in frames]).astype(np.float32)
    return np.asarray(model(batch, training=False)).reshape(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--frames", type=Path, required=True, help="a recording's IMG folder (centre frames used)")
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    files = sorted(args.frames.glob("center_*.jpg"))
    if not files:
        sys.exit(f"bench/model_files.py: no center_*.jpg in {args.frames}")
    picks = [files[i] for i in np.linspace(0, len(files) - 1, min(args.count, len(files))).astype(int)]
    frames = [read_jpeg_rgb(str(path)) for path in picks]
    print(f"{len(frames)} real centre frames from {args.frames}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as cache:
        for path in args.models:
            print(f"\n{path}")
            try:
                loaded = load_model_file(path)
            except ModelFileError as error:
                print(f"  refused: {error}")
                continue
            started = time.perf_counter()
            served = serve_model(path, "auto", cache_dir=Path(cache))
            print(f"  {loaded.description}")
            print(f"  {served.line()} ({time.perf_counter() - started:.1f} s)")
            if loaded.contract.name != "seed":
                print("  (not a seed-preprocessing model: its notebook's preprocessing is its own; not compared)")
                continue
            reference, which = notebook_model(path)
            expected = notebook_steering(reference, frames)
            keras_steering = np.array([FastPredictor(loaded.model).predict_rgb(rgb) for rgb in frames])
            server_steering = np.array([served.predictor.predict_rgb(rgb) for rgb in frames])
            keras_gap = float(np.abs(keras_steering - expected).max())
            server_gap = float(np.abs(server_steering - expected).max())
            worst = max(worst, keras_gap, server_gap)
            print(f"  notebook ({which}): steering {expected.min():+.3f} .. {expected.max():+.3f}; "
                  f"max |difference|: built Keras model {keras_gap:.1e}, drive server ({served.runtime}) "
                  f"{server_gap:.1e} {'OK' if max(keras_gap, server_gap) <= TOLERANCE else 'OVER 1e-5'}")
    print(f"\nlargest difference to a notebook over every accepted file: {worst:.1e} (target <= {TOLERANCE:.0e})")


if __name__ == "__main__":
    main()
