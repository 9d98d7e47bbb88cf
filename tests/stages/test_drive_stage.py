"""stages/drive.py end to end: real server processes on loopback, real models, real JPEGs.

Two clients drive it: `SimulatorWire` (the Udacity simulator's client byte for byte: no
`40`, string values, double open, lock-step, pings) and a standard python-socketio 5 client.
"""
from __future__ import annotations

import base64
import csv
import json
import signal
import socket
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import imageio_ffmpeg
import keras
import numpy as np
import pytest
import socketio
import websocket

from pilot.data.augment import flip
from pilot.drive.process import DriveServerProcess
from pilot.imaging import preprocess, to_model_input
from pilot.learn.model import build_pilotnet
from pilot.sim.wire import SimulatorWire, telemetry_packet
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.images import decode_jpeg_rgb
from pilot.udacity.numbers import read_culture_number
from tests.drive_support import RawSocket, camera_jpeg, run_drive
from tests.keras2_h5 import write_keras2_h5

SAFE_FRAME = '42["steer",{"steering_angle":"0.000000","throttle":"0.000000"}]'
SEED_SPEED_LIMIT_MPH = 20.0


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The same PilotNet weights as a pipeline .keras and as the seed notebook's model.h5."""
    folder = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(21)
    model = build_pilotnet()
    model.save(folder / "model.keras")
    write_keras2_h5(model, folder / "model.h5")
    return {"model": model, "keras": folder / "model.keras", "h5": folder / "model.h5",
            "folder": folder}


@pytest.fixture(scope="module")
def servers(models, tmp_path_factory):
    """Start both servers at once (start-up is mostly TensorFlow's import)."""
    record_dir = tmp_path_factory.mktemp("run") / "recording"
    main = DriveServerProcess(models["keras"])
    legacy = DriveServerProcess(models["h5"], extra_args=(
        "--controller", "seed", "--set-speed", str(SEED_SPEED_LIMIT_MPH), "--record", str(record_dir),
        "--no-flip-average"))
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(DriveServerProcess.start, (main, legacy)))
    yield {"main": main, "legacy": legacy, "record_dir": record_dir}
    legacy.stop()
    assert main.stop() == 0, output(main)                 # SIGINT, as Ctrl+C: a clean exit
    assert "stopped after" in output(main)


@pytest.fixture(scope="module")
def server(servers) -> DriveServerProcess:
    return servers["main"]


def output(server: DriveServerProcess) -> str:
    return "\n".join(server.output)


def model_steering(model: keras.Model, rgb: np.ndarray) -> float:
    batch = to_model_input(preprocess(rgb))[np.newaxis]
    return float(model(batch, training=False).numpy()[0, 0])


def expected_steering(model: keras.Model, jpeg: bytes, flip_average: bool = True) -> float:
    """The project's params serve with drive.flip_average: the frame's steering and minus its rig mirror's, halved."""
    rgb = decode_jpeg_rgb(jpeg)
    steering = model_steering(model, rgb)
    if flip_average:
        steering = 0.5 * (steering - model_steering(model, flip(rgb, 0.0, CameraRig())[0]))
    return float(np.clip(steering, -1, 1))


def assert_steer_strings(event: tuple) -> tuple[float, float]:
    name, data = event
    assert name == "steer"
    assert set(data) == {"steering_angle", "throttle"}
    assert all(isinstance(value, str) for value in data.values())     # float.Parse(field.str)
    return read_culture_number(data["steering_angle"])[0], read_culture_number(data["throttle"])[0]


def test_startup_says_which_model_and_where_it_listens(server, servers, models):
    assert f"model {models['keras']} loaded" in output(server)
    assert "flip_average: the mean of the frame's and its mirror's steering" in output(server)
    assert "flip_average" not in output(servers["legacy"])
    assert f"listening on http://127.0.0.1:{server.port}" in output(server)


