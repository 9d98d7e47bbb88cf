"""Read a Udacity simulator recording (driving_log.csv + IMG/) in every real variant.

Real recordings are messy: absolute Windows or
POSIX paths from another machine, spaces in folder names, an optional header row,
", " separators, C# numbers such as 7.843922E-05, comma decimals that add fields,
missing or corrupt images. Every row is either kept in canonical form or dropped
with a named reason; nothing is lost silently.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pilot.udacity.exclusions import is_excluded, read_exclusions
from pilot.udacity.frame_time import frame_time_of_stamp, stamp_of_image_name
from pilot.udacity.images import read_jpeg_rgb
from pilot.udacity.numbers import NonFiniteNumber, NotANumber, parse_csharp_number
from pilot.udacity.simulator import CAMERAS, DRIVING_LOG_NAME, IMAGE_DIR_NAME, IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX

VALUE_NAMES = ("steering", "throttle", "brake", "speed")
VALUE_RANGES = {"steering": (-1.0, 1.0), "throttle": (0.0, 1.0), "brake": (0.0, 1.0), "speed": (0.0, 35.0)}
CANONICAL_COLUMNS = ("recording", "time", *CAMERAS, *VALUE_NAMES)
IMAGE_SUFFIXES = (".jpg", ".jpeg")

# Every reason a row can be dropped for, in the order the checks run.
DROP_REASONS = (
    "wrong_field_count",
    "bad_number",
    "non_finite",
    "out_of_range",
    "ambiguous_comma_decimal",
    "bad_file_name",
    "excluded_by_user",            # a range in excluded.csv beside the recording (python -m pilot.review)
    "missing_image",
    "bad_image",
    "duplicate",
)

_INTEGER_PART = re.compile(r"^[-+]?\d+$")
_FRACTION_PART = re.compile(r"^\d+(?:[eE][-+]?\d+)?$")
# A whole number on a comma-decimal machine: digits, or C#'s one-digit exponent form (7E-05).
_STANDALONE = re.compile(r"^[-+]?(?:\d+|\d[eE][-+]?\d+)$")


class RecordingError(ValueError):
    """A recording that cannot be read at all; the message is one sentence for the user."""


class RowRejected(ValueError):
    """A row that is dropped; `reason` is one of DROP_REASONS."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class RecordingReadout:
    """What reading one recording gave: canonical rows and what was dropped, by reason."""

    name: str
    rows: list[dict] = field(default_factory=list)
    rows_read: int = 0
    recovered_comma_decimal: int = 0
    dropped: Counter = field(default_factory=Counter)
    dropped_lines: dict[str, list[int]] = field(default_factory=dict)
    exclusion_problems: list[str] = field(default_factory=list)

    def drop(self, reason: str, line_number: int) -> None:
        self.dropped[reason] += 1
        self.dropped_lines.setdefault(reason, []).append(line_number)

    def summary(self) -> dict:
        """Counts for metrics/ingest.json (every reason present, zero or not)."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": len(self.rows),
            "rows_dropped": sum(self.dropped.values()),
            "recovered_comma_decimal": self.recovered_comma_decimal,
            "dropped": {reason: self.dropped.get(reason, 0) for reason in DROP_REASONS},
        }


def file_name_of(recorded_path: str) -> str:
    """The file name of a path written on any machine (Windows or POSIX separators)."""
    return re.split(r"[\\/]", recorded_path.strip())[-1]


def frame_time_of(file_name: str) -> str:
    """'center_2019_02_20_12_24_27_239.jpg' -> '2019-02-20 12:24:27.239'; RowRejected for another name."""
    stamp = stamp_of_image_name(file_name)
    if stamp is None:
        raise RowRejected("bad_file_name")
    return frame_time_of_stamp(stamp)


def split_fields(line: str) -> tuple[list[str], list[str]]:
    """Split a log line into its three image paths and the raw number tokens after them.

    A path runs until a token that ends in .jpg, so commas inside folder names are safe.
    Number tokens keep their leading whitespace: with ", " separators a decimal comma
    (no space) can be told from a field separator.
    """
    tokens = line.split(",")
    paths: list[str] = []
    current: list[str] = []
    position = 0
    while len(paths) < len(CAMERAS) and position < len(tokens):
        current.append(tokens[position])
        position += 1
        if tokens[position - 1].strip().lower().endswith(IMAGE_SUFFIXES):
            paths.append(",".join(current).strip())
            current = []
    if len(paths) < len(CAMERAS):
        raise RowRejected("wrong_field_count")
    return paths, tokens[position:]


def _row_number(token: str) -> float:
    """A C# number of a row; RowRejected with the drop reason if it is not a finite number."""
    try:
        return parse_csharp_number(token)
    except NonFiniteNumber:
        raise RowRejected("non_finite") from None
    except NotANumber:
        raise RowRejected("bad_number") from None


