"""The drive server under hostile clients, and its log: a real server process, raw sockets on loopback.

The server is started on a hostile model file first: a seed-style model.h5 with a normalising
Lambda whose stored code would write a file, which it refuses; then it drives the same network
without the Lambda. The fuzz
core (pilot.testing.hostile) runs a few cases per category: behaviour, not numbers
(bench/fuzz_server.py sends thousands). Then clients vanish in every abrupt way, and the
server's whole output is read line by line: every line whole and of a known form.
"""
from __future__ import annotations

import re
import socket
import struct

import keras
import pytest
import websocket

from pilot.drive.process import DriveServerProcess, ServerStartError
from pilot.learn.model import build_pilotnet
from pilot.sim.wire import SOCKET_PATH, SimulatorWire, telemetry_packet
from pilot.testing.hostile import CATEGORIES, HostileMessage, hostile_messages, run_fuzz
from tests.drive_support import camera_jpeg
from tests.keras2_h5 import file_writing_lambda, keras2_lambda_layer, write_keras2_h5

STARTUP_LINE = re.compile(
    r"drive: model .+ loaded in [\d.]+ s; .+"
    r"|drive: model.h5: Keras 2.8 HDF5, .+ parameters"
    r"|drive: listening on http://.+"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .+"                   # TensorFlow's C++ start-up lines
    r"|To enable the following instructions: .+"                   # (the rest of one of them)
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.")   # LiteRT's, once the model is served on it
SERVING_LINE = re.compile(
    r"drive: +\d+\.\d frames/s \| server latency p50 \d+\.\d\d ms p99 \d+\.\d\d ms \| malformed \d+ "
    r"\| manual \d+ \| total frames \d+"
    r"|drive: answered \d+ malformed telemetry with the safe command \(steering 0, throttle 0\); latest: .+"
    r"|drive: eventlet: (a connection failed: [\w.]+: .+|closed a connection whose client sent a frame that "
    r"is not an Engine.IO packet: .+)"
    r"|drive: stopped after \d+ frames \(\d+ malformed answered safely\)")


@pytest.fixture(scope="module")
def marker(tmp_path_factory):
    return tmp_path_factory.mktemp("marker") / "lambda_ran.txt"


@pytest.fixture(scope="module")
def server(tmp_path_factory, marker):
    folder = tmp_path_factory.mktemp("model")
    keras.utils.set_random_seed(2)
    model = build_pilotnet()
    hostile = write_keras2_h5(model, folder / "normalised.h5", input_layer=False, leading_layers=(
        keras2_lambda_layer("lambda", file_writing_lambda(marker), batch_input_shape=[None, 66, 200, 3]),))
    refused = DriveServerProcess(hostile)
    with pytest.raises(ServerStartError):
        refused.start()
    assert refused.process.returncode == 2
    process = DriveServerProcess(write_keras2_h5(model, folder / "model.h5"), keep_lines=100_000)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def packet() -> str:
    return telemetry_packet(-1.25, 0.3, 5.0, camera_jpeg(4))


@pytest.mark.slow
def test_every_valid_telemetry_after_a_hostile_message_gets_a_steer(server, packet):
    messages = hostile_messages(len(CATEGORIES) * 4, seed=1, packet=packet)
    report = run_fuzz(server.host, server.port, messages, packet)
    assert set(report.tried) == set(CATEGORIES)
    assert report.valid_sent == len(messages)
    assert (report.unanswered, report.malformed_replies, report.safe_answers) == (0, 0, 0), report.failures
    assert server.process.poll() is None


@pytest.mark.slow
def test_the_model_files_lambda_never_ran(server, marker):
    assert any("model.h5 loaded" in line for line in server.output)
    assert not marker.exists()


@pytest.mark.slow
def test_binary_socketio_packets_cannot_swallow_the_next_telemetry(server, packet):
    """python-socketio would wait for attachments and take the next telemetry for one."""
    placeholders = ['451-["telemetry",{"_placeholder":true,"num":0}]',
                    '452-["telemetry",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
                    '461-[{"_placeholder":true,"num":0}]']
    messages = [HostileMessage("unknown events", text) for text in placeholders]
    report = run_fuzz(server.host, server.port, messages, packet, timeout_s=5.0)
    assert (report.unanswered, report.safe_answers, sum(report.closed_by_server.values())) == (0, 0, 0)


def vanish_in_every_abrupt_way(host: str, port: int, packet: str) -> None:
    url = f"ws://{host}:{port}{SOCKET_PATH}"
    raw = websocket.create_connection(url, timeout=5)      # drives, then the TCP socket just closes
    raw.recv()
    raw.send(packet)
    assert raw.recv().startswith('42["steer"')
    raw.sock.close()
    raw = websocket.create_connection(url, timeout=5)      # reset (RST) with a telemetry in flight
    raw.recv()
    raw.send(packet)
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.sock.close()
    raw = websocket.create_connection(url, timeout=5)      # a close frame, then gone at once
    raw.recv()
    raw.send_close()
    raw.sock.close()
    raw = websocket.create_connection(url, timeout=5)      # dies in the middle of a frame
    raw.recv()
    frame = websocket.ABNF.create_frame(packet, websocket.ABNF.OPCODE_TEXT).format()
    raw.sock.sendall(frame[:len(frame) // 2])
    raw.sock.close()
    raw = websocket.create_connection(url, timeout=5)      # an engine packet that is not one
    raw.recv()
    raw.send("x")
    assert raw.recv() == ""                                # the server's close frame, then nothing
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        raw.recv()
    raw.close()


@pytest.mark.slow
def test_clients_that_vanish_leave_one_whole_line_per_event_in_the_log(server, packet):
    for _ in range(3):
        vanish_in_every_abrupt_way(server.host, server.port, packet)
    url = f"ws://{server.host}:{server.port}{SOCKET_PATH}"
    for _ in range(60):         # eventlet's "socket shutdown error" comes with a few % of these
        raw = websocket.create_connection(url, timeout=5)
        raw.recv()
        raw.send(packet)
        raw.recv()
        raw.sock.close()
    with SimulatorWire(server.host, server.port) as wire:  # still serving
        wire.connect()
        wire.send_telemetry(-1.25, 0.3, 5.0, camera_jpeg(4))
        assert wire.receive_event()[0] == "steer"
    server.wait_for_output("frames/s")                      # the per-second line that counts them
    assert server.stop() == 0
    lines = list(server.output)
    listening = next(index for index, line in enumerate(lines) if "listening on" in line)
    assert all(STARTUP_LINE.fullmatch(line) for line in lines[:listening + 1]), lines[:listening + 1]
    serving = lines[listening + 1:]
    assert [line for line in serving if not SERVING_LINE.fullmatch(line)] == []
    assert any("frames/s" in line for line in serving) and serving[-1].startswith("drive: stopped after")
