"""The recording format, byte for byte, and the project's own ingest reading it back."""
from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from pilot.sim.session import SessionSettings, record_session
from pilot.udacity.log_reader import read_recording
from pilot.udacity.log_writer import RecordingWriter
from pilot.udacity.numbers import format_csharp_float

START = datetime(2026, 11, 21, 12, 0, 0)


@pytest.mark.parametrize("value, text", [
    (0.0, "0"), (-0.0, "0"), (-0.2, "-0.2"), (1.0, "1"), (22.14829, "22.14829"), (0.0008078032, "0.0008078032"),
    (7.843922e-05, "7.843922E-05"), (30.190001, "30.19"), (1e7, "1E+07"), (-0.123456789, "-0.1234568"),
])
def test_numbers_are_written_as_csharp_writes_floats(value: float, text: str) -> None:
    assert format_csharp_float(value) == text
    assert format_csharp_float(value, decimal_comma=True) == text.replace(".", ",")


def test_rows_paths_and_file_names_are_the_simulators(tmp_path: Path) -> None:
    jpegs = {"center": b"c", "left": b"l", "right": b"r"}
    with RecordingWriter(tmp_path / "rec", START) as writer:
        writer.write(0.0, jpegs, -0.2, 1.0, 0.0, 7.843922e-05)
        writer.write(0.1, jpegs, 0.05, 0.25, 0.0, 12.5)
    lines = (tmp_path / "rec" / "driving_log.csv").read_text().split("\n")
    assert lines[0] == (r"C:\Users\sim\Desktop\sim run\IMG\center_2026_11_21_12_00_00_000.jpg,"
                        r"C:\Users\sim\Desktop\sim run\IMG\left_2026_11_21_12_00_00_000.jpg,"
                        r"C:\Users\sim\Desktop\sim run\IMG\right_2026_11_21_12_00_00_000.jpg,-0.2,1,0,7.843922E-05")
    assert lines[1].endswith("right_2026_11_21_12_00_00_100.jpg,0.05,0.25,0,12.5") and lines[2] == ""
    assert (tmp_path / "rec" / "IMG" / "left_2026_11_21_12_00_00_100.jpg").read_bytes() == b"l"
    with RecordingWriter(tmp_path / "posix", START, path_style="relative") as writer:
        assert writer.image_path_text("a.jpg") == "IMG/a.jpg"
    with pytest.raises(ValueError, match="path_style"):
        RecordingWriter(tmp_path / "bad", START, path_style="mac")


def fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


SMALL = SessionSettings(track_seeds=(5, 6), laps_per_track=0.06,
                        track_params={"length_m": 320.0, "max_curvature_per_m": 0.05})


def test_a_recorded_session_is_read_back_by_ingest_with_zero_drops(tmp_path: Path) -> None:
    folders = []
    for name, comma in (("first", False), ("again", False), ("comma", True)):
        with RecordingWriter(tmp_path / name, START, decimal_comma=comma) as writer:
            summary, samples = record_session(writer, SMALL, seed=42)
        folders.append(tmp_path / name)
    assert fingerprint(folders[0]) == fingerprint(folders[1])        # same params, same bytes
    assert (summary["interventions"] == 0
            and [row[0] for row in samples.rows()] == ["straight", "bend", "dark", "bright"])
    for folder in (folders[0], folders[2]):
        readout = read_recording(folder, repo_root=tmp_path, check_images=True)
        assert readout.rows_read == summary["frames"] > 20
        assert len(readout.rows) == summary["frames"] and sum(readout.dropped.values()) == 0
    rows = read_recording(folders[0], repo_root=tmp_path).rows
    times = [row["time"] for row in rows]
    assert times[0] == "2026-11-21 12:00:00.000" and times[1] == "2026-11-21 12:00:00.100"
    assert all(-1 <= row["steering"] <= 1 and 0 <= row["speed"] <= 30 for row in rows)
    assert rows[0]["center"] == "first/IMG/center_2026_11_21_12_00_00_000.jpg"