def test_simulator_client_double_open_then_lock_step(server, models):
    jpegs = [camera_jpeg(seed) for seed in range(4)]
    with SimulatorWire(server.host, server.port, timeout_s=60.0) as wire:
        wire.open_socket()
        wire.send_telemetry(0.0, 0.0, 0.0, jpegs[0])       # "open" #1: the WebSocket opened
        wire.read_open_packet()
        wire.send_telemetry(0.0, 0.0, 0.0, jpegs[0])       # "open" #2: the 0{...} packet
        for frame in range(40):                             # each reply triggers one telemetry
            steering, throttle = assert_steer_strings(wire.receive_event())
            assert -1.0 <= steering <= 1.0 and -1.0 <= throttle <= 1.0
            wire.send_telemetry(steering * 25.0, throttle, 8.0, jpegs[frame % 4])
        assert_steer_strings(wire.receive_event())         # the two chains' last replies
        assert_steer_strings(wire.receive_event())
        wire.ping()                                          # exactly one reply per telemetry:
        assert wire.next_message() == "3"                    # the pong comes next, no stray steer
    assert server.wait_for_output("frames/s"), output(server)
    assert "p99" in output(server)


def test_steering_is_the_models_output_with_the_projects_preprocessing(server, models):
    jpeg = camera_jpeg(7)
    with SimulatorWire(server.host, server.port) as wire:
        wire.connect()
        wire.send_telemetry(0.0, 0.0, 3.0, jpeg)
        steering, _ = assert_steer_strings(wire.receive_event())
    assert steering == pytest.approx(expected_steering(models["model"], jpeg), abs=2e-6)


def test_manual_mode_gets_manual_and_client_pings_are_answered(server):
    raw = RawSocket(server.host, server.port)
    assert raw.open_packet.startswith("0{")
    raw.send("2")                                           # the simulator's own engine ping
    assert raw.recv_until("3") == "3"
    raw.send('42["telemetry",{}]')                          # manual mode, with no 40 first
    assert raw.recv_until("4") == '42["manual",{}]'         # and no 40 sent back to it
    raw.close()


def test_every_kind_of_bad_input_gets_the_safe_command_and_the_chain_goes_on(server, models):
    jpeg = camera_jpeg(3)
    good = json.loads(telemetry_packet(0.0, 0.0, 5.0, jpeg)[2:])[1]
    bad_frames = [
        '42["telemetry",{"speed":"1.0000"}]',                                  # missing image
        "42" + json.dumps(["telemetry", {**good, "speed": 5.0}]),              # not a string
        "42" + json.dumps(["telemetry", {**good, "speed": "NaN"}]),            # not finite
        "42" + json.dumps(["telemetry", {**good, "image": "%%%not-base64"}]),  # bad base64
        "42" + json.dumps(["telemetry", {**good, "image": base64.b64encode(b"GIF89a...").decode()}]),
        "42" + json.dumps(["telemetry", {**good, "image": base64.b64encode(
            camera_jpeg(1, size=(64, 32))).decode()}]),                        # wrong size
        '42["telemetry","not an object"]',
        '42["telemetry",[1,2,3]]',
        '42["telemetry"]',
        '42["telemetry",{"speed":',                                            # not JSON
        "42" + json.dumps(["telemetry", {**good, "pad": "x" * 600_000}]),      # over the limit
    ]
    raw = RawSocket(server.host, server.port)
    before = urllib.request.urlopen(f"http://{server.host}:{server.port}/status", timeout=5).read().decode()
    for frame in bad_frames:
        raw.send(frame)
        assert raw.recv_until("42") == SAFE_FRAME, frame[:60]
    raw.send(telemetry_packet(0.0, 0.0, 5.0, jpeg))       # the chain still drives
    reply = json.loads(raw.recv_until("42")[2:])
    assert float(reply[1]["steering_angle"]) == pytest.approx(
        expected_steering(models["model"], jpeg), abs=2e-6)
    raw.close()
    after = urllib.request.urlopen(f"http://{server.host}:{server.port}/status", timeout=5).read().decode()

    def malformed(page: str) -> int:
        return int(page.split(" malformed")[0].rsplit(" ", 1)[1])
    assert malformed(after) - malformed(before) == len(bad_frames)


def test_comma_decimal_simulator_is_answered_with_commas(server):
    with SimulatorWire(server.host, server.port, decimal_comma=True) as comma_wire, \
            SimulatorWire(server.host, server.port) as dot_wire:
        comma_wire.connect()
        dot_wire.connect()
        comma_wire.send_telemetry(-2.5, 0.3, 12.3456, camera_jpeg(2))     # "12,3456"
        dot_wire.send_telemetry(-2.5, 0.3, 12.3456, camera_jpeg(2))
        comma_event, dot_event = comma_wire.receive_event(), dot_wire.receive_event()
    for value in comma_event[1].values():
        assert "," in value and "." not in value
    for value in dot_event[1].values():
        assert "." in value and "," not in value
    assert assert_steer_strings(comma_event) == assert_steer_strings(dot_event)


