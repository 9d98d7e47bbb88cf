"""The drive server's pure layer: telemetry in, command out, with a real model (no sockets)."""
from __future__ import annotations

import base64
import io
import shutil
import struct
import warnings

import keras
import numpy as np
import pytest
from PIL import Image

from pilot.control import PIController, SeedLinearController
from pilot.drive.app import create_app, local_origin
from pilot.drive.record import DriveRecorder
from pilot.drive.telemetry import (
    ClientState,
    DriveStats,
    MalformedTelemetry,
    format_for_client,
    handle_telemetry,
    read_client_number,
)
from pilot.learn.model import build_pilotnet
from pilot.learn.predictors import FastPredictor
from pilot.udacity.images import decode_jpeg_rgb
from tests.drive_support import camera_jpeg

SAFE = {"steering_angle": "0.000000", "throttle": "0.000000"}
SAFE_COMMA = {"steering_angle": "0,000000", "throttle": "0,000000"}


def model_with_output_bias(bias: float) -> keras.Model:
    """A real PilotNet whose last layer is pushed to output about `bias`."""
    keras.utils.set_random_seed(5)
    model = build_pilotnet()
    kernel, _ = model.layers[-1].get_weights()
    model.layers[-1].set_weights([kernel * 0.0, np.array([bias], np.float32)])
    return model


@pytest.fixture(scope="module")
def predictor() -> FastPredictor:
    keras.utils.set_random_seed(4)
    return FastPredictor(build_pilotnet())


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return camera_jpeg(11)


def telemetry(jpeg: bytes, speed: str = "12.0000", steering: str = "-1.5000",
              throttle: str = "0.3000") -> dict:
    """As the simulator sends it: N4 strings, steering in degrees, base64 JPEG."""
    return {"steering_angle": steering, "throttle": throttle, "speed": speed,
            "image": base64.b64encode(jpeg).decode()}


def other_image(fmt: str, size: tuple[int, int] = (320, 160)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 120, 60)).save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def test_manual_mode_empty_telemetry_gets_manual(predictor):
    client = ClientState(PIController(15.0))
    reply = handle_telemetry({}, client, predictor, now_s=0.0)
    assert (reply.event, reply.data, reply.frame, reply.malformed) == ("manual", {}, None, None)


def test_a_frame_gets_the_models_steering_and_the_controllers_throttle_as_strings(predictor, jpeg):
    client = ClientState(SeedLinearController(speed_limit_mph=20.0))
    reply = handle_telemetry(telemetry(jpeg, speed="5.0000"), client, predictor, now_s=1.0)
    assert reply.event == "steer" and reply.malformed is None
    assert all(isinstance(value, str) for value in reply.data.values())
    expected = predictor.predict_rgb(decode_jpeg_rgb(jpeg))
    assert float(reply.data["steering_angle"]) == pytest.approx(expected, abs=1e-6)
    assert float(reply.data["throttle"]) == pytest.approx(1.0 - 5.0 / 20.0)
    assert reply.frame.jpeg_bytes == jpeg and reply.frame.speed_mph == 5.0


def test_steering_is_clipped_to_the_simulators_range(jpeg):
    for bias, expected in ((4.0, "1.000000"), (-7.0, "-1.000000")):
        predictor = FastPredictor(model_with_output_bias(bias))
        reply = handle_telemetry(telemetry(jpeg), ClientState(PIController(15.0)), predictor, 0.0)
        assert reply.data["steering_angle"] == expected


def test_a_model_that_returns_nan_gets_the_safe_command(jpeg):
    predictor = FastPredictor(model_with_output_bias(float("nan")))
    reply = handle_telemetry(telemetry(jpeg), ClientState(PIController(15.0)), predictor, 0.0)
    assert reply.data == SAFE and "non-finite" in reply.malformed


def test_the_controller_gets_the_time_between_frames(predictor, jpeg):
    controller = PIController(set_speed_mph=15.0, kp=0.0, ki=0.1)
    client = ClientState(controller)
    handle_telemetry(telemetry(jpeg, speed="5.0000"), client, predictor, now_s=10.0)
    assert controller.integral_mph_s == 0.0                       # first frame: dt 0
    reply = handle_telemetry(telemetry(jpeg, speed="5.0000"), client, predictor, now_s=10.2)
    target_mph = controller.target_speed_mph(reply.frame.steering)   # slower in bends
    assert controller.integral_mph_s == pytest.approx((target_mph - 5.0) * 0.2)


