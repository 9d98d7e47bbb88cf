"""The live page's state (pilot.drive.live) and the drive server's page endpoints, without sockets."""
from __future__ import annotations

import io
import re

import keras
import numpy as np
import pytest
from PIL import Image
from werkzeug.test import Client

from pilot.control import PIController
from pilot.drive.app import STATIC_DIR, create_app
from pilot.drive.live import HISTORY_S, LiveView, model_input_png, saliency_overlay_png
from pilot.drive.telemetry import DriveStats, Frame, Reply, safe_reply
from pilot.imaging import preprocess, to_model_input
from pilot.learn.model import build_pilotnet
from pilot.learn.predictors import FastPredictor
from pilot.learn.saliency import visual_backprop
from pilot.udacity.images import decode_jpeg_rgb
from tests.drive.test_app import telemetry
from tests.drive_support import camera_jpeg


def driven(jpeg: bytes, steering: float = 0.1, throttle: float = 0.5, speed_mph: float = 10.0) -> Reply:
    return Reply("steer", {}, frame=Frame(jpeg, steering, throttle, speed_mph))


def test_strips_keep_30_s_and_the_page_gets_only_samples_it_has_not_seen():
    live = LiveView(DriveStats())
    jpeg = camera_jpeg(1)
    for i in range(160):                                    # 40 s at 4 frames/s (times exact in binary)
        live.record(driven(jpeg, speed_mph=float(i)), 0.002, now_s=i * 0.25)
    now_s = 39.75
    state = live.state(now_s)
    times_s = [sample[1] for sample in state["samples"]]
    assert min(times_s) >= -HISTORY_S and max(times_s) == 0.0
    assert len(state["samples"]) == 121                     # 30 s of samples, both ends included
    assert state["samples"][-1][4] == 159.0 and state["frame_index"] == 160
    assert state["frames_per_s"] == 4.0
    later = live.state(now_s, after_index=156)
    assert [sample[0] for sample in later["samples"]] == [157, 158, 159, 160]
    assert live.state(now_s, after_index=160)["samples"] == []
    assert live.latest_jpeg is jpeg                         # a reference, not a copy


def test_counts_are_the_servers_and_latency_percentiles_cover_every_answer():
    stats = DriveStats()
    live = LiveView(stats, model_name="model.keras", controller_name="pi at 15 mph")
    jpeg = camera_jpeg(2)
    for i, reply in enumerate([driven(jpeg)] * 5 + [Reply("manual", {})] * 2 + [safe_reply("bad", False)]):
        stats.record(reply, 0.001 * (i + 1), float(i))
        live.record(reply, 0.001 * (i + 1), float(i))
    state = live.state(8.0)
    assert (state["frames"], state["manual"], state["malformed"]) == (5, 2, 1)
    assert state["latency_p50_ms"] == pytest.approx(4.5) and state["latency_p99_ms"] == pytest.approx(7.93)
    assert (state["model"], state["controller"]) == ("model.keras", "pi at 15 mph")
    assert len(state["samples"]) == 5                        # only driven frames go on the strips


def test_model_input_picture_is_the_models_input_bit_for_bit():
    jpeg = camera_jpeg(3)
    picture = np.asarray(Image.open(io.BytesIO(model_input_png(jpeg))))
    assert picture.shape == (66, 200, 3)
    np.testing.assert_array_equal(picture, preprocess(decode_jpeg_rgb(jpeg)))


def test_model_input_is_encoded_lazily_once_per_frame_and_at_most_the_set_rate():
    live = LiveView(DriveStats(), max_model_input_per_s=5.0)
    encoded: list[bytes] = []

    def encode(jpeg: bytes) -> bytes:
        encoded.append(jpeg)
        return b"png of %d" % len(encoded)
    assert live.model_input_png(0.0, encode) is None        # nothing driven yet
    first, second = camera_jpeg(4), camera_jpeg(5)
    live.record(driven(first), 0.001, 0.0)
    assert encoded == []                                     # the hot path never encodes
    assert live.model_input_png(1.00, encode) == b"png of 1"
    assert live.model_input_png(1.01, encode) == b"png of 1"  # same frame: cached
    live.record(driven(second), 0.001, 1.02)
    assert live.model_input_png(1.05, encode) == b"png of 1"  # too soon after the last encoding
    assert live.model_input_png(1.30, encode) == b"png of 2"
    assert encoded == [first, second]


