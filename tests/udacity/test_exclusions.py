"""excluded.csv: parsing (a malformed line is reported, the rest apply), formatting, which frames a range covers."""
import pytest

from pilot.udacity.exclusions import (
    ExcludedRange,
    format_exclusions,
    is_excluded,
    is_stamp,
    parse_exclusions,
    read_exclusions,
    stamp_of_frame_time,
    write_exclusions,
)

GOOD = ("first_time,last_time,reason\n"
        "2019_02_20_12_24_27_239,2019_02_20_12_24_28_000,drove onto the verge\n"
        "2019_02_20_12_25_00_000,2019_02_20_12_25_00_000,\"crash, then reversed\"\n")


def test_parses_ranges_after_the_header():
    readout = parse_exclusions(GOOD)
    assert readout.problems == [] and readout.malformed_lines == []
    assert readout.ranges == [
        ExcludedRange("2019_02_20_12_24_27_239", "2019_02_20_12_24_28_000", "drove onto the verge"),
        ExcludedRange("2019_02_20_12_25_00_000", "2019_02_20_12_25_00_000", "crash, then reversed"),
    ]


@pytest.mark.parametrize("bad_line, words", [
    ("2019_02_20_12_24_30_000,2019_02_20_12_24_31_000", "has 2 fields instead of 3"),
    ("2019_02_20_12_24_30_000,2019_02_20_12_24_31_000,a,b", "has 4 fields instead of 3"),
    ("2019-02-20 12:24:30.000,2019_02_20_12_24_31_000,typed by hand", "first_time '2019-02-20 12:24:30.000' is not"),
    ("2019_02_20_12_24_30_000,2019_13_20_12_24_31_000,month 13", "last_time '2019_13_20_12_24_31_000' is not"),
    ("2019_02_20_12_24_31_000,2019_02_20_12_24_30_000,backwards", "is after last_time"),
    ("2019_02_20_12_24_30_000,2019_02_20_12_24_31_000,  ", "the reason is empty"),
])
def test_a_malformed_line_is_reported_with_its_number_and_the_rest_apply(bad_line, words):
    text = GOOD + bad_line + "\n" + "2019_02_20_12_26_00_000,2019_02_20_12_26_01_000,after the bad line\n"
    readout = parse_exclusions(text, source="data/raw/run/excluded.csv")
    assert len(readout.ranges) == 3 and readout.ranges[-1].reason == "after the bad line"
    assert len(readout.problems) == 1
    assert readout.problems[0].startswith("data/raw/run/excluded.csv line 4: ") and words in readout.problems[0]
    assert readout.problems[0].endswith("that line is ignored.")
    assert readout.malformed_lines == [bad_line]


def test_header_is_optional_and_blank_lines_are_skipped():
    readout = parse_exclusions("\n2019_02_20_12_24_27_239,2019_02_20_12_24_27_239,one frame\n\n")
    assert readout.problems == [] and len(readout.ranges) == 1


def test_format_then_parse_gives_the_same_ranges_and_keeps_lines_it_could_not_read():
    ranges = [ExcludedRange("2019_02_20_12_24_27_239", "2019_02_20_12_24_28_000", 'quote " and, comma'),
              ExcludedRange("2019_02_20_12_24_29_000", "2019_02_20_12_24_29_500", "line\nbreak")]
    text = format_exclusions(ranges, kept_lines=("not,a range",))
    assert text.splitlines()[0] == "first_time,last_time,reason"
    readout = parse_exclusions(text)
    assert readout.ranges == [ranges[0], ExcludedRange(ranges[1].first_time, ranges[1].last_time, "line break")]
    assert readout.malformed_lines == ["not,a range"]


def test_ranges_include_both_ends_and_nothing_else():
    times = [f"2019-02-20 12:24:{second:02d}.000" for second in range(10)]
    stamps = [stamp_of_frame_time(time) for time in times]
    ranges = [ExcludedRange(stamps[2], stamps[4], "a"), ExcludedRange(stamps[7], stamps[7], "b")]
    assert [is_excluded(time, ranges) for time in times] == [False, False, True, True, True,
                                                             False, False, True, False, False]
    assert not any(is_excluded(time, []) for time in times)
    assert is_excluded("2019-02-20 12:24:04.000", ranges) and not is_excluded("2019-02-20 12:24:04.001", ranges)


def test_stamps():
    assert stamp_of_frame_time("2019-02-20 12:24:27.239") == "2019_02_20_12_24_27_239"
    assert is_stamp("2019_02_20_12_24_27_239") and not is_stamp("2019_02_30_12_24_27_239")
    with pytest.raises(ValueError):
        stamp_of_frame_time("yesterday")


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    (tmp_path / "excluded.csv").write_text("old contents\n")
    ranges = [ExcludedRange("2019_02_20_12_24_27_239", "2019_02_20_12_24_28_000", "verge")]
    path = write_exclusions(tmp_path, ranges)
    assert path == tmp_path / "excluded.csv" and read_exclusions(tmp_path).ranges == ranges
    assert sorted(p.name for p in tmp_path.iterdir()) == ["excluded.csv"]
    assert path.stat().st_mode & 0o777 == 0o644


def test_no_file_means_no_ranges(tmp_path):
    readout = read_exclusions(tmp_path)
    assert readout.ranges == [] and readout.problems == []
