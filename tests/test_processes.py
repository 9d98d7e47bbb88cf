"""Worker pools: how many processes `workers: 0` means, and how work is dealt to workers."""
from __future__ import annotations

import os

import pytest

from pilot.processes import deal_longest_first, resolve_workers


def test_zero_workers_means_every_core_this_process_may_use():
    assert resolve_workers(0) == len(os.sched_getaffinity(0))
    assert resolve_workers(3) == 3
    with pytest.raises(ValueError, match="workers"):
        resolve_workers(-1)


def test_the_longest_work_is_dealt_first_each_to_the_least_loaded_worker():
    # the road test's roads: the Jungle, the Lake, then five 700 m circuits (the training track is index 0)
    costs = [700.0, 700.0, 700.0, 700.0, 700.0, 1134.0, 1510.0]
    dealt = deal_longest_first(costs, 2)
    assert dealt == [[1, 3, 6], [0, 2, 4, 5]]            # each worker's indices in their order
    assert sorted(i for worker in dealt for i in worker) == list(range(len(costs)))
    loads = [sum(costs[i] for i in worker) for worker in dealt]
    assert max(loads) <= 4 / 3 * sum(costs) / 2          # LPT's bound against a perfect split
    # the old way, one worker per speed, is one worker with everything
    assert deal_longest_first(costs, 1) == [list(range(len(costs)))]


def test_dealing_leaves_out_idle_workers_and_refuses_none():
    assert deal_longest_first([3.0], 4) == [[0]]
    assert deal_longest_first([], 2) == []
    with pytest.raises(ValueError, match="at least one worker"):
        deal_longest_first([1.0], 0)
