"""The edge model: a real PilotNet converted to LiteRT steers as the Keras model does, and drive.py serves it."""
from __future__ import annotations

import io

import keras
import numpy as np
import pytest
from PIL import Image

from pilot.imaging import decode_jpeg_rgb, preprocess, to_model_input
from pilot.litert import LiteRTLoadError, LiteRTPredictor, convert_to_litert, load_litert_predictor, save_litert
from pilot.model import build_pilotnet
from pilot.predictor import FastPredictor
from pilot.server_process import DriveServerProcess
from pilot.sim.wire import SimulatorWire, parse_simulator_float
from pilot.synthetic import road_frame
from tests.drive_support import camera_jpeg, run_drive

STEERING_TOLERANCE = 1e-4


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pilotnet() -> keras.Model:
    """PilotNet fitted a few steps on road frames, so its weights are not just the initial ones."""
    keras.utils.set_random_seed(13)
    model = build_pilotnet()
    steering = np.linspace(-0.8, 0.8, 32)
    images = np.stack([to_model_input(preprocess(road_frame(s, noise_seed=i))) for i, s in enumerate(steering)])
    model.fit(images, steering, batch_size=8, epochs=2, verbose=0)
    return model


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


def test_litert_steering_matches_keras_within_1e_4_on_100_jpeg_frames(pilotnet, litert_file, frames):
    litert = load_litert_predictor(litert_file)
    keras_predictor = FastPredictor(pilotnet)
    keras_steering = np.array([keras_predictor.predict_rgb(rgb) for rgb in frames])
    litert_steering = np.array([litert.predict_rgb(rgb) for rgb in frames])
    assert np.std(keras_steering) > 0.01                       # the frames steer differently: a real check
    assert np.max(np.abs(litert_steering - keras_steering)) <= STEERING_TOLERANCE
    preprocessed = preprocess(frames[0])
    assert litert.predict_preprocessed(preprocessed) == litert.predict_rgb(frames[0])


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


def test_unusable_files_get_one_sentence(tmp_path, pilotnet):
    with pytest.raises(LiteRTLoadError, match="not found: the train stage writes one"):
        load_litert_predictor(tmp_path / "missing.tflite")
    (tmp_path / "model.keras").write_bytes(b"zip")
    with pytest.raises(LiteRTLoadError, match="is not a LiteRT model"):
        load_litert_predictor(tmp_path / "model.keras")
    (tmp_path / "broken.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(LiteRTLoadError, match="could not be read as a LiteRT model"):
        load_litert_predictor(tmp_path / "broken.tflite")
    tiny = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(LiteRTLoadError, match="the drive server feeds one uint8"):
        LiteRTPredictor(_tiny_litert(tiny), source="tiny.tflite")
    with pytest.raises(ValueError, match="must end in .tflite"):
        save_litert(pilotnet, tmp_path / "model.lite")


def _tiny_litert(model: keras.Model) -> bytes:
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((1, 4), tf.float32)])
    def call(x):
        return x[:, :1] * 2.0

    return tf.lite.TFLiteConverter.from_concrete_functions([call.get_concrete_function()]).convert()


def test_drive_server_with_litert_runtime_answers_a_telemetry(pilotnet, litert_file):
    jpeg = camera_jpeg(7)
    expected = float(np.clip(pilotnet(to_model_input(preprocess(decode_jpeg_rgb(jpeg)))[np.newaxis],
                                      training=False).numpy()[0, 0], -1, 1))
    server = DriveServerProcess(litert_file, extra_args=("--runtime", "litert"))
    server.start()
    try:
        with SimulatorWire(server.host, server.port) as wire:
            wire.connect()
            wire.send_telemetry(0.0, 0.0, 3.0, jpeg)
            name, data = wire.receive_event()
    finally:
        assert server.stop() == 0
    assert name == "steer"
    assert parse_simulator_float(data["steering_angle"]) == pytest.approx(expected, abs=STEERING_TOLERANCE)
    assert any(f"model {litert_file} loaded" in line and "litert inference" in line for line in server.output)


def test_drive_runtime_mismatches_get_one_sentence(litert_file, tmp_path):
    result = run_drive([str(litert_file), "--port", "0"])
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "is a LiteRT model: add --runtime litert" in result.stderr
    result = run_drive([str(tmp_path / "none.tflite"), "--runtime", "litert", "--port", "0"])
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "not found" in result.stderr and ".tflite file" in result.stderr
