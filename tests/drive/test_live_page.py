"""The live page in headless Chromium while a simulator-like client drives a real drive server."""
from __future__ import annotations

import math
import urllib.request

import keras
import numpy as np
import pytest
from PIL import Image

from pilot.drive.process import DriveServerProcess
from pilot.learn.model import build_pilotnet
from pilot.sim.wire import SimulatorWire
from pilot.udacity.images import decode_jpeg_rgb
from tests.browser import screenshot, wait_for
from tests.drive_support import RawSocket, camera_jpeg

STRIP = "document.getElementById('strip-speed').toDataURL()"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    keras.utils.set_random_seed(31)
    model_path = tmp_path_factory.mktemp("model") / "model.keras"
    build_pilotnet().save(model_path)
    process = DriveServerProcess(model_path, extra_args=("--frame-dt", "0.05", "--saliency"))
    process.start()
    yield process
    assert process.stop() == 0, "\n".join(process.output)


def drive(wire: SimulatorWire, jpegs: list[bytes], first: int, count: int) -> None:
    """Lock-step telemetry with a speed that rises and falls, so the strips have a shape."""
    for i in range(first, first + count):
        wire.send_telemetry(0.0, 0.2, 10.0 + 8.0 * math.sin(i / 8.0), jpegs[i % len(jpegs)])
        assert wire.receive_event()[0] == "steer"


def server_counts(server: DriveServerProcess) -> tuple[int, int, int]:
    """(frames, malformed, manual) from the server's own /status line."""
    text = urllib.request.urlopen(f"http://{server.host}:{server.port}/status", timeout=10).read().decode()
    words = text.replace(",", "").split()
    return (int(words[words.index("frames") - 1]), int(words[words.index("malformed") - 1]),
            int(words[words.index("manual.") - 1]))


def page_counts(browser) -> tuple[int, int, int]:
    return tuple(int(browser.find_element("id", name).text) for name in ("frames", "malformed", "manual"))


def test_live_page_shows_frames_moving_strips_and_the_servers_counts(server, browser, tmp_path):
    jpegs = [camera_jpeg(seed) for seed in range(8)]
    browser.get(f"http://{server.host}:{server.port}/")
    wait_for(browser, "window.live.events > 0")
    assert browser.find_element("id", "model").text == "model.keras"
    assert browser.find_element("id", "controller").text.startswith("pi at ")

    wire = SimulatorWire(server.host, server.port, timeout_s=30.0)
    wire.connect()
    drive(wire, jpegs, 0, 60)
    wait_for(browser, "window.live.state.frames === 60 && window.live.framesShown > 0")
    strip_before = browser.execute_script(f"return {STRIP};")

    drive(wire, jpegs, 60, 60)
    for _ in range(3):
        wire.send_manual()
        assert wire.receive_event()[0] == "manual"
    raw = RawSocket(server.host, server.port)
    for bad in ('42["telemetry",{"speed":"1.0000"}]', '42["telemetry","not an object"]'):
        raw.send(bad)
        raw.recv_until("42")
    raw.close()
    wire.close()

    counts = server_counts(server)
    assert counts == (120, 2, 3)
    wait_for(browser, "document.getElementById('frames').textContent === '120'"
                      " && document.getElementById('malformed').textContent === '2'"
                      " && document.getElementById('manual').textContent === '3'")
    assert page_counts(browser) == counts
    assert browser.execute_script("return window.live.samples.length;") == 120
    assert browser.execute_script(f"return {STRIP};") != strip_before          # the strips moved
    wait_for(browser, "document.getElementById('frame').src.endsWith('frame=120')"
                      " && document.getElementById('frame').complete"
                      " && document.getElementById('model-input').complete"
                      " && document.getElementById('model-input').naturalWidth === 200")
    wait_for(browser, "window.live.saliencyShown > 0 && !document.getElementById('saliency-figure').hidden"
                      " && document.getElementById('saliency').naturalWidth === 200")

    pixels = screenshot(browser, tmp_path / "live_page.png")
    assert pixels.shape[1] == 1280
    assert pixels.std() > 20                                                  # not blank
    box = browser.execute_script(
        "const r = document.getElementById('frame').getBoundingClientRect();"
        "return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];")
    left, top, width, height = box
    assert (width, height) == (600, 300)
    shown = Image.fromarray(pixels[top:top + height, left:left + width]).resize((320, 160), Image.BILINEAR)
    last_frame = decode_jpeg_rgb(jpegs[119 % len(jpegs)]).astype(np.float32)
    difference = np.abs(np.asarray(shown, np.float32) - last_frame).mean()
    assert difference < 8.0, f"the frame area differs from the last frame by {difference:.1f} on average"
    other_frame = decode_jpeg_rgb(jpegs[0]).astype(np.float32)
    assert np.abs(np.asarray(shown, np.float32) - other_frame).mean() > difference
    assert (tmp_path / "live_page.png").stat().st_size > 20_000


def test_leaving_and_reopening_the_page_many_times_never_exhausts_the_browsers_connections(server, browser):
    """Chromium allows six connections per server: a page left behind must close its event stream."""
    for _ in range(8):
        browser.get(f"http://{server.host}:{server.port}/")
        wait_for(browser, "window.live.events > 0")
        browser.get("about:blank")
    browser.get(f"http://{server.host}:{server.port}/")
    wait_for(browser, "window.live.events > 0")
