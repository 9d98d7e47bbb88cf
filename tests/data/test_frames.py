"""balance and split as pure functions."""
import numpy as np
import pandas as pd
import pytest

from pilot.data.frames import (
    balance_mask,
    bin_index,
    histogram_table,
    leaked_fraction,
    steering_bin_edges,
    validation_mask,
)


def frames_table(count: int, recordings: int = 1, step_s: float = 0.1, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per = count // recordings
    rows = []
    for r in range(recordings):
        start = pd.Timestamp("2026-11-21 12:00:00") + pd.Timedelta(hours=r)
        for i in range(per):
            time = (start + pd.Timedelta(seconds=i * step_s)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            rows.append({"recording": f"rec{r}", "time": time, "steering": float(rng.normal(0, 0.2))})
    return pd.DataFrame(rows)


def test_every_value_falls_in_exactly_one_bin():
    steering = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    edges = steering_bin_edges(steering, 4)
    assert list(bin_index(steering, edges)) == [0, 1, 2, 3, 3]


def test_balance_caps_each_bin_and_keeps_small_bins():
    steering = np.r_[np.zeros(1000), np.linspace(-1, 1, 50)]
    keep = balance_mask(steering, num_bins=25, samples_per_bin=40, seed=6)
    counts = np.bincount(bin_index(steering[keep], steering_bin_edges(steering, 25)), minlength=25)
    assert counts.max() == 40
    assert keep[1000:].sum() >= 48          # the rare non-zero angles survive (centre bin is capped)
    assert keep.sum() < 150


def test_balance_is_seeded():
    steering = np.random.default_rng(1).normal(0, 0.1, 3000)
    a = balance_mask(steering, 25, 100, seed=6)
    assert np.array_equal(a, balance_mask(steering, 25, 100, seed=6))
    assert not np.array_equal(a, balance_mask(steering, 25, 100, seed=7))


def test_histogram_table_counts_and_fractions():
    edges = np.linspace(-1, 1, 5)
    table = histogram_table(edges, before=np.array([-0.9, -0.1, 0.1, 0.2]), after=np.array([0.2]))
    assert list(table["before"]) == [1, 1, 2, 0] and list(table["after"]) == [0, 0, 1, 0]
    assert list(table["steering"]) == [-0.75, -0.25, 0.25, 0.75]
    fractions = histogram_table(edges, normalise=True, x=np.array([0.1, 0.2, 0.9, -0.9]))
    assert fractions["x"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("strategy", ["blocked", "random"])
def test_split_has_the_requested_share_and_is_seeded(strategy):
    frames = frames_table(1000, recordings=2)
    is_val = validation_mask(frames, strategy, 0.2, seed=6, block_seconds=5.0)
    assert 0.18 <= is_val.mean() <= 0.26
    assert np.array_equal(is_val, validation_mask(frames, strategy, 0.2, seed=6, block_seconds=5.0))


def test_blocked_split_keeps_runs_whole_and_leaks_far_less_than_random():
    frames = frames_table(2000, recordings=2)
    blocked = validation_mask(frames, "blocked", 0.2, seed=6, block_seconds=5.0)
    random = validation_mask(frames, "random", 0.2, seed=6)
    # blocks of 5 s at 10 frames/s: every validation run is 50 frames long
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, blocked.astype(int), 0])))[::2]
    assert set(runs) <= {50, 100, 150, 200, 250}
    assert leaked_fraction(frames, blocked) < 0.1
    assert leaked_fraction(frames, random) > 0.7


def test_unknown_strategy_is_one_sentence():
    with pytest.raises(ValueError, match="unknown"):
        validation_mask(frames_table(10), "by_magic", 0.2, seed=1)
