"""A frame's time: the image-name stamp and ingest's frame time, each parsed and formatted in one place."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from pilot.data.frames import frame_seconds
from pilot.udacity.frame_time import (
    format_frame_time,
    format_stamp,
    frame_milliseconds,
    frame_time_of_stamp,
    is_stamp,
    seconds_since_first,
    stamp_of_frame_time,
    stamp_of_image_name,
)


def test_the_two_forms_convert_both_ways() -> None:
    moment = datetime(2019, 2, 20, 12, 24, 27, 239_999)
    assert format_stamp(moment) == "2019_02_20_12_24_27_239"             # milliseconds, truncated as Unity writes
    assert format_frame_time(moment) == "2019-02-20 12:24:27.239"
    assert frame_time_of_stamp("2019_02_20_12_24_27_239") == "2019-02-20 12:24:27.239"
    assert stamp_of_frame_time("2019-02-20 12:24:27.239") == "2019_02_20_12_24_27_239"
    assert stamp_of_image_name("center_2019_02_20_12_24_27_239.jpg") == "2019_02_20_12_24_27_239"
    assert stamp_of_image_name("frame0001.jpg") is None
    assert is_stamp("2019_02_20_12_24_27_239") and not is_stamp("2019_02_30_12_24_27_239")   # no 30 February
    with pytest.raises(ValueError, match="not a frame stamp"):
        frame_time_of_stamp("2019-02-20")
    with pytest.raises(ValueError, match="not a frame time"):
        stamp_of_frame_time("2019_02_20_12_24_27_239")


def test_seconds_come_from_whole_milliseconds() -> None:
    times = ["2019-02-20 12:24:27.239", "2019-02-20 12:24:27.315", "2019-02-20 12:24:28.023", "2019-02-20 12:25:00.000"]
    assert seconds_since_first(times).tolist() == [0.0, 0.076, 0.784, 32.761]
    assert np.diff(frame_milliseconds(times)).tolist() == [76, 708, 31977]
    with pytest.raises(ValueError, match="is not in ingest's format"):
        frame_milliseconds(["2019-02-20 12:24:27.239", "yesterday"])


def test_frame_seconds_count_from_each_recordings_first_frame() -> None:
    frames = pd.DataFrame({"recording": ["b", "a", "b", "a"],
                           "time": ["2020-01-01 00:00:05.000", "2019-01-01 00:00:00.500",
                                    "2020-01-01 00:00:05.100", "2019-01-01 00:00:01.000"]})
    assert frame_seconds(frames).tolist() == [0.0, 0.0, 0.1, 0.5]