def check_ranges(values: tuple[float, ...]) -> None:
    for name, value in zip(VALUE_NAMES, values):
        low, high = VALUE_RANGES[name]
        if not low <= value <= high:
            raise RowRejected("out_of_range")


def _comma_decimal_readings(tokens: list[str]) -> list[tuple[float, ...]]:
    """Every way to read the tokens as four numbers where some are 'int,fraction' pairs."""
    readings: list[tuple[float, ...]] = []

    def extend(position: int, taken: list[float]) -> None:
        if len(taken) == len(VALUE_NAMES):
            if position == len(tokens):
                readings.append(tuple(taken))
            return
        if position >= len(tokens):
            return
        single = tokens[position].strip()
        if _STANDALONE.match(single):
            extend(position + 1, [*taken, float(single)])
        if position + 1 < len(tokens):
            whole, fraction = tokens[position].strip(), tokens[position + 1]
            if _INTEGER_PART.match(whole) and _FRACTION_PART.match(fraction):
                extend(position + 2, [*taken, _row_number(f"{whole}.{fraction}")])

    extend(0, [])
    return readings


def parse_values(tokens: list[str]) -> tuple[tuple[float, ...], bool]:
    """Parse steering, throttle, brake, speed; returns (values, recovered_from_comma_decimal).

    Four tokens: read as they are. More: a comma-decimal row, kept only when exactly one
    reading fits the value ranges.
    """
    if len(tokens) == len(VALUE_NAMES):
        values = tuple(_row_number(token) for token in tokens)
        check_ranges(values)
        return values, False
    if len(tokens) < len(VALUE_NAMES) or len(tokens) > 2 * len(VALUE_NAMES):
        raise RowRejected("wrong_field_count")
    fitting = []
    for reading in _comma_decimal_readings(tokens):
        try:
            check_ranges(reading)
        except RowRejected:
            continue
        fitting.append(reading)
    if len(set(fitting)) != 1:
        raise RowRejected("ambiguous_comma_decimal")
    return fitting[0], True


def is_header(line: str) -> bool:
    return line.split(",")[0].strip().lower() == "center"


def image_problem(path: Path) -> str | None:
    """None if `path` is a decodable 320x160 JPEG, else the drop reason."""
    try:
        with path.open("rb") as handle:
            if handle.read(2) != b"\xff\xd8":
                return "bad_image"
        image = read_jpeg_rgb(str(path))
    except OSError:
        return "missing_image"
    except ValueError:
        return "bad_image"
    if image.shape[:2] != (IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX):
        return "bad_image"
    return None


def _read_lines(log_path: Path) -> list[str]:
    raw = log_path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Windows user names in the paths
    return text.splitlines()


