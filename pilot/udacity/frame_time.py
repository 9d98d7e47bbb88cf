"""A frame's time, in the two forms the project writes it: one parser and one formatter for each.

- The **stamp** in the simulator's image names: `center_2019_02_20_12_24_27_239.jpg` holds
  `2019_02_20_12_24_27_239` (`yyyy_MM_dd_HH_mm_ss_fff`, local time, milliseconds). The three
  images of one row share it; excluded.csv names frames by it.
- The **frame time** in ingest's `time` column: `2019-02-20 12:24:27.239`, the same instant
  written so that pandas and NumPy read it. Every table after ingest keys frames by it.

Both are fixed-width digits, so text order is time order.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Sequence

import numpy as np

STAMP_FORMAT = "%Y_%m_%d_%H_%M_%S_%f"        # milliseconds, not microseconds: see format_stamp
_STAMP = re.compile(r"^(\d{4})_(\d{2})_(\d{2})_(\d{2})_(\d{2})_(\d{2})_(\d{3})$")
_FRAME_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$")
_IMAGE_NAME = re.compile(r"^(center|left|right)_(\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}_\d{3})\.jpe?g$", re.I)


def format_stamp(time: datetime) -> str:
    """`yyyy_MM_dd_HH_mm_ss_fff`, as in the simulator's image names."""
    return time.strftime("%Y_%m_%d_%H_%M_%S_") + f"{time.microsecond // 1000:03d}"


def format_frame_time(time: datetime) -> str:
    """'2019-02-20 12:24:27.239', ingest's `time` column."""
    return time.strftime("%Y-%m-%d %H:%M:%S.") + f"{time.microsecond // 1000:03d}"


def is_stamp(text: str) -> bool:
    """True for a real time written as `yyyy_MM_dd_HH_mm_ss_fff`."""
    if not _STAMP.match(text):
        return False
    try:
        datetime.strptime(text, STAMP_FORMAT)
    except ValueError:
        return False
    return True


def stamp_of_image_name(file_name: str) -> str | None:
    """'center_2019_02_20_12_24_27_239.jpg' -> '2019_02_20_12_24_27_239'; None for another name."""
    match = _IMAGE_NAME.match(file_name)
    return None if match is None else match.group(2)


def frame_time_of_stamp(stamp: str) -> str:
    """'2019_02_20_12_24_27_239' -> '2019-02-20 12:24:27.239'; ValueError for text that is not a stamp."""
    match = _STAMP.match(stamp)
    if match is None:
        raise ValueError(f"'{stamp}' is not a frame stamp such as 2019_02_20_12_24_27_239")
    year, month, day, hour, minute, second, millis = match.groups()
    return f"{year}-{month}-{day} {hour}:{minute}:{second}.{millis}"


def stamp_of_frame_time(frame_time: str) -> str:
    """'2019-02-20 12:24:27.239' -> '2019_02_20_12_24_27_239'; ValueError for text that is not a frame time."""
    match = _FRAME_TIME.match(frame_time)
    if match is None:
        raise ValueError(f"'{frame_time}' is not a frame time such as 2019-02-20 12:24:27.239")
    return "_".join(match.groups())


def frame_milliseconds(frame_times: Sequence[str]) -> np.ndarray:
    """Frame times -> whole milliseconds since 1970 (int64): the one parser of ingest's `time` column.

    ValueError with one sentence for a time that is not in its format. Differences of these are
    exact; seconds are taken from them (milliseconds / 1000), never from differences of floats.
    """
    texts = [str(text) for text in frame_times]
    bad = next((text for text in texts if not _FRAME_TIME.match(text)), None)
    if bad is not None:
        raise ValueError(f"a frame's time, '{bad}', is not in ingest's format, such as 2019-02-20 12:24:27.239.")
    return np.array(texts, dtype="datetime64[ms]").astype(np.int64)


def seconds_since_first(frame_times: Sequence[str]) -> np.ndarray:
    """Frame times -> seconds since the first of them."""
    milliseconds = frame_milliseconds(frame_times)
    return (milliseconds - milliseconds[0]) / 1000.0 if milliseconds.size else np.zeros(0)
