"""drive.py --runtime litert: the drive server serves the edge model the train stage writes."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from pilot.drive.process import DriveServerProcess
from pilot.imaging import preprocess, to_model_input
from pilot.learn.litert import save_litert
from pilot.learn.model import build_pilotnet
from pilot.sim.wire import SimulatorWire
from pilot.udacity.images import decode_jpeg_rgb
from pilot.udacity.numbers import read_culture_number
from tests.drive_support import camera_jpeg, run_drive
from tests.stage_runner import copy_project, run_stage, set_params

STEERING_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def pilotnet() -> keras.Model:
    keras.utils.set_random_seed(21)
    return build_pilotnet()


@pytest.fixture(scope="module")
def litert_file(pilotnet, tmp_path_factory):
    return save_litert(pilotnet, tmp_path_factory.mktemp("models") / "model.tflite")


def test_drive_server_with_litert_runtime_answers_a_telemetry(pilotnet, litert_file):
    jpeg = camera_jpeg(7)
    expected = float(np.clip(pilotnet(to_model_input(preprocess(decode_jpeg_rgb(jpeg)))[np.newaxis],
                                      training=False).numpy()[0, 0], -1, 1))
    server = DriveServerProcess(litert_file, extra_args=("--runtime", "litert", "--threads", "2", "--no-flip-average"))
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
    assert any(f"model {litert_file} loaded" in line and "runtime litert (2 threads): model.tflite as it is" in line
               for line in server.output)


def test_drive_runtime_mismatches_get_one_sentence(litert_file, tmp_path):
    result = run_drive([str(litert_file), "--port", "0"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is a LiteRT model: pass the Keras model it was converted from" in result.stderr
    result = run_drive([str(tmp_path / "none.tflite"), "--runtime", "litert", "--port", "0"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "not found" in result.stderr and ".tflite file" in result.stderr
    result = run_drive([str(litert_file), "--runtime", "litert", "--inference", "seed", "--port", "0"])
    assert result.returncode != 0 and "--inference seed is the seed's Keras path" in result.stderr
    result = run_drive([str(litert_file), "--runtime", "litert", "--threads", "0", "--port", "0"])
    assert result.returncode != 0 and "--threads must be a whole number of threads, 1 or more" in result.stderr


@pytest.mark.parametrize("bad", [0, "two", None])
def test_a_bad_litert_threads_param_gets_one_sentence(litert_file, tmp_path, bad):
    root = copy_project(tmp_path / "project", with_dvc=False)
    set_params(root, "drive", litert_threads=bad)
    result = run_stage("drive.py", [str(litert_file), "--runtime", "litert", "--port", "0"], root, timeout_s=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "drive.litert_threads must be a whole number of threads, 1 or more" in result.stderr
