"""The review page in headless Chromium: keys mark a range, excluded.csv is written, dvc repro ingest drops it."""
import json
import sys

import numpy as np
import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from pilot.udacity.images import read_jpeg_rgb
from tests.browser import screenshot, wait_for
from tests.recordings import frame_name_stamp, straight_values, write_recording
from tests.review.review_server import review_server
from tests.stage_runner import copy_project, run, set_params

FRAMES = 40
EXCLUDED_RED = np.array([220, 38, 38])


def wait_until_shown(browser, index):
    wait_for(browser, f"document.body.dataset.frame === '{index}'")


def open_page(browser, url):
    browser.get(url)
    wait_for(browser, "document.body.dataset.state === 'ready'")
    return ActionChains(browser)


def frame_pixels(folder, camera, index):
    return read_jpeg_rgb(str(folder / "IMG" / f"{camera}_{frame_name_stamp(index)}.jpg")).astype(np.int16)


def region(pixels, rect):
    top, left = round(rect["top"]), round(rect["left"])
    return pixels[top:top + round(rect["height"]), left:left + round(rect["width"])].astype(np.int16)


def shows_frame(pixels, rect, folder, camera, index):
    """Mean absolute difference between the camera region of the screenshot and the frame's JPEG."""
    shown = region(pixels, rect)
    assert shown.shape == (160, 320, 3), rect
    return float(np.abs(shown - frame_pixels(folder, camera, index)).mean())


@pytest.mark.slow
def test_marking_a_range_writes_excluded_csv_and_dvc_repro_ingest_drops_exactly_those_rows(browser, tmp_path):
    root = copy_project(tmp_path / "project")
    folder = root / "data/raw/laps"
    write_recording(folder, straight_values(FRAMES, seed=3))
    set_params(root, "ingest", sources=["data/raw/laps"])
    recording_before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}

    with review_server(folder, cwd=root) as (url, _):
        keys = open_page(browser, url)
        keys.send_keys(Keys.ARROW_RIGHT * 3, "[").perform()
        keys.key_down(Keys.SHIFT).send_keys(Keys.ARROW_RIGHT).key_up(Keys.SHIFT).send_keys("]", "x").perform()
        assert browser.switch_to.active_element.get_attribute("id") == "reason"    # x asks for a reason first
        keys.send_keys("off the road [x]", Keys.ENTER).perform()     # [, x and ] are text in the box
        wait_for(browser, "document.body.dataset.saved === 'yes'")
        wait_until_shown(browser, 13)

        assert browser.find_element(By.ID, "frame-number").text == f"Frame 14 of {FRAMES}"
        assert browser.find_element(By.ID, "frame-excluded").text == "excluded: off the road [x]"
        cells = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#excluded-table tbody td")]
        assert cells[:5] == ["4–14", frame_name_stamp(3), frame_name_stamp(13), "11", "off the road [x]"]

        pixels = screenshot(browser, tmp_path / "review.png")
        viewport = browser.execute_script("return [innerWidth, innerHeight]")
        assert pixels.shape == (viewport[1], viewport[0], 3)
        assert pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 1000     # not blank
        for camera in ("left", "center", "right"):
            rect = browser.execute_script(f"return review.cameraRect('{camera}')")
            assert shows_frame(pixels, rect, folder, camera, 13) < 3.0
            assert shows_frame(pixels, rect, folder, camera, 12) > 2 * shows_frame(pixels, rect, folder, camera, 13)
        centre = browser.execute_script("return review.cameraRect('center')")
        outline = pixels[round(centre["top"]) - 3, round(centre["left"] + 160)]         # excluded: a red outline
        assert np.abs(outline.astype(int) - EXCLUDED_RED).max() < 30, outline

    assert (folder / "excluded.csv").read_text() == (
        f"first_time,last_time,reason\n{frame_name_stamp(3)},{frame_name_stamp(13)},off the road [x]\n")
    assert {path: path.read_bytes() for path in recording_before} == recording_before

    run([sys.executable, "-m", "dvc", "repro", "-s", "ingest"], root)

    ingest = json.loads((root / "metrics/ingest.json").read_text())
    assert ingest["dropped"]["excluded_by_user"] == 11 and ingest["rows_dropped"] == 11
    assert ingest["rows_kept"] == FRAMES - 11
    kept = pd.read_csv(root / "data/interim/log.csv")["center"].str.extract(r"center_(.*)\.jpg")[0].tolist()
    assert kept == [frame_name_stamp(i) for i in range(FRAMES) if not 3 <= i <= 13]


@pytest.mark.slow
def test_page_reports_a_malformed_line_and_deletes_a_range(browser, tmp_path):
    folder = tmp_path / "laps"
    write_recording(folder, straight_values(30, seed=4))
    (folder / "excluded.csv").write_text(
        "first_time,last_time,reason\n"
        f"{frame_name_stamp(2)},{frame_name_stamp(5)},spun out\n"
        f"{frame_name_stamp(7)},yesterday,typo\n"
        f"{frame_name_stamp(20)},{frame_name_stamp(24)},kerb\n")

    with review_server(folder) as (url, printed):
        keys = open_page(browser, url)
        notice = browser.find_element(By.ID, "problems")
        assert notice.is_displayed() and "excluded.csv line 3: last_time 'yesterday' is not" in notice.text
        assert "line 3: last_time 'yesterday'" in printed[0]
        assert browser.execute_script("return review.state.excludedBy.filter(r => r >= 0).length") == 9

        keys.send_keys(Keys.END, Keys.PAGE_UP).perform()
        wait_until_shown(browser, 19)
        assert browser.find_element(By.ID, "frame-number").text == "Frame 20 of 30"
        pixels = screenshot(browser, tmp_path / "review-problems.png")
        rect = browser.execute_script("return review.cameraRect('center')")
        assert shows_frame(pixels, rect, folder, "center", 19) < 3.0

        trace = browser.find_element(By.ID, "trace")
        ActionChains(browser).move_to_element_with_offset(trace, 0, 0).click().perform()    # the trace's centre
        plot_x = browser.execute_script("return arguments[0].clientWidth / 2 - 84", trace)   # 84 px of labels
        plot_width = browser.execute_script("return arguments[0].clientWidth - 84", trace)
        expected = round(plot_x / plot_width * 29)
        shown = browser.execute_script("return [review.state.index, Number(document.getElementById('scrubber').value)]")
        assert shown == [expected, expected]

        browser.find_elements(By.CSS_SELECTOR, "#excluded-table button")[0].click()
        wait_for(browser, "document.body.dataset.saved === 'yes'")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#excluded-table tbody tr")) == 1

    assert (folder / "excluded.csv").read_text() == (
        f"first_time,last_time,reason\n{frame_name_stamp(20)},{frame_name_stamp(24)},kerb\n"
        f"{frame_name_stamp(7)},yesterday,typo\n")
