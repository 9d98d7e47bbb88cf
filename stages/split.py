"""split: train/validation frames, by contiguous blocks (default) or at random (the seed's).

Side cameras are expanded later (augment), so a frame and its side views stay on one side.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from pilot.data.frames import histogram_table, leaked_fraction, read_frames, validation_mask
from pilot.stage_io import load_params, write_metrics

HISTOGRAM_EDGES = np.linspace(-1.0, 1.0, 26)   # 25 bins over the whole steering range


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log", required=True, help="balanced frame table")
    parser.add_argument("--out-dir", required=True, help="folder for train.csv and val.csv")
    parser.add_argument("--plot", required=True, help="train vs validation histogram (CSV)")
    parser.add_argument("--metrics", required=True, help="split sizes and leakage (JSON)")
    args = parser.parse_args()
    params = load_params("split")
    try:
        frames = read_frames(args.log, made_by="balance")
        is_val = validation_mask(frames, params["strategy"], params["val_fraction"], params["seed"],
                                 block_seconds=params["block_seconds"])
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f"split: {error}")
    if is_val.all() or not is_val.any():
        sys.exit(f"split: {len(frames)} frames are too few to split: record more driving.")

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train, val = frames[~is_val], frames[is_val]
    train.to_csv(out_dir / "train.csv", index=False)
    val.to_csv(out_dir / "val.csv", index=False)

    Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
    histogram_table(HISTOGRAM_EDGES, normalise=True, train=train["steering"].to_numpy(),
                    val=val["steering"].to_numpy()).to_csv(args.plot, index=False)
    leak = leaked_fraction(frames, is_val)
    metrics = {"strategy": params["strategy"], "train_frames": len(train), "val_frames": len(val),
               "val_fraction": round(len(val) / len(frames), 4),
               "val_frames_next_to_train": round(leak, 4)}
    write_metrics(args.metrics, metrics)
    print(f"split ({params['strategy']}): {len(train)} train, {len(val)} validation frames; "
          f"{leak:.0%} of validation frames sit next to a training frame")


if __name__ == "__main__":
    main()
