"""The expert's recording session: what worker processes draw is what one process draws."""
from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from pilot.sim.session import SessionSettings, record_session
from pilot.udacity.log_writer import RecordingWriter

FLAT_AND_HILLY = SessionSettings(track_seeds=(7,), laps_per_track=0.04, hill_track_seeds=(41,),
                                 hill_track_params={"max_grade": 0.2, "max_curvature_per_m": 0.1,
                                                    "corner_radius_m": 10.0, "width_m": 9.5},
                                 hill_track_look="jungle")


def recorded(folder: Path, workers: int) -> tuple[str, dict, list[str]]:
    """(digest of every file's name and bytes, the summary, the sample frames' digests)."""
    with RecordingWriter(folder, datetime(2026, 11, 21, 12), "windows") as writer:
        summary, samples = record_session(writer, FLAT_AND_HILLY, seed=42, workers=workers)
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    frames = [hashlib.sha256(b"".join(jpegs.values())).hexdigest() for _, jpegs in samples.rows()]
    return digest.hexdigest(), summary, frames


def test_two_worker_processes_record_the_same_bytes_as_one(tmp_path: Path) -> None:
    alone, shared = recorded(tmp_path / "one", 1), recorded(tmp_path / "two", 2)
    assert alone == shared
    assert [track["track_seed"] for track in alone[1]["tracks"]] == [7, 41] and alone[1]["frames"] > 40
    assert len(alone[2]) == 4                                       # straight, bend, dark, bright
