"""Frame tables: the one reader, the seed's histogram balancing and the train/validation split.

Besides `read_frames`, pure functions on arrays and DataFrames: the stage scripts write files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from pilot.udacity.frame_time import frame_milliseconds

SPLIT_STRATEGIES = ("blocked", "random")


def steering_bin_edges(steering: np.ndarray, num_bins: int) -> np.ndarray:
    """The seed's bins: `num_bins` equal bins from the smallest to the largest steering."""
    return np.histogram_bin_edges(np.asarray(steering, dtype=float), bins=num_bins)


def bin_index(steering: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each value's bin, every value in exactly one bin (the last bin includes its right edge)."""
    index = np.searchsorted(edges, np.asarray(steering, dtype=float), side="right") - 1
    return np.clip(index, 0, len(edges) - 2)


def balance_mask(steering: np.ndarray, num_bins: int, samples_per_bin: int, seed: int) -> np.ndarray:
    """The seed's histogram balancing: keep at most `samples_per_bin` random frames per bin.

    The seed's loop tests `bins[j] <= s <= bins[j+1]`, so a value on an edge counts in two
    bins; here every frame belongs to one bin. Returns a boolean keep-mask in row order.
    """
    steering = np.asarray(steering, dtype=float)
    keep = np.ones(len(steering), dtype=bool)
    if len(steering) == 0:
        return keep
    rng = np.random.default_rng(seed)
    bins = bin_index(steering, steering_bin_edges(steering, num_bins))
    for b in range(num_bins):
        members = rng.permutation(np.flatnonzero(bins == b))
        keep[members[samples_per_bin:]] = False
    return keep


def histogram_table(edges: np.ndarray, normalise: bool = False, **columns: np.ndarray) -> pd.DataFrame:
    """One row per bin: its centre and each named series' count (or fraction) in it."""
    table = {"steering": np.round((edges[:-1] + edges[1:]) / 2, 6)}
    for name, values in columns.items():
        counts = np.bincount(bin_index(values, edges), minlength=len(edges) - 1).astype(float)
        if normalise:
            counts = counts / max(counts.sum(), 1.0)
        table[name] = np.round(counts, 6) if normalise else counts.astype(int)
    return pd.DataFrame(table)


def frame_seconds(frames: pd.DataFrame) -> np.ndarray:
    """Seconds since each recording's first frame (from the canonical `time` column, pilot.udacity.frame_time)."""
    milliseconds = pd.Series(frame_milliseconds(frames["time"]), index=frames.index)
    start = milliseconds.groupby(frames["recording"]).transform("min")
    return ((milliseconds - start) / 1000.0).to_numpy()


def block_ids(frames: pd.DataFrame, block_seconds: float) -> pd.Series:
    """Contiguous runs of `block_seconds` of driving, named 'recording/N'."""
    number = np.floor(frame_seconds(frames) / block_seconds).astype(int)
    return frames["recording"].astype(str) + "/" + pd.Series(number, index=frames.index).astype(str)


def validation_mask(frames: pd.DataFrame, strategy: str, val_fraction: float, seed: int,
                    block_seconds: float = 5.0) -> np.ndarray:
    """Which frames go to validation.

    random:  the seed's train_test_split by frame (neighbouring near-duplicate frames leak).
    blocked: whole blocks of `block_seconds` go to one side, drawn at random until the
             validation share reaches `val_fraction`.
    """
    if strategy not in SPLIT_STRATEGIES:
        raise ValueError(f"split strategy '{strategy}' is unknown: use one of {', '.join(SPLIT_STRATEGIES)}.")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}.")
    count = len(frames)
    is_val = np.zeros(count, dtype=bool)
    if strategy == "random":
        _, val_index = train_test_split(np.arange(count), test_size=val_fraction, random_state=seed)
        is_val[val_index] = True
        return is_val
    blocks = block_ids(frames, block_seconds).to_numpy()
    names, sizes = np.unique(blocks, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(names))
    chosen, taken = [], 0
    for position in order:
        if taken >= val_fraction * count:
            break
        chosen.append(names[position])
        taken += sizes[position]
    return np.isin(blocks, chosen)


def leaked_fraction(frames: pd.DataFrame, is_val: np.ndarray, neighbour_seconds: float = 0.25) -> float:
    """Share of validation frames whose neighbour in time (within `neighbour_seconds`) is training.

    Neighbouring frames are near-duplicates, so this is how much validation 'sees' training.
    """
    if not is_val.any():
        return 0.0
    seconds = frame_seconds(frames)
    leaked = 0
    for group in frames.groupby("recording").indices.values():
        order = group[np.argsort(seconds[group], kind="stable")]
        t, val = seconds[order], is_val[order]
        close = np.diff(t) <= neighbour_seconds            # pairs of consecutive frames
        train_before = np.r_[False, close & ~val[:-1]]     # frame i has a train frame just before
        train_after = np.r_[close & ~val[1:], False]       # ... or just after
        leaked += int((val & (train_before | train_after)).sum())
    return leaked / int(is_val.sum())


FRAME_COLUMNS = ("recording", "time", "steering")


def read_frames(path: str | Path, made_by: str, columns: tuple[str, ...] = FRAME_COLUMNS,
                allow_empty: bool = False) -> pd.DataFrame:
    """Read a frame table with at least `columns`; FileNotFoundError/ValueError carry one sentence for the user.
    With `allow_empty`, a table of no frames (its header only) is not an error."""
    try:
        frames = pd.read_csv(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: run `dvc repro {made_by}` first.") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: run `dvc repro {made_by}` again.") from None
    missing = set(columns) - set(frames.columns)
    if missing:
        raise ValueError(f"{path} lacks the columns {', '.join(sorted(missing))}: it is not a frame table.")
    if frames.empty and not allow_empty:
        raise ValueError(f"{path} has no frames: check the recordings that {made_by} read.")
    return frames