def test_standard_python_socketio_client_drives_too(server, models):
    jpeg = camera_jpeg(9)
    data = {"steering_angle": "0.0000", "throttle": "0.0000", "speed": "4.0000",
            "image": base64.b64encode(jpeg).decode()}
    with socketio.SimpleClient() as client:
        client.connect(f"http://{server.host}:{server.port}")   # polling, then WebSocket
        client.emit("telemetry", data)
        name, reply = client.receive(timeout=10)
        client.emit("telemetry", {})
        assert client.receive(timeout=10) == ["manual", {}]
    steering, throttle = assert_steer_strings((name, reply))
    assert steering == pytest.approx(expected_steering(models["model"], jpeg), abs=2e-6)
    assert 0.0 < throttle <= 1.0                            # PI: below the set speed, accelerate


def test_cors_accepts_local_pages_only(server):
    url = f"ws://{server.host}:{server.port}/socket.io/?EIO=4&transport=websocket"
    local = websocket.create_connection(url, origin=f"http://localhost:{server.port}", timeout=5)
    assert local.recv().startswith("0{")
    local.close()
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(url, origin="http://attacker.example", timeout=5)


def test_seed_h5_model_seed_controller_recording_sigterm_and_video(servers, models, tmp_path):
    legacy, record_dir = servers["legacy"], servers["record_dir"]
    assert f"model {models['h5']} loaded" in output(legacy)
    jpegs = [camera_jpeg(seed) for seed in range(30, 36)]
    speeds_mph = [0.0, 4.0, 8.0, 12.0, 16.0, 24.0]
    with SimulatorWire(legacy.host, legacy.port) as wire:
        wire.connect()
        for jpeg, speed in zip(jpegs, speeds_mph):
            wire.send_telemetry(0.0, 0.0, speed, jpeg)
            steering, throttle = assert_steer_strings(wire.receive_event())
            assert steering == pytest.approx(expected_steering(models["model"], jpeg, flip_average=False), abs=2e-6)
            assert steering != pytest.approx(expected_steering(models["model"], jpeg), abs=1e-4)
            assert throttle == pytest.approx(max(-1.0, 1.0 - speed / SEED_SPEED_LIMIT_MPH), abs=1e-6)
    legacy.process.send_signal(signal.SIGTERM)              # as road_test or a service manager
    assert legacy.process.wait(timeout=60) == 0, output(legacy)
    assert "stopped after 6 frames" in output(legacy)

    with open(record_dir / "drive_log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row["speed_mph"]) for row in rows] == speeds_mph
    assert [(record_dir / row["image"]).read_bytes() for row in rows] == jpegs
    assert all(float(row["latency_ms"]) > 0 for row in rows)
    times = [float(row["time_s"]) for row in rows]
    assert times[0] == 0.0 and times == sorted(times)

    video = tmp_path / "drive.mp4"
    done = run_drive(["video", str(record_dir), "--out", str(video)])
    assert done.returncode == 0, done.stderr
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = reader.__next__()
    frames = list(reader)
    assert meta["size"] == (640, 320) and len(frames) == len(rows)


def test_user_errors_get_one_sentence_and_a_non_zero_exit(models, tmp_path):
    cases = []
    cases.append((run_drive([str(tmp_path / "missing.keras")]), "not found"))
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    cases.append((run_drive([str(models["keras"]), "--record", str(used)]), "never overwrites"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cases.append((run_drive([str(models["keras"]), "--port", str(port)]), "cannot listen"))
    cases.append((run_drive(["video", str(tmp_path)]), "not a drive recording"))
    wrong = keras.Sequential([keras.Input((120, 240, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    wrong.save(tmp_path / "odd_sized.keras")
    cases.append((run_drive([str(tmp_path / "odd_sized.keras"), "--port", "0"]), "66x200x3"))
    cases.append((run_drive([str(models["keras"]), "--frame-dt", "0"]), "--frame-dt must be a positive"))
    for done, phrase in cases:
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        last_line = done.stderr.strip().splitlines()[-1]
        assert last_line.startswith("drive") and phrase in last_line, done.stderr
    assert (used / "keep.txt").read_text() == "mine" and len(list(used.iterdir())) == 1