def read_recording(folder: str | Path, repo_root: str | Path = ".", check_images: bool = True,
                   workers: int = 4, honour_exclusions: bool = True) -> RecordingReadout:
    """Read one recording folder into canonical rows (image paths relative to repo_root).

    Rows in a range of the folder's excluded.csv are dropped as excluded_by_user unless
    honour_exclusions is False (the review page shows them). Raises RecordingError (one
    sentence) if the folder or its driving_log.csv is missing.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RecordingError(f"recording folder {folder} does not exist: check ingest.sources in params.yaml.")
    log_path = folder / DRIVING_LOG_NAME
    if not log_path.is_file():
        raise RecordingError(f"{folder} has no {DRIVING_LOG_NAME}: a recording is a folder with {DRIVING_LOG_NAME} "
                             f"and {IMAGE_DIR_NAME}/.")
    image_dir = folder / IMAGE_DIR_NAME
    readout = RecordingReadout(name=folder.resolve().name)
    exclusions = read_exclusions(folder)
    excluded_ranges = exclusions.ranges if honour_exclusions else []
    readout.exclusion_problems = exclusions.problems

    parsed: list[tuple[int, dict, list[Path]]] = []
    for line_number, line in enumerate(_read_lines(log_path), start=1):
        if not line.strip() or (line_number == 1 and is_header(line)):
            continue
        readout.rows_read += 1
        try:
            paths, tokens = split_fields(line)
            values, recovered = parse_values(tokens)
            names = [file_name_of(path) for path in paths]
            time = frame_time_of(names[0])
            if is_excluded(time, excluded_ranges):
                raise RowRejected("excluded_by_user")
        except RowRejected as rejected:
            readout.drop(rejected.reason, line_number)
            continue
        readout.recovered_comma_decimal += recovered
        row = {"recording": readout.name, "time": time}
        row.update(dict(zip(VALUE_NAMES, values)))
        parsed.append((line_number, row, [image_dir / name for name in names]))

    listing = _ImageListing(image_dir)
    problems = _image_problems({p for _, _, images in parsed for p in images}, check_images, workers, listing)
    image_paths = _RelativeImagePaths(image_dir, Path(repo_root).resolve(), listing)
    seen: set[tuple] = set()
    for line_number, row, images in parsed:
        reasons = [problems[image] for image in images if problems[image] is not None]
        if reasons:
            readout.drop("missing_image" if "missing_image" in reasons else "bad_image", line_number)
            continue
        for camera, image in zip(CAMERAS, images):
            row[camera] = image_paths.of(image)
        key = tuple(row[column] for column in CANONICAL_COLUMNS)
        if key in seen:
            readout.drop("duplicate", line_number)
            continue
        seen.add(key)
        readout.rows.append({column: row[column] for column in CANONICAL_COLUMNS})
    return readout


class _ImageListing:
    """IMG/ listed once: is_file and is_symlink without a system call per image.

    A name the listing lacks (a case-insensitive file system, say) is asked of the file system.
    """

    def __init__(self, image_dir: Path) -> None:
        try:
            with os.scandir(image_dir) as entries:
                self.entries = {entry.name: entry for entry in entries}
        except OSError:
            self.entries = {}

    def is_file(self, image: Path) -> bool:
        entry = self.entries.get(image.name)
        return entry.is_file() if entry is not None else image.is_file()

    def is_symlink(self, image: Path) -> bool:
        entry = self.entries.get(image.name)
        return entry.is_symlink() if entry is not None else image.is_symlink()


class _RelativeImagePaths:
    """Resolved image paths relative to the repo root, resolving the IMG folder once.

    Same text as relpath(image.resolve(), root) for every image, without a realpath and a
    relpath per image.
    """

    def __init__(self, image_dir: Path, root: Path, listing: _ImageListing) -> None:
        self.root = root
        self.listing = listing
        folder = Path(os.path.relpath(image_dir.resolve(), root)).as_posix()
        self.prefix = "" if folder == "." else f"{folder}/"

    def of(self, image: Path) -> str:
        if self.listing.is_symlink(image):
            return Path(os.path.relpath(image.resolve(), self.root)).as_posix()
        return self.prefix + image.name


def _image_problems(images: set[Path], check_images: bool, workers: int,
                    listing: _ImageListing) -> dict[Path, str | None]:
    if not check_images:
        return {image: None if listing.is_file(image) else "missing_image" for image in images}
    ordered = sorted(images)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # PIL decodes without the GIL
        return dict(zip(ordered, pool.map(image_problem, ordered)))
