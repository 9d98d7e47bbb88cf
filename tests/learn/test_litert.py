"""The edge model: a real PilotNet converted to LiteRT steers as the Keras predictor does."""
from __future__ import annotations

import io

import keras
import numpy as np
import pytest
from PIL import Image

from pilot.imaging import CAMERA_INPUT, MODEL_INPUT_SHAPE, preprocess
from pilot.learn.litert import LiteRTLoadError, LiteRTPredictor, convert_to_litert, load_litert_predictor, save_litert
from pilot.learn.model_file import ModelFileError, load_model_file
from pilot.learn.predictors import FastPredictor
from pilot.testing.synthetic import road_frame
from pilot.udacity.images import decode_jpeg_rgb
from tests.learn.field_models import p3_camera_model
from tests.learn.fitted_model import fitted_pilotnet

STEERING_TOLERANCE = 1e-5


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pilotnet() -> keras.Model:
    """PilotNet fitted a few steps on road frames, so its weights are not just the initial ones."""
    return fitted_pilotnet(frames=32, epochs=2)


@pytest.fixture(scope="module")
def litert_file(pilotnet, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "model.tflite"
    save_litert(pilotnet, path)
    return path


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """100 real JPEG frames: synthetic roads across the steering range, encoded and decoded."""
    rng = np.random.default_rng(5)
    return [decode_jpeg_rgb(_jpeg(road_frame(float(rng.uniform(-1, 1)), int(rng.integers(-30, 30)), noise_seed=i)))
            for i in range(100)]


def test_litert_steering_matches_keras_within_1e_5_on_100_jpeg_frames(pilotnet, litert_file, frames):
    litert = load_litert_predictor(litert_file)
    keras_predictor = FastPredictor(pilotnet)
    keras_steering = np.array([keras_predictor.predict_rgb(rgb) for rgb in frames])
    litert_steering = np.array([litert.predict_rgb(rgb) for rgb in frames])
    assert np.std(keras_steering) > 0.01                       # the frames steer differently: a real check
    assert np.max(np.abs(litert_steering - keras_steering)) <= STEERING_TOLERANCE
    # the zero-copy input buffer holds each new frame: the same frame again gives the same answer
    assert [litert.predict_rgb(rgb) for rgb in frames[:3]] == litert_steering[:3].tolist()
    assert litert.predict_input(preprocess(frames[0])) == litert.predict_rgb(frames[0])


def test_a_camera_frame_model_converts_and_steers_as_keras(frames):
    """A model that takes the 160x320 camera frame (Udacity P3) converts with its own input contract."""
    model = p3_camera_model()
    litert = LiteRTPredictor(convert_to_litert(model, contract=CAMERA_INPUT))
    keras_predictor = FastPredictor(model, CAMERA_INPUT)
    assert litert.contract == CAMERA_INPUT
    steering = [keras_predictor.predict_rgb(rgb) for rgb in frames[:20]]
    assert np.std(steering) > 1e-3
    assert max(abs(litert.predict_rgb(rgb) - s) for rgb, s in zip(frames[:20], steering)) <= STEERING_TOLERANCE


def test_two_threads_steer_as_one_does(litert_file, frames):
    """The drive server runs LiteRT on drive.litert_threads (2): splitting the work must not change a value."""
    one, two = load_litert_predictor(litert_file, threads=1), load_litert_predictor(litert_file, threads=2)
    assert [two.predict_rgb(rgb) for rgb in frames[:20]] == [one.predict_rgb(rgb) for rgb in frames[:20]]
    for threads in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="LiteRT needs a whole number of threads"):
            load_litert_predictor(litert_file, threads=threads)


def test_a_frame_of_the_wrong_shape_is_refused(litert_file):
    litert = load_litert_predictor(litert_file)
    with pytest.raises(ValueError, match="expected uint8"):
        litert.predict_input(np.zeros((66, 200), np.uint8))
    with pytest.raises(ValueError, match="expected uint8"):
        litert.predict_input(np.zeros(MODEL_INPUT_SHAPE, np.float32))


def test_conversion_is_float32_and_reproducible(pilotnet, litert_file):
    content = litert_file.read_bytes()
    assert convert_to_litert(pilotnet) == content               # same weights, same bytes (DVC caches it)
    assert len(content) > 4 * 252_219                           # float32 weights: nothing quantised


def test_dynamic_quantization_is_smaller_and_steers_close(pilotnet, litert_file, frames):
    content = convert_to_litert(pilotnet, "dynamic")
    assert len(content) < litert_file.stat().st_size / 3        # int8 weights
    quantized, keras_predictor = LiteRTPredictor(content), FastPredictor(pilotnet)
    assert max(abs(quantized.predict_rgb(rgb) - keras_predictor.predict_rgb(rgb)) for rgb in frames[:20]) < 0.02
    with pytest.raises(ValueError, match="unknown LiteRT quantization 'int4'"):
        convert_to_litert(pilotnet, "int4")


def test_unusable_files_get_one_sentence(tmp_path, pilotnet, litert_file):
    with pytest.raises(LiteRTLoadError, match="not found: the train stage writes one"):
        load_litert_predictor(tmp_path / "missing.tflite")
    (tmp_path / "model.keras").write_bytes(b"zip")
    with pytest.raises(LiteRTLoadError, match="is not a LiteRT model"):
        load_litert_predictor(tmp_path / "model.keras")
    (tmp_path / "broken.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(LiteRTLoadError, match="could not be read as a LiteRT model"):
        load_litert_predictor(tmp_path / "broken.tflite")
    with pytest.raises(LiteRTLoadError, match="the drive server feeds one uint8 frame of 66x200x3"):
        LiteRTPredictor(_tiny_litert(), source="tiny.tflite")
    with pytest.raises(ValueError, match="must end in .tflite"):
        save_litert(pilotnet, tmp_path / "model.lite")
    with pytest.raises(ModelFileError, match="is a LiteRT model: pass the Keras model it was converted from"):
        load_model_file(litert_file)


def _tiny_litert() -> bytes:
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((1, 4), tf.float32)])
    def call(x):
        return x[:, :1] * 2.0

    return tf.lite.TFLiteConverter.from_concrete_functions([call.get_concrete_function()]).convert()
