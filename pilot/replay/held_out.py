"""Which recorded frames the replay drives: every ingest frame inside a held-out (validation) stretch.

The split keeps only balanced frames, so the validation split is a sparse subset of the
recording: balancing dropped many straight-driving frames in between. The rule here: an
ingest frame is held out when, in its recording, the nearest split frame at or before it
and the nearest split frame at or after it are both validation frames. So every run of
ingest frames from a validation block's first kept frame to its last is replayed, adjacent
validation blocks merge into one run, and no frame between a validation frame and a training
frame (which could belong to either block) is replayed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pilot.udacity.frame_time import frame_milliseconds


def held_out_frames(ingest: pd.DataFrame, train: pd.DataFrame, val: pd.DataFrame) -> pd.DataFrame:
    """The ingest rows lying inside validation stretches (see the module's rule), in the table's order."""
    keep = np.zeros(len(ingest), dtype=bool)
    split = pd.concat([train.assign(is_val=False), val.assign(is_val=True)], ignore_index=True)
    ingest_ms = frame_milliseconds(ingest["time"])
    split_ms = frame_milliseconds(split["time"])
    for name, rows in ingest.groupby("recording", sort=False).indices.items():
        in_split = np.flatnonzero(split["recording"].to_numpy() == name)
        if in_split.size == 0:
            continue
        order = in_split[np.argsort(split_ms[in_split], kind="stable")]
        times, is_val = split_ms[order], split["is_val"].to_numpy()[order]
        t = ingest_ms[rows]
        before = np.searchsorted(times, t, side="right") - 1        # last split frame at or before
        after = np.searchsorted(times, t, side="left")              # first split frame at or after
        inside = (before >= 0) & (after < times.size)
        both_val = np.zeros(t.size, dtype=bool)
        both_val[inside] = is_val[before[inside]] & is_val[after[inside]]
        keep[rows] = both_val
    return ingest[keep]
