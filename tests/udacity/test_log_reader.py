"""ingest's reader: every variant real recordings come in (paths, separators, numbers), on recordings the
tests write."""
import os
from pathlib import Path

import pytest

from pilot.udacity.log_reader import (
    DROP_REASONS,
    RecordingError,
    RowRejected,
    file_name_of,
    frame_time_of,
    parse_values,
    read_recording,
    split_fields,
)
from pilot.udacity.numbers import format_csharp_float
from tests.drive_support import camera_jpeg
from tests.recordings import straight_values, write_recording


@pytest.mark.parametrize("path_style", ["windows", "posix", "relative"])
@pytest.mark.parametrize("separator", [",", ", "])
@pytest.mark.parametrize("header", [False, True])
def test_every_path_style_separator_and_header_is_read(tmp_path, path_style, separator, header):
    values = straight_values(4)
    write_recording(tmp_path / "rec", values, path_style=path_style, separator=separator, header=header)
    readout = read_recording(tmp_path / "rec", repo_root=tmp_path)
    assert readout.rows_read == 4 and len(readout.rows) == 4
    assert [row["steering"] for row in readout.rows] == [v[0] for v in values]
    assert readout.rows[0]["center"] == "rec/IMG/center_2019_02_20_12_24_27_239.jpg"
    assert readout.rows[0]["right"] == "rec/IMG/right_2019_02_20_12_24_27_239.jpg"
    assert readout.rows[1]["time"] == "2019-02-20 12:24:27.339"


def test_windows_path_with_spaces_and_comma_in_folder_name():
    paths, tokens = split_fields(r"C:\Users\a b\Desk, top\IMG\center_x.jpg,C:\a\IMG\left_x.jpg,"
                                 r"C:\a\IMG\right_x.jpg,0,0,0,1.5")
    assert paths[0] == r"C:\Users\a b\Desk, top\IMG\center_x.jpg"
    assert file_name_of(paths[0]) == "center_x.jpg"
    assert tokens == ["0", "0", "0", "1.5"]


def test_csharp_numbers_with_exponent():
    values, recovered = parse_values(["7.843922E-05", "0", "0", "22.14829"])
    assert values == (7.843922e-05, 0.0, 0.0, 22.14829) and not recovered
    assert format_csharp_float(7.843922e-05) == "7.843922E-05"


def test_comma_decimal_row_recovered_when_one_reading_fits():
    # steering -0,2 ; throttle 0,5 ; brake 0 ; speed 22,14829
    values, recovered = parse_values(["-0", "2", "0", "5", "0", "22", "14829"])
    assert values == (-0.2, 0.5, 0.0, 22.14829) and recovered


def test_comma_decimal_with_exponent():
    values, _ = parse_values(["7", "843922E-05", "0", "0", "22", "14829"])
    assert values == (7.843922e-05, 0.0, 0.0, 22.14829)


def test_comma_decimal_row_dropped_when_ambiguous():
    # "0,1,0,5,0" could be 0.1|0.5|0 or 0|1|0.5 ... more than one reading fits the ranges
    with pytest.raises(RowRejected) as rejected:
        parse_values(["0", "1", "0", "5", "0"])
    assert rejected.value.reason == "ambiguous_comma_decimal"


def test_frame_time_from_file_name():
    assert frame_time_of("left_2019_02_20_12_24_27_239.jpg") == "2019-02-20 12:24:27.239"
    with pytest.raises(RowRejected):
        frame_time_of("frame0001.jpg")


def _log_line(folder: Path, index: int, numbers: str) -> str:
    stamp = f"2019_02_20_12_24_{27 + index:02d}_000"
    return ",".join(f"{folder}\\IMG\\{camera}_{stamp}.jpg" for camera in ("center", "left", "right")) + "," + numbers


