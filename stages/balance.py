"""balance: the seed's steering histogram balancing (at most N frames per bin, seeded).

Writes the balanced table and the steering histogram before and after (a DVC plot).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pilot.data.frames import balance_mask, histogram_table, read_frames, steering_bin_edges
from pilot.stage_io import load_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log", required=True, help="canonical frame table from ingest")
    parser.add_argument("--out", required=True, help="balanced frame table")
    parser.add_argument("--plot", required=True, help="histogram before/after (CSV)")
    args = parser.parse_args()
    params = load_params("balance")
    try:
        frames = read_frames(args.log, made_by="ingest")
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f"balance: {error}")

    steering = frames["steering"].to_numpy()
    keep = balance_mask(steering, params["num_bins"], params["samples_per_bin"], params["seed"])
    balanced = frames[keep]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    balanced.to_csv(args.out, index=False)

    edges = steering_bin_edges(steering, params["num_bins"])
    Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
    histogram_table(edges, before=steering, after=balanced["steering"].to_numpy()).to_csv(args.plot, index=False)
    print(f"balance: kept {keep.sum()} of {len(frames)} frames "
          f"(at most {params['samples_per_bin']} in each of {params['num_bins']} bins)")


if __name__ == "__main__":
    main()
