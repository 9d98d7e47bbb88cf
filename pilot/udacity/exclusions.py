"""excluded.csv beside a recording: frame ranges a user marked as not for training.

One line per range: `first_time,last_time,reason`, times as the recording's image-name
stamps (`2019_02_20_12_24_27_239`), both ends included. Pure text in, text out: reading
returns the ranges and one sentence per malformed line, and the other lines still apply.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from pilot.atomic import write_atomic
from pilot.udacity.frame_time import is_stamp, stamp_of_frame_time

EXCLUSIONS_NAME = "excluded.csv"
COLUMNS = ("first_time", "last_time", "reason")


@dataclass(frozen=True)
class ExcludedRange:
    """Frames from first_time to last_time (stamps, both included), left out for `reason`."""

    first_time: str
    last_time: str
    reason: str

    def covers(self, stamp: str) -> bool:
        return self.first_time <= stamp <= self.last_time   # fixed-width digits: text order is time order


@dataclass
class ExclusionsReadout:
    """The ranges read from excluded.csv, one sentence per malformed line, and those lines as written."""

    ranges: list[ExcludedRange]
    problems: list[str]
    malformed_lines: list[str]


def range_problem(first_time: str, last_time: str, reason: str) -> str | None:
    """What is wrong with one range, as a phrase, or None."""
    for column, value in (("first_time", first_time), ("last_time", last_time)):
        if not is_stamp(value):
            return f"{column} '{value}' is not a frame stamp such as 2019_02_20_12_24_27_239"
    if first_time > last_time:
        return f"first_time {first_time} is after last_time {last_time}"
    if not reason.strip():
        return "the reason is empty"
    return None


def parse_exclusions(text: str, source: str = EXCLUSIONS_NAME) -> ExclusionsReadout:
    """Read excluded.csv text; a malformed line is reported with its number and skipped."""
    readout = ExclusionsReadout(ranges=[], problems=[], malformed_lines=[])
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in next(csv.reader([line]))]
        if line_number == 1 and [field.lower() for field in fields] == list(COLUMNS):
            continue
        if len(fields) != len(COLUMNS):
            counted = f"{len(fields)} field" + ("" if len(fields) == 1 else "s")
            problem = f"has {counted} instead of {len(COLUMNS)} ({', '.join(COLUMNS)})"
        else:
            problem = range_problem(*fields)
        if problem is None:
            readout.ranges.append(ExcludedRange(*fields))
        else:
            readout.problems.append(f"{source} line {line_number}: {problem}; that line is ignored.")
            readout.malformed_lines.append(line)
    return readout


def format_exclusions(ranges: list[ExcludedRange], kept_lines: tuple[str, ...] = ()) -> str:
    """excluded.csv text: the header, one line per range, then any lines kept as the user wrote them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for excluded in ranges:
        writer.writerow((excluded.first_time, excluded.last_time, " ".join(excluded.reason.split())))
    return buffer.getvalue() + "".join(f"{line}\n" for line in kept_lines)


def is_excluded(frame_time: str, ranges: list[ExcludedRange]) -> bool:
    """Whether some range covers a frame, given its canonical time ('2019-02-20 12:24:27.239'): ingest's hook."""
    stamp = stamp_of_frame_time(frame_time)
    return any(excluded.covers(stamp) for excluded in ranges)


def read_exclusions(folder: str | Path) -> ExclusionsReadout:
    """The exclusions beside a recording; none when the folder has no excluded.csv."""
    path = Path(folder) / EXCLUSIONS_NAME
    if not path.is_file():
        return ExclusionsReadout(ranges=[], problems=[], malformed_lines=[])
    return parse_exclusions(path.read_text(encoding="utf-8-sig", errors="replace"), source=str(path))


def write_exclusions(folder: str | Path, ranges: list[ExcludedRange], kept_lines: tuple[str, ...] = ()) -> Path:
    """Write excluded.csv beside the recording atomically (pilot.atomic: the old file or the new, never half)."""
    return write_atomic(Path(folder) / EXCLUSIONS_NAME, format_exclusions(ranges, kept_lines))