def test_a_fixed_frame_time_replaces_the_clock(predictor, jpeg):
    """The headless simulator steps 0.1 s per reply however fast the replies come."""
    controller = PIController(set_speed_mph=15.0, kp=0.0, ki=0.1)
    client = ClientState(controller, frame_dt_s=0.1)
    for now_s in (10.0, 10.004, 10.009):
        reply = handle_telemetry(telemetry(jpeg, speed="5.0000"), client, predictor, now_s=now_s)
    target_mph = controller.target_speed_mph(reply.frame.steering)
    assert controller.integral_mph_s == pytest.approx((target_mph - 5.0) * 0.3)


def test_comma_decimal_client_is_read_and_answered_in_its_own_form(predictor, jpeg):
    client = ClientState(SeedLinearController(speed_limit_mph=10.0))
    data = telemetry(jpeg, speed="2,5000", steering="-3,1250", throttle="0,4000")
    reply = handle_telemetry(data, client, predictor, now_s=0.0)
    assert reply.frame.speed_mph == 2.5
    assert reply.data["throttle"] == "0,750000"
    assert "," in reply.data["steering_angle"] and "." not in reply.data["steering_angle"]
    assert handle_telemetry({"speed": "1,0"}, client, predictor, 0.1).data == SAFE_COMMA
    # the same client switching back to dots is answered with dots
    dot_reply = handle_telemetry(telemetry(jpeg, speed="2.5000"), client, predictor, 0.2)
    assert dot_reply.data["throttle"] == "0.750000"


BAD_PAYLOADS = {
    "missing image": lambda jpeg: {"speed": "1.0000", "steering_angle": "0.0000"},
    "missing speed": lambda jpeg: {"image": base64.b64encode(jpeg).decode()},
    "number not a string": lambda jpeg: {**telemetry(jpeg), "speed": 12.0},
    "steering not a string": lambda jpeg: {**telemetry(jpeg), "steering_angle": None},
    "NaN speed": lambda jpeg: telemetry(jpeg, speed="NaN"),
    "infinite speed": lambda jpeg: telemetry(jpeg, speed="\u221e"),
    "overflowing speed": lambda jpeg: telemetry(jpeg, speed="1e999"),
    "text speed": lambda jpeg: telemetry(jpeg, speed="fast"),
    "bad base64": lambda jpeg: {**telemetry(jpeg), "image": "not/base64!!"},
    "image not a string": lambda jpeg: {**telemetry(jpeg), "image": [1, 2, 3]},
    "PNG not JPEG": lambda jpeg: {**telemetry(jpeg), "image": other_image("PNG")},
    "truncated JPEG": lambda jpeg: {**telemetry(jpeg), "image": base64.b64encode(jpeg[:300]).decode()},
    "wrong size JPEG": lambda jpeg: {**telemetry(jpeg), "image": other_image("JPEG", (200, 66))},
    "payload is a string": lambda jpeg: "telemetry",
    "payload is a list": lambda jpeg: [telemetry(jpeg)],
    "payload is null": lambda jpeg: None,
}


@pytest.mark.parametrize("case", sorted(BAD_PAYLOADS))
def test_bad_input_gets_the_safe_command_and_a_reason(case, predictor, jpeg):
    client = ClientState(PIController(15.0))
    reply = handle_telemetry(BAD_PAYLOADS[case](jpeg), client, predictor, now_s=0.0)
    assert reply.event == "steer" and reply.data == SAFE
    assert reply.malformed and reply.frame is None


