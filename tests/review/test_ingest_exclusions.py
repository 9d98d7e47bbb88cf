"""ingest honours excluded.csv: rows in a range are dropped as excluded_by_user and counted."""
import json

from pilot.udacity.exclusions import ExcludedRange, write_exclusions
from pilot.udacity.log_reader import DROP_REASONS, read_recording
from tests.recordings import frame_name_stamp, straight_values, write_recording
from tests.stage_runner import copy_project, run_stage, set_params


def test_rows_in_an_excluded_range_are_dropped_with_the_reason(tmp_path):
    folder = tmp_path / "run"
    write_recording(folder, straight_values(12), header=True)
    write_exclusions(folder, [ExcludedRange(frame_name_stamp(3), frame_name_stamp(5), "verge"),
                              ExcludedRange(frame_name_stamp(9), frame_name_stamp(9), "bump")])
    log_before = (folder / "driving_log.csv").read_bytes()

    readout = read_recording(folder, repo_root=tmp_path)

    assert "excluded_by_user" in DROP_REASONS
    assert readout.dropped == {"excluded_by_user": 4}
    assert readout.dropped_lines["excluded_by_user"] == [5, 6, 7, 11]      # the header is line 1
    assert readout.summary()["dropped"]["excluded_by_user"] == 4 and readout.summary()["rows_kept"] == 8
    kept_times = [row["time"] for row in readout.rows]
    assert "2019-02-20 12:24:27.539" not in kept_times and "2019-02-20 12:24:27.839" in kept_times
    assert (folder / "driving_log.csv").read_bytes() == log_before and len(list((folder / "IMG").iterdir())) == 36


def test_review_reads_every_row_and_a_malformed_line_is_reported(tmp_path):
    folder = tmp_path / "run"
    write_recording(folder, straight_values(6))
    (folder / "excluded.csv").write_text(f"first_time,last_time,reason\n{frame_name_stamp(1)},oops,typo\n"
                                         f"{frame_name_stamp(2)},{frame_name_stamp(2)},kept\n")
    honoured = read_recording(folder, check_images=False)
    shown = read_recording(folder, check_images=False, honour_exclusions=False)
    assert honoured.dropped == {"excluded_by_user": 1} and len(shown.rows) == 6
    assert honoured.exclusion_problems == [
        f"{folder / 'excluded.csv'} line 2: last_time 'oops' is not a frame stamp such as 2019_02_20_12_24_27_239; "
        "that line is ignored."]


def test_ingest_stage_counts_excluded_rows_and_prints_the_malformed_line(tmp_path):
    root = copy_project(tmp_path / "project", with_dvc=False)
    folder = root / "data/raw/laps"
    write_recording(folder, straight_values(10))
    (folder / "excluded.csv").write_text(f"first_time,last_time,reason\n"
                                         f"{frame_name_stamp(0)},{frame_name_stamp(1)},start line\n"
                                         f"{frame_name_stamp(4)}\n")
    set_params(root, "ingest", sources=["data/raw/laps"])

    result = run_stage("ingest.py", ["--out", "log.csv", "--metrics", "ingest.json"], root)

    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "excluded.csv line 3: has 1 field instead of 3" in result.stdout
    assert "dropped 2 rows for excluded_by_user (lines 1, 2)" in result.stdout
    metrics = json.loads((root / "ingest.json").read_text())
    assert metrics["dropped"]["excluded_by_user"] == 2 and metrics["rows_kept"] == 8
    assert metrics["recordings"]["laps"]["dropped"]["excluded_by_user"] == 2