@pytest.fixture(scope="module")
def predictor() -> FastPredictor:
    keras.utils.set_random_seed(4)
    return FastPredictor(build_pilotnet())


def test_the_server_serves_the_page_the_latest_frame_and_the_model_input(predictor):
    stats = DriveStats()
    sio, app = create_app(predictor, lambda: PIController(15.0), max_payload_bytes=100_000, stats=stats,
                          model_name="model.keras", controller_name="pi at 15 mph", async_mode="threading")
    client = Client(app)
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html" and b'id="frame"' in page.data
    assert client.get("/live/frame.jpg").status_code == 404          # nothing driven yet
    assert client.get("/live/model_input.png").status_code == 404
    assert client.get("/live/saliency.png").status_code == 404         # only with --saliency
    on_telemetry = sio.handlers["/"]["telemetry"]
    jpegs = [camera_jpeg(6), camera_jpeg(7)]
    for jpeg in jpegs:
        on_telemetry("sid-1", telemetry(jpeg))
    on_telemetry("sid-1", {})
    on_telemetry("sid-1", "garbage")
    frame = client.get("/live/frame.jpg")
    assert frame.mimetype == "image/jpeg" and frame.data == jpegs[-1]
    picture = np.asarray(Image.open(io.BytesIO(client.get("/live/model_input.png").data)))
    np.testing.assert_array_equal(picture, preprocess(decode_jpeg_rgb(jpegs[-1])))
    state = client.get("/live/state").json
    assert (state["frames"], state["manual"], state["malformed"]) == (2, 1, 1)
    assert state["model"] == "model.keras" and len(state["samples"]) == 2
    assert "2 frames driven, 1 malformed answered safely, 1 manual" in client.get("/status").text


def test_the_page_loads_nothing_from_outside_this_server():
    files = sorted(STATIC_DIR.iterdir())
    assert {path.name for path in files} >= {"live.html", "live.js", "live.css"}
    for path in files:
        text = path.read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path.name
        assert "@import" not in text and "url(" not in text, path.name


def test_saliency_explains_each_new_frame_once_with_the_road_tests_visual_backprop(predictor):
    live = LiveView(DriveStats())
    calls: list[np.ndarray] = []

    def explain(preprocessed: np.ndarray) -> np.ndarray:
        calls.append(preprocessed)
        return visual_backprop(predictor.model, to_model_input(preprocessed)[None])[0]
    assert not live.update_saliency(explain)                    # nothing driven yet
    jpeg = camera_jpeg(8)
    live.record(driven(jpeg), 0.001, 0.0)
    assert live.update_saliency(explain) and not live.update_saliency(explain)
    assert len(calls) == 1 and live.saliency_index == 1 == live.state(0.0)["saliency_index"]
    np.testing.assert_array_equal(calls[0], preprocess(decode_jpeg_rgb(jpeg)))
    picture = np.asarray(Image.open(io.BytesIO(live.saliency_png)))
    mask = visual_backprop(predictor.model, to_model_input(calls[0])[None])[0]
    assert picture.shape == (66, 200, 3)
    hot, cold = np.unravel_index(mask.argmax(), mask.shape), np.unravel_index(mask.argmin(), mask.shape)
    assert picture[hot][0] > picture[hot][2] + 100                 # orange where the mask is 1
    assert picture[cold][0] == picture[cold][2]                    # plain grey where it is 0


def test_saliency_overlay_is_grey_brightness_plus_orange_mask():
    preprocessed = np.full((66, 200, 3), 100, np.uint8)
    mask = np.zeros((66, 200), np.float32)
    mask[:, 100:] = 1.0
    picture = np.asarray(Image.open(io.BytesIO(saliency_overlay_png(preprocessed, mask))))
    assert tuple(picture[0, 0]) == (100, 100, 100)
    assert tuple(picture[0, 150]) == (216, 92, 25)                 # 0.25 grey + 0.75 orange
