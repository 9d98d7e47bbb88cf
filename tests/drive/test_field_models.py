"""Model files from the field drive as they were trained: through the server's handler, and a real server."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from pilot.control import PIController
from pilot.data.records import SCHEMA_VERSION
from pilot.drive.process import DriveServerProcess
from pilot.drive.telemetry import ClientState, handle_telemetry
from pilot.imaging import CAMERA_INPUT
from pilot.learn.predictors import FastPredictor, FlipAveragedPredictor
from pilot.learn.runtime import serve_model
from pilot.sim.wire import SimulatorWire
from pilot.udacity.images import decode_jpeg_rgb
from pilot.udacity.numbers import read_culture_number
from tests.drive_support import REPO_ROOT, camera_jpeg, run_drive
from tests.keras2_h5 import file_writing_lambda, keras2_lambda_layer, write_keras2_h5
from tests.learn.field_models import FIELD_MODELS, p3_camera_model, relu_dropout_pilotnet, seed_pilotnet
from tests.stage_runner import run_stage

STEERING_TOLERANCE = 1e-5
JPEGS = [camera_jpeg(seed) for seed in range(5)]


def served_steering(predictor, jpeg: bytes) -> float:
    """The steering the drive server's handler answers for one telemetry carrying `jpeg`."""
    payload = {"steering_angle": "0.0000", "throttle": "0.0000", "speed": "10.0000",
               "image": base64.b64encode(jpeg).decode()}
    reply = handle_telemetry(payload, ClientState(PIController(15.0)), predictor, now_s=0.0)
    assert reply.malformed is None
    return float(reply.data["steering_angle"])


@pytest.mark.parametrize("name", sorted(FIELD_MODELS))
def test_each_field_model_h5_steers_through_the_server_as_its_keras_3_twin(tmp_path, name):
    model = FIELD_MODELS[name]()
    served = serve_model(write_keras2_h5(model, tmp_path / "model.h5"), "auto", cache_dir=tmp_path)
    assert served.runtime == "litert"                            # the default runtime, converted from the file
    reference = FastPredictor(model, served.predictor.contract)
    for jpeg in JPEGS:
        expected = float(np.clip(reference.predict_rgb(decode_jpeg_rgb(jpeg)), -1, 1))
        assert abs(expected) < 1.0                               # not clipped: a real comparison
        assert served_steering(served.predictor, jpeg) == pytest.approx(expected, abs=STEERING_TOLERANCE)


def test_a_relu_notebook_file_drives_with_no_flag_and_says_what_it_is(tmp_path):
    model = relu_dropout_pilotnet()
    path = write_keras2_h5(model, tmp_path / "model.h5")
    jpeg = JPEGS[0]
    expected = FlipAveragedPredictor(FastPredictor(model)).predict_rgb(decode_jpeg_rgb(jpeg))   # drive.flip_average
    server = DriveServerProcess(path)
    server.start()
    try:
        with SimulatorWire(server.host, server.port) as wire:
            wire.connect()
            wire.send_telemetry(0.0, 0.0, 3.0, jpeg)
            name, data = wire.receive_event()
    finally:
        assert server.stop() == 0
    assert name == "steer"
    assert read_culture_number(data["steering_angle"])[0] == pytest.approx(expected, abs=STEERING_TOLERANCE)
    assert "drive: model.h5: Keras 2.8 HDF5, 13 layers (relu), input 66x200x3 (seed preprocessing), " \
           "252,219 parameters" in server.output
    assert any("runtime litert (2 threads): converted once and cached in" in line for line in server.output)


def test_a_camera_frame_model_drives_from_the_raw_frame(tmp_path):
    model = p3_camera_model()
    path = write_keras2_h5(model, tmp_path / "p3.h5")
    server = DriveServerProcess(path, extra_args=("--runtime", "keras"))
    server.start()
    try:
        with SimulatorWire(server.host, server.port) as wire:
            wire.connect()
            wire.send_telemetry(0.0, 0.0, 3.0, JPEGS[1])
            _, data = wire.receive_event()
    finally:
        assert server.stop() == 0
    expected = FlipAveragedPredictor(FastPredictor(model, CAMERA_INPUT)).predict_rgb(decode_jpeg_rgb(JPEGS[1]))
    assert read_culture_number(data["steering_angle"])[0] == pytest.approx(expected, abs=STEERING_TOLERANCE)
    assert any("input 160x320x3 (the camera frame as it is; the model crops and normalises)" in line
               for line in server.output)


