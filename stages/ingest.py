"""ingest: read every recording in params ingest.sources into one canonical table.

Writes data/interim/log.csv (one row per frame, image paths relative to the repo; `steering`
is the label training uses, smoothed over ingest.smooth_steering_s when that is set (`auto`:
keyboard recordings over 1 s, others not), and `steering_raw` the recorded value), and the same
table of ingest.test_sources (--test-out: recordings training never sees), and metrics/ingest.json
(rows read, kept and dropped by reason, and each recording's share of exact-zero steering, a guess
of its input device and the smoothing window it got).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.data.frames import frame_seconds
from pilot.data.labels import (
    KEYBOARD_SMOOTHING_S,
    auto_smoothing_s,
    guess_input_device,
    smooth_steering,
    steering_profile,
)
from pilot.stage_io import load_params, write_metrics
from pilot.udacity.log_reader import CANONICAL_COLUMNS, DROP_REASONS, RecordingError, read_recording

LINES_SHOWN_PER_REASON = 5


def totals(summaries: dict[str, dict]) -> dict:
    """Add up the per-recording counts."""
    keys = ("rows_read", "rows_kept", "rows_dropped", "recovered_comma_decimal")
    total = {key: sum(s[key] for s in summaries.values()) for key in keys}
    total["dropped"] = {r: sum(s["dropped"][r] for s in summaries.values()) for r in DROP_REASONS}
    return total


def label_report(table: pd.DataFrame) -> dict[str, dict]:
    """Per recording: the steering profile, its share of exact zeros and the input-device guess with the reason."""
    seconds = frame_seconds(table)
    report = {}
    for name, rows in table.groupby("recording", sort=False).indices.items():
        order = rows[np.argsort(seconds[rows], kind="stable")]
        profile = steering_profile(table["steering"].to_numpy(float)[order], seconds[order])
        device, reason = guess_input_device(profile)
        report[str(name)] = {"exact_zero_steering_share": profile["exact_zero_share"], "input_device": device,
                             "input_device_reason": reason, "steering_profile": profile}
    return report


def read_sources(sources: list, check_images: bool, window_s: float | str | None) -> tuple[pd.DataFrame, dict]:
    """Every recording in `sources` as one canonical table (steering smoothed over window_s, steering_raw kept)
    and its summary per recording; exits with one sentence for a folder that is not a recording. `auto`
    chooses each recording's window from its input device (pilot.data.labels.auto_smoothing_s)."""
    frames, summaries = [], {}
    for source in sources:
        try:
            readout = read_recording(source, check_images=check_images)
        except RecordingError as error:
            sys.exit(f"ingest: {error}")
        if readout.name in summaries:
            sys.exit(f"ingest: two sources are named '{readout.name}': give each recording folder its own name.")
        summaries[readout.name] = readout.summary()
        frames.extend(readout.rows)
        s = summaries[readout.name]
        for problem in readout.exclusion_problems:
            print(f"ingest: {problem}")
        print(f"ingest: {source}: {s['rows_read']} rows read, {s['rows_kept']} kept, {s['rows_dropped']} dropped"
              + (f", {s['recovered_comma_decimal']} recovered from comma decimals"
                 if s["recovered_comma_decimal"] else ""))
        for reason, lines in readout.dropped_lines.items():
            shown = ", ".join(map(str, lines[:LINES_SHOWN_PER_REASON]))
            more = f" and {len(lines) - LINES_SHOWN_PER_REASON} more" if len(lines) > LINES_SHOWN_PER_REASON else ""
            print(f"ingest:   dropped {len(lines)} rows for {reason} (lines {shown}{more})")
    table = pd.DataFrame(frames, columns=list(CANONICAL_COLUMNS))
    windows = {}
    if frames:
        for name, labels in label_report(table).items():
            summaries[name].update(labels)
            windows[name] = auto_smoothing_s(labels["input_device"]) if window_s == "auto" else float(window_s or 0)
            summaries[name]["smooth_steering_s"] = windows[name]
            chosen = (f"; steering smoothed over {windows[name]:g} s" if windows[name] else "; steering as recorded")
            print(f"ingest: {name}: {100 * labels['exact_zero_steering_share']:.0f} % exact-zero steering; "
                  f"input device: {labels['input_device']} ({labels['input_device_reason']})"
                  + (chosen + (" (auto)" if window_s == "auto" else "")))
    table["steering_raw"] = table["steering"]
    table["steering"] = smooth_steering(table, windows) if frames else table["steering"]
    return table, summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="canonical frame table (CSV)")
    parser.add_argument("--test-out", help="the test recordings' frame table (CSV; header only when there are none)")
    parser.add_argument("--metrics", required=True, help="counts by reason (JSON)")
    args = parser.parse_args()
    params = load_params("ingest")
    sources = params["sources"] or []
    if not sources:
        sys.exit("ingest.sources in params.yaml is empty: list at least one recording folder.")
    test_sources = params["test_sources"] or []
    if not isinstance(test_sources, list):
        sys.exit(f"ingest.test_sources is {test_sources!r}: give a list of recording folders (or []).")
    overlap = sorted({str(Path(source).resolve()) for source in sources}
                     & {str(Path(source).resolve()) for source in test_sources})
    if overlap:
        sys.exit(f"ingest: {overlap[0]} is both a source and a test source: a test recording must be one "
                 f"training never sees.")
    window_s = params["smooth_steering_s"]
    if window_s not in (None, "auto") and (isinstance(window_s, bool) or not isinstance(window_s, (int, float))
                                           or window_s < 0):
        sys.exit(f"ingest.smooth_steering_s is {window_s!r}: use auto (keyboard recordings smoothed over "
                 f"{KEYBOARD_SMOOTHING_S:g} s, others not), 0 or null (off), or a window in seconds.")

    table, summaries = read_sources(sources, params["check_images"], window_s)
    if table.empty:
        sys.exit("ingest: no usable row in any recording: see the reasons above and check the recordings.")
    change = float(np.mean(np.abs(table["steering"] - table["steering_raw"])))
    if change > 0:
        print(f"ingest: steering smoothed within contiguous runs (mean change {change:.4f}); "
              f"steering_raw keeps the recorded value")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    test_table, test_summaries = read_sources(test_sources, params["check_images"], window_s)
    if args.test_out:
        test_table.to_csv(args.test_out, index=False)
    report = {**totals(summaries), "smooth_steering_s": window_s or 0, "steering_mean_abs_change": change,
              "recordings": summaries, "test_recordings": test_summaries}
    write_metrics(args.metrics, report)
    print(f"ingest: wrote {len(table)} frames to {args.out}"
          + (f", and {len(test_table)} test frames of {len(test_summaries)} recordings to {args.test_out}"
             if args.test_out else ""))


if __name__ == "__main__":
    main()