def test_every_bad_row_is_dropped_with_its_reason(tmp_path):
    folder = tmp_path / "messy"
    write_recording(folder, straight_values(12))
    good = (folder / "driving_log.csv").read_text().splitlines()
    (folder / "IMG" / "center_2019_02_20_12_24_27_539.jpg").unlink()                 # row 4: missing
    (folder / "IMG" / "left_2019_02_20_12_24_27_639.jpg").write_bytes(camera_jpeg(1)[:300])  # row 5: truncated
    (folder / "IMG" / "right_2019_02_20_12_24_27_739.jpg").write_bytes(b"not a jpeg")     # row 6: not a JPEG
    lines = good + [
        good[0],                                              # exact duplicate
        good[1].rsplit(",", 4)[0] + ",0,0,0",                 # too few fields
        good[2].rsplit(",", 4)[0] + ",abc,0,0,1",             # not a number
        good[3].rsplit(",", 4)[0] + ",NaN,0,0,1",             # non-finite
        good[7].rsplit(",", 4)[0] + ",1.5,0,0,1",             # steering out of range
        good[8].rsplit(",", 4)[0] + ",0,1,0,5,0",             # ambiguous comma decimal
        r"C:\x\IMG\frame1.jpg,C:\x\IMG\frame2.jpg,C:\x\IMG\frame3.jpg,0,0,0,1",  # bad file name
        "garbage",
    ]
    (folder / "driving_log.csv").write_text("\n".join(lines) + "\n")
    readout = read_recording(folder, repo_root=tmp_path)
    assert readout.rows_read == 20
    assert len(readout.rows) == 9
    assert dict(readout.dropped) == {"missing_image": 1, "bad_image": 2, "duplicate": 1, "wrong_field_count": 2,
                                     "bad_number": 1, "non_finite": 1, "out_of_range": 1,
                                     "ambiguous_comma_decimal": 1, "bad_file_name": 1}
    assert readout.dropped_lines["missing_image"] == [4]
    assert readout.dropped_lines["bad_image"] == [5, 6]
    assert readout.dropped_lines["duplicate"] == [13]
    summary = readout.summary()
    assert summary["rows_read"] == summary["rows_kept"] + summary["rows_dropped"]
    assert set(summary["dropped"]) == set(DROP_REASONS)


def test_comma_decimal_recording_is_recovered(tmp_path):
    folder = tmp_path / "de"
    write_recording(folder, [(0.0, 0.0, 0.0, 0.0)] * 2)
    lines = (folder / "driving_log.csv").read_text().splitlines()
    rewritten = [lines[0].rsplit(",", 4)[0] + ",-0,25,0,8,0,12,54321",
                 lines[1].rsplit(",", 4)[0] + ",0,0,0,7,843922E-05"]
    (folder / "driving_log.csv").write_text("\n".join(rewritten) + "\n")
    readout = read_recording(folder, repo_root=tmp_path)
    assert [(r["steering"], r["throttle"], r["brake"], r["speed"]) for r in readout.rows] == [
        (-0.25, 0.8, 0.0, 12.54321), (0.0, 0.0, 0.0, 7.843922e-05)]
    assert readout.recovered_comma_decimal == 2


def test_wrongly_sized_image_is_dropped(tmp_path):
    folder = tmp_path / "small"
    write_recording(folder, straight_values(2))
    (folder / "IMG" / "center_2019_02_20_12_24_27_239.jpg").write_bytes(camera_jpeg(0, size=(64, 32)))
    readout = read_recording(folder, repo_root=tmp_path)
    assert len(readout.rows) == 1 and readout.dropped["bad_image"] == 1


def test_missing_folder_or_log_is_one_sentence(tmp_path):
    with pytest.raises(RecordingError, match="does not exist"):
        read_recording(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecordingError, match="has no driving_log.csv"):
        read_recording(tmp_path / "empty")


def test_image_paths_are_resolved_relative_to_the_repo_root_through_links(tmp_path):
    real = tmp_path / "disk" / "run"
    write_recording(real, straight_values(3), path_style="posix")
    names = sorted(image.name for image in (real / "IMG").iterdir())
    (tmp_path / "repo" / "data").mkdir(parents=True)
    linked = tmp_path / "repo" / "data" / "run"
    linked.symlink_to(real)                                     # a linked recording folder
    first = sorted((real / "IMG").glob("center_*"))[0]
    elsewhere = tmp_path / "elsewhere.jpg"
    first.rename(elsewhere)
    first.symlink_to(elsewhere)                                 # and one linked image

    readout = read_recording(linked, repo_root=tmp_path / "repo", check_images=False)

    shown = sorted(row[camera] for row in readout.rows for camera in ("center", "left", "right"))
    expected = sorted(Path(os.path.relpath((linked / "IMG" / name).resolve(), tmp_path / "repo")).as_posix()
                      for name in names)
    assert shown == expected
    assert readout.rows[0]["center"] == "../elsewhere.jpg"
    assert readout.rows[1]["left"].startswith("../disk/run/IMG/left_")