def test_a_lambda_file_is_refused_by_the_server_and_its_code_runs_only_when_trusted(tmp_path):
    marker = tmp_path / "lambda_ran.txt"
    path = write_keras2_h5(seed_pilotnet(), tmp_path / "normalised.h5", input_layer=False, leading_layers=(
        keras2_lambda_layer("lambda_1", file_writing_lambda(marker), batch_input_shape=[None, 66, 200, 3]),))
    result = run_drive([str(path), "--port", "0"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "drive: normalised.h5 has a Lambda layer 'lambda_1' that stores Python code; no code from a model file "
        "runs unless you pass --trust-model-code (only for a file you made or trust).")
    assert not marker.exists()
    server = DriveServerProcess(path, extra_args=("--trust-model-code", "--runtime", "keras"))
    server.start()
    server.stop()
    assert "drive: --trust-model-code: code stored in normalised.h5 will run if it has any." in server.output
    assert marker.read_text() == "ran"


@pytest.fixture(scope="module")
def stage_model_files(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("stage_models")
    good = write_keras2_h5(relu_dropout_pilotnet(), folder / "relu.h5")
    custom = folder / "custom.h5"
    custom.write_bytes(good.read_bytes())
    with h5py.File(custom, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        config["config"]["layers"][2].update(class_name="MyAttention")
        config["config"]["layers"][2]["config"]["name"] = "attention"
        handle.attrs["model_config"] = json.dumps(config).encode()
    inputs = keras.Input((66, 200, 3))
    flat = keras.layers.Flatten()(inputs)
    keras.Model(inputs, [keras.layers.Dense(1)(flat), keras.layers.Dense(1)(flat)]).save(folder / "two_outputs.h5")
    return {"good": good, "custom": custom, "two_outputs": folder / "two_outputs.h5"}


STAGE_ARGS = {
    "drive.py": lambda model, tmp: [str(model), "--port", "0"],
    "replay.py": lambda model, tmp: ["--log", str(tmp / "log.csv"), "--split-dir", str(tmp), "--model", str(model),
                                     "--metrics", str(tmp / "replay.json"), "--plots-dir", str(tmp / "plots")],
    "evaluate.py": lambda model, tmp: ["--records", str(manifest_only(tmp)), "--model", str(model),
                                       "--metrics", str(tmp / "eval.json"), "--plots-dir", str(tmp / "plots")],
}


def manifest_only(folder: Path) -> Path:
    """A records folder with a manifest and no shards: evaluate reads it, then loads the model."""
    records = folder / "records"
    records.mkdir(exist_ok=True)
    (records / "manifest.json").write_text(json.dumps({
        "schema_version": SCHEMA_VERSION, "image_encoding": "png",
        "splits": {"train": {"steering_mean": 0.0, "examples": 1}, "val": {"examples": 1}}}))
    return records


@pytest.mark.parametrize("stage", sorted(STAGE_ARGS))
def test_drive_replay_and_evaluate_accept_and_refuse_the_same_files_alike(stage_model_files, tmp_path, stage):
    """One loader: the same description for a good file, the same sentence and exit 2 for a bad one."""
    sentences = {}
    for kind in ("custom", "two_outputs"):
        result = run_stage(stage, STAGE_ARGS[stage](stage_model_files[kind], tmp_path), REPO_ROOT, timeout_s=120)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        sentences[kind] = result.stderr.strip().splitlines()[-1].split(": ", 1)
    assert sentences["custom"] == [stage[:-3], "custom.h5 has a MyAttention layer 'attention' that is a custom class, "
                                   "which needs code the file does not carry; no code from a model file runs unless "
                                   "you pass --trust-model-code (only for a file you made or trust)."]
    assert sentences["two_outputs"] == [stage[:-3], "two_outputs.h5 has 1 inputs and 2 outputs, but a steering model "
                                        "takes one image and returns one steering value."]
    if stage != "drive.py":            # drive's acceptance is the whole server above; these fail later, on the data
        result = run_stage(stage, STAGE_ARGS[stage](stage_model_files["good"], tmp_path), REPO_ROOT, timeout_s=120)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert f"{stage[:-3]}: relu.h5: Keras 2.8 HDF5, 13 layers (relu), input 66x200x3 (seed preprocessing), " \
               f"252,219 parameters" in result.stdout
