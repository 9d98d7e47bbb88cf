"""ingest: read every recording in params ingest.sources into one canonical table.

Writes data/interim/log.csv (one row per frame, image paths relative to the repo) and
metrics/ingest.json (rows read, kept and dropped by reason, per recording).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from pilot.stage_io import load_params, write_metrics
from pilot.udacity.log_reader import CANONICAL_COLUMNS, DROP_REASONS, RecordingError, read_recording

LINES_SHOWN_PER_REASON = 5


def totals(summaries: dict[str, dict]) -> dict:
    """Add up the per-recording counts."""
    keys = ("rows_read", "rows_kept", "rows_dropped", "recovered_comma_decimal")
    total = {key: sum(s[key] for s in summaries.values()) for key in keys}
    total["dropped"] = {r: sum(s["dropped"][r] for s in summaries.values()) for r in DROP_REASONS}
    return total


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
              + (f", {s['recovered_comma_decimal']} recovered from comma decimals" if s["recovered_comma_decimal"] else ""))
        for reason, lines in readout.dropped_lines.items():
            shown = ", ".join(map(str, lines[:LINES_SHOWN_PER_REASON]))
            more = f" and {len(lines) - LINES_SHOWN_PER_REASON} more" if len(lines) > LINES_SHOWN_PER_REASON else ""
            print(f"ingest:   dropped {len(lines)} rows for {reason} (lines {shown}{more})")

    if not frames:
        sys.exit("ingest: no usable row in any recording: see the reasons above and check the recordings.")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(frames, columns=list(CANONICAL_COLUMNS)).to_csv(args.out, index=False)
    report = {**totals(summaries), "recordings": summaries}
    write_metrics(args.metrics, report)
    print(f"ingest: wrote {len(frames)} frames to {args.out}")


if __name__ == "__main__":
    main()
