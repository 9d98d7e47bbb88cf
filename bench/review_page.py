"""Review page speed: open a 5,000-frame recording, then step frame to frame in headless Chromium.

Targets: open <= 2 s (reading the recording, then the page until its first frame is painted),
and steps without visible lag (key event to the next painted frame, measured in the page with
performance.now(); one display frame at 60 Hz is 16.7 ms). Needs Debian's chromium and
chromium-driver. The recording is written here with the simulator's own recorder.

    .venv/bin/python bench/review_page.py [--frames 5000] [--steps 150]
"""
from __future__ import annotations

import argparse
import io
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))          # tests.browser: the one place that knows how to start Chromium

from pilot.udacity.log_writer import RecordingWriter  # noqa: E402
from tests.browser import INSTALL_HINT, start_chromium, wait_for  # noqa: E402

OPEN_TARGET_S = 2.0
DISPLAY_FRAME_MS = 1000 / 60
DISTINCT_IMAGES = 64          # JPEG contents cycle; every frame still has its own three files
FRAME_STEP_S = 0.07           # the simulator records about 14 frames a second


def road_jpeg(seed: int) -> bytes:
    """A 320x160 camera-like JPEG (sky, grass, road, noise) of the simulator's size and quality."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:160, 0:320]
    image = np.where(rows[..., None] < 64, (120, 170, 230), (90, 140, 60)).astype(np.float32)
    centre = 160 + rng.uniform(-60, 60) * (rows - 64) / 160
    image[(rows >= 64) & (np.abs(cols - centre) < 10 + (rows - 64) * 1.2)] = (110, 110, 115)
    image += rng.normal(0, 6, image.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def write_big_recording(folder: Path, frames: int) -> None:
    jpegs = [road_jpeg(seed) for seed in range(DISTINCT_IMAGES)]
    rng = np.random.default_rng(0)
    with RecordingWriter(folder, datetime(2019, 2, 20, 12, 24, 27)) as writer:
        for index in range(frames):
            image = jpegs[index % DISTINCT_IMAGES]
            writer.write(index * FRAME_STEP_S, {"center": image, "left": image, "right": image},
                         float(np.clip(np.sin(index / 80) * 0.4 + rng.normal(0, 0.03), -1, 1)), 0.6, 0.0,
                         float(np.clip(20 + 8 * np.sin(index / 300), 0, 30)))


def summary_ms(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):5.1f} ms, p95 {p95:5.1f} ms, max {ordered[-1]:5.1f} ms"


def press(driver, keys: list[str], pause_s: float) -> list[dict]:
    """Press keys like a user (pause_s apart); returns the page's timings of those steps."""
    from selenium.webdriver.common.action_chains import ActionChains
    before = driver.execute_script("return review.timings.steps.length")
    chain = ActionChains(driver)
    for key in keys:
        chain.send_keys(key).pause(pause_s)
    chain.perform()
    wait_for(driver, f"review.timings.steps.length >= {before + len(keys)}", timeout_s=60)
    return driver.execute_script(f"return review.timings.steps.slice({before})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    from selenium.webdriver.common.keys import Keys

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "big lap"
        write_big_recording(folder, args.frames)
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "pilot.review", str(folder), "--port", "0"],
                                  cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline()
            listening_s = time.perf_counter() - started
            match = re.search(r"read in ([\d.]+) s; open (http://\S+)", line)
            if match is None:
                sys.exit(f"review did not start: {line}")
            read_s, url = float(match.group(1)), match.group(2)
            driver = start_chromium(Path(tmp) / "profile")
            if driver is None:
                sys.exit(INSTALL_HINT)
            try:
                driver.get(url)
                wait_for(driver, "document.body.dataset.state === 'ready'")
                page_s = driver.execute_script("return review.timings.openMs") / 1000
                list_kb = driver.execute_script(
                    "return performance.getEntriesByName(location.origin + '/api/recording')[0].encodedBodySize") / 1024
                single = press(driver, [Keys.ARROW_RIGHT] * args.steps, pause_s=1 / 30)     # a held arrow key
                tens = press(driver, [Keys.PAGE_DOWN] * (args.steps // 3), pause_s=0.2)
                jumps = press(driver, [Keys.END, Keys.HOME] * 3, pause_s=0.5)               # never fetched before
            finally:
                driver.quit()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)

    print(f"review page: {args.frames} frames ({list_kb:.0f} kB frame list)")
    print(f"  open: read {read_s:.2f} s + page to first painted frame {page_s:.2f} s = {read_s + page_s:.2f} s "
          f"(ratio to target {OPEN_TARGET_S:.0f} s = {(read_s + page_s) / OPEN_TARGET_S:.2f}); "
          f"command start to listening {listening_s:.2f} s")
    for name, steps in (("one frame (->, 30/s)", single), ("ten frames (PgDn, 5/s)", tens),
                        ("Home/End (not prefetched)", jumps)):
        shown = [step for step in steps if step["shown"]]
        ready = sum(step["ready"] for step in shown)
        print(f"  {name:26s}: {summary_ms([step['ms'] for step in shown])}; {ready}/{len(steps)} already "
              f"decoded, {len(steps) - len(shown)} never shown (next key came first)")
    print(f"  (one display frame at 60 Hz = {DISPLAY_FRAME_MS:.1f} ms; {os.cpu_count()} cores shared)")


if __name__ == "__main__":
    main()