def test_a_jpeg_header_claiming_a_huge_image_is_refused_before_decoding(predictor, jpeg):
    start = jpeg.find(b"\xff\xc0")                       # SOF0: length, precision, height, width
    claimed = jpeg[:start + 5] + struct.pack(">HH", 9_000, 12_000) + jpeg[start + 9:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # no DecompressionBombWarning, no decode
        reply = handle_telemetry({**telemetry(jpeg), "image": base64.b64encode(claimed).decode()},
                                 ClientState(PIController(15.0)), predictor, now_s=0.0)
    assert reply.data == SAFE and reply.malformed == "the image is 12000x9000, not the camera's 320x160"


def test_reading_numbers_in_every_culture():
    assert read_client_number("12.3456") == (12.3456, ".")
    assert read_client_number("12,3456") == (12.3456, ",")
    assert read_client_number("-0,5000") == (-0.5, ",")
    assert read_client_number("1,234.5000") == (1234.5, ".")       # en-US group separator
    assert read_client_number("1.234,5000") == (1234.5, ",")       # de-DE
    assert read_client_number("1\u202f234,5000") == (1234.5, ",")  # fr-FR narrow space
    assert read_client_number("\u22122,0000") == (-2.0, ",")       # Unicode minus (sv-SE)
    assert read_client_number("7.843922E-05") == (7.843922e-05, ".")
    assert read_client_number("0") == (0.0, None)
    for bad in ("NaN", "Infinity", "-\u221e", "1e999", "", "1.2.3x", "abc"):
        with pytest.raises(MalformedTelemetry):
            read_client_number(bad)
    with pytest.raises(MalformedTelemetry, match="not as a string"):
        read_client_number(1.5)


def test_commands_are_formatted_for_the_clients_float_parse():
    assert format_for_client(-0.25, decimal_comma=False) == "-0.250000"
    assert format_for_client(-0.25, decimal_comma=True) == "-0,250000"


def test_stats_summary_line_and_rate_limited_warnings(predictor, jpeg):
    stats = DriveStats()
    client = ClientState(PIController(15.0))
    good = handle_telemetry(telemetry(jpeg), client, predictor, 0.0)
    for i in range(10):
        assert stats.record(good, latency_s=0.002 + i * 0.0001, now_s=100.0 + i * 0.05) is None
    bad = handle_telemetry({"speed": "x"}, client, predictor, 0.0)
    warnings = [stats.record(bad, 0.001, now_s=100.5 + i * 0.1) for i in range(20)]
    assert sum(w is not None for w in warnings) == 1            # one per 5 s, not one per frame
    assert warnings[0].startswith("answered 1 malformed")
    stats.record(handle_telemetry({}, client, predictor, 0.0), 0.001, 102.0)
    line = stats.summary(now_s=102.0)
    assert "malformed 20" in line and "manual 1" in line and "total frames 10" in line
    assert "frames/s" in line and "p50" in line and "p99" in line
    assert stats.summary(now_s=103.0) is None                     # nothing new: no line
    late = stats.record(bad, 0.001, now_s=106.0)
    assert late.startswith("answered 20 malformed")               # the suppressed ones are counted
    assert stats.total_malformed == 21


def test_cors_accepts_only_pages_from_this_machine():
    assert local_origin("http://localhost:4567")
    assert local_origin("http://127.0.0.1")
    assert local_origin("http://[::1]:8080")
    assert not local_origin("http://example.com")
    assert not local_origin("http://127.0.0.1.evil.net")
    assert not local_origin("null")


def test_handlers_record_frames_and_keep_driving_when_the_disk_fails(predictor, jpeg, tmp_path):
    """The app's telemetry handler, called as python-socketio calls it (no socket needed)."""
    stats = DriveStats()
    recorder = DriveRecorder(tmp_path / "run")
    sio, _ = create_app(predictor, lambda: PIController(15.0), max_payload_bytes=100_000,
                        recorder=recorder, stats=stats, async_mode="threading")
    on_telemetry = sio.handlers["/"]["telemetry"]
    on_telemetry("sid-1", telemetry(jpeg))
    recorder.flush()
    assert (tmp_path / "run" / "IMG" / "frame_000001.jpg").read_bytes() == jpeg
    shutil.rmtree(tmp_path / "run")                     # the disk goes away mid-drive
    on_telemetry("sid-1", telemetry(jpeg))
    on_telemetry("sid-1", telemetry(jpeg))
    on_telemetry("sid-1", "garbage")
    assert (stats.total_frames, stats.total_malformed) == (3, 1)
    assert recorder.frames == 2                          # tried once more, then stopped
