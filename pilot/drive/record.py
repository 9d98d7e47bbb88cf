"""A drive recording: every frame the drive server answered, as JPEG, plus one CSV row.

Layout of a recording folder (written by `python stages/drive.py --record DIR`):

    DIR/IMG/frame_000001.jpg ...        the simulator's camera frames, bytes as received
    DIR/drive_log.csv                   time_s,image,steering,throttle,speed_mph,latency_ms

time_s counts from the first frame; steering (-1..1) and throttle are the commands the
server sent; latency_ms is the server's time from telemetry in to command out.
A recorder never deletes or overwrites: it refuses a folder that already has files in it,
and creates its files only when the first frame arrives.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

DRIVE_LOG_NAME = "drive_log.csv"
FRAME_DIR_NAME = "IMG"
COLUMNS = ("time_s", "image", "steering", "throttle", "speed_mph", "latency_ms")


class DriveRecordError(Exception):
    """A recording folder that cannot be written, or read back."""


@dataclass(frozen=True)
class DriveLogRow:
    time_s: float
    image: Path                 # absolute path of the frame's JPEG
    steering: float
    throttle: float
    speed_mph: float
    latency_ms: float


class DriveRecorder:
    """Append frames to a new recording folder; call close() (or use `with`) at the end."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
            raise DriveRecordError(
                f"{self.folder} already exists and is not an empty folder: the recorder never "
                f"overwrites, so pass a new folder to --record."
            )
        self._handle: TextIO | None = None      # files appear with the first frame
        self._writer: Any = None
        self._first_time_s: float | None = None
        self.frames = 0

    def _open(self) -> None:
        (self.folder / FRAME_DIR_NAME).mkdir(parents=True, exist_ok=True)
        self._handle = (self.folder / DRIVE_LOG_NAME).open("x", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(COLUMNS)

    def write(self, now_s: float, jpeg_bytes: bytes, steering: float, throttle: float,
              speed_mph: float, latency_ms: float) -> None:
        """Save one frame; now_s is any monotonic clock in seconds."""
        if self._handle is None:
            self._open()
            self._first_time_s = now_s
        self.frames += 1
        name = f"{FRAME_DIR_NAME}/frame_{self.frames:06d}.jpg"
        (self.folder / name).write_bytes(jpeg_bytes)
        self._writer.writerow((
            f"{now_s - self._first_time_s:.4f}", name, f"{steering:.6f}", f"{throttle:.6f}",
            f"{speed_mph:.4f}", f"{latency_ms:.3f}",
        ))

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None and not self._handle.closed:
            self._handle.close()

    def __enter__(self) -> "DriveRecorder":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_drive_log(folder: str | Path) -> list[DriveLogRow]:
    """Read a recording folder's drive_log.csv; DriveRecordError with one sentence if it is not one."""
    folder = Path(folder)
    log_path = folder / DRIVE_LOG_NAME
    if not log_path.is_file():
        raise DriveRecordError(
            f"{folder} is not a drive recording (no {DRIVE_LOG_NAME}): record one with "
            f"`python stages/drive.py --record {folder}`."
        )
    rows: list[DriveLogRow] = []
    with log_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise DriveRecordError(f"{log_path} has columns {reader.fieldnames}, expected {list(COLUMNS)}.")
        for line_number, record in enumerate(reader, start=2):
            try:
                rows.append(DriveLogRow(
                    time_s=float(record["time_s"]), image=folder / record["image"],
                    steering=float(record["steering"]), throttle=float(record["throttle"]),
                    speed_mph=float(record["speed_mph"]), latency_ms=float(record["latency_ms"]),
                ))
            except (TypeError, ValueError) as exc:
                raise DriveRecordError(f"{log_path} line {line_number} is not a valid row ({exc}).") from exc
    return rows
