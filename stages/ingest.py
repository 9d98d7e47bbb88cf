"""ingest: read every recording in params ingest.sources into one canonical table.

Writes data/interim/log.csv (one row per frame, image paths relative to the repo; `steering`
is the label training uses, smoothed over ingest.smooth_steering_s when that is set, and
`steering_raw` the recorded value) and metrics/ingest.json (rows read, kept and dropped by
reason, and each recording's share of exact-zero steering and a guess of its input device).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pilot.data.frames import frame_seconds
from pilot.data.labels import guess_input_device, smooth_steering, steering_profile
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="canonical frame table (CSV)")
    parser.add_argument("--metrics", required=True, help="counts by reason (JSON)")
    args = parser.parse_args()
    params = load_params("ingest")
    sources = params["sources"] or []
    if not sources:
        sys.exit("ingest.sources in params.yaml is empty: list at least one recording folder.")

    frames, summaries = [], {}
    for source in sources:
        try:
            readout = read_recording(source, check_images=params["check_images"])
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

    if not frames:
        sys.exit("ingest: no usable row in any recording: see the reasons above and check the recordings.")
    window_s = params["smooth_steering_s"]
    if window_s is not None and (not isinstance(window_s, (int, float)) or window_s < 0):
        sys.exit(f"ingest.smooth_steering_s is {window_s!r}: use 0 or null (off) or a window in seconds.")
    table = pd.DataFrame(frames, columns=list(CANONICAL_COLUMNS))
    for name, labels in label_report(table).items():
        summaries[name].update(labels)
        print(f"ingest: {name}: {100 * labels['exact_zero_steering_share']:.0f} % exact-zero steering; "
              f"input device: {labels['input_device']} ({labels['input_device_reason']})")
    table["steering_raw"] = table["steering"]
    table["steering"] = smooth_steering(table, window_s)
    change = float(np.mean(np.abs(table["steering"] - table["steering_raw"])))
    if window_s:
        print(f"ingest: steering smoothed over {window_s} s within contiguous runs "
              f"(mean change {change:.4f}); steering_raw keeps the recorded value")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    report = {**totals(summaries), "smooth_steering_s": window_s or 0, "steering_mean_abs_change": change,
              "recordings": summaries}
    write_metrics(args.metrics, report)
    print(f"ingest: wrote {len(frames)} frames to {args.out}")


if __name__ == "__main__":
    main()
