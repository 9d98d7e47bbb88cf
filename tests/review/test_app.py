"""The review app through Flask's test client: frame list, images by index, exclusions read and saved."""
import io

import numpy as np
import pytest
from PIL import Image

from pilot.review.app import create_app, load_recording
from pilot.udacity.log_reader import RecordingError
from tests.recordings import frame_name_stamp, straight_values, write_recording


@pytest.fixture
def recording_folder(tmp_path):
    folder = tmp_path / "my run"
    write_recording(folder, straight_values(8), header=True)
    return folder


@pytest.fixture
def client(recording_folder):
    return create_app(load_recording(recording_folder)).test_client()


def test_frame_list_has_one_entry_per_row(client):
    frames = client.get("/api/recording").get_json()
    assert frames["name"] == "my run" and frames["frame_count"] == 8
    assert frames["stamps"][:2] == [frame_name_stamp(0), frame_name_stamp(1)]
    assert frames["steering"][3] == straight_values(8)[3][0] and len(frames["speed"]) == 8
    assert frames["cameras"] == ["left", "center", "right"] and frames["rows_not_shown"] == {}


def test_image_by_index_is_the_recorded_jpeg(client, recording_folder):
    response = client.get("/api/frames/5/center.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data == (recording_folder / "IMG" / f"center_{frame_name_stamp(5)}.jpg").read_bytes()
    assert "max-age" in response.headers["Cache-Control"]
    assert np.asarray(Image.open(io.BytesIO(response.data))).shape == (160, 320, 3)
    assert client.get("/api/frames/8/center.jpg").status_code == 404
    assert client.get("/api/frames/0/rear.jpg").status_code == 404


def test_page_and_its_script_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and b'id="camera-center"' in page.data
    assert client.get("/static/review.js").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def test_save_writes_excluded_csv_and_nothing_else(client, recording_folder):
    before = {path: path.read_bytes() for path in recording_folder.rglob("*") if path.is_file()}
    ranges = [{"first_time": frame_name_stamp(2), "last_time": frame_name_stamp(4), "reason": "verge, left side"}]
    response = client.put("/api/exclusions", json={"ranges": ranges})
    assert response.status_code == 200
    assert response.get_json() == {"ranges": ranges, "problems": []}
    assert (recording_folder / "excluded.csv").read_text() == (
        f'first_time,last_time,reason\n{frame_name_stamp(2)},{frame_name_stamp(4)},"verge, left side"\n')
    assert {path: path.read_bytes() for path in before} == before
    assert client.get("/api/exclusions").get_json()["ranges"] == ranges
    assert client.put("/api/exclusions", json={"ranges": []}).get_json()["ranges"] == []


@pytest.mark.parametrize("body, words", [
    ({"ranges": [{"first_time": "2019_02_20_12_24_27_239", "last_time": "x", "reason": "r"}]}, "range 1: last_time"),
    ({"ranges": [{"first_time": "2019_02_20_12_24_27_239"}]}, "range 1 needs first_time, last_time and reason"),
    ({"something": "else"}, "send {"),
])
def test_a_bad_save_is_refused_with_one_sentence_and_the_file_is_untouched(client, recording_folder, body, words):
    response = client.put("/api/exclusions", json=body)
    assert response.status_code == 400 and words in response.get_json()["error"]
    assert not (recording_folder / "excluded.csv").exists()


def test_malformed_lines_are_reported_and_kept_when_the_page_saves(client, recording_folder):
    (recording_folder / "excluded.csv").write_text(
        f"first_time,last_time,reason\n{frame_name_stamp(1)},{frame_name_stamp(1)},ok\nhalf a line\n")
    exclusions = client.get("/api/exclusions").get_json()
    assert len(exclusions["ranges"]) == 1 and "line 3: has 1 field instead of 3" in exclusions["problems"][0]
    client.put("/api/exclusions", json={"ranges": []})
    assert (recording_folder / "excluded.csv").read_text() == "first_time,last_time,reason\nhalf a line\n"


def test_a_folder_that_is_not_a_recording_is_refused(tmp_path):
    with pytest.raises(RecordingError, match="has no driving_log.csv"):
        load_recording(tmp_path)
    (tmp_path / "driving_log.csv").write_text("nothing,useful\n")
    with pytest.raises(RecordingError, match="has no frame that can be shown"):
        load_recording(tmp_path)
