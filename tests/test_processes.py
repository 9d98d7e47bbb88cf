"""Worker pools: how many processes `workers: 0` means."""
from __future__ import annotations

import os

import pytest

from pilot.processes import resolve_workers


def test_zero_workers_means_every_core_this_process_may_use():
    assert resolve_workers(0) == len(os.sched_getaffinity(0))
    assert resolve_workers(3) == 3
    with pytest.raises(ValueError, match="workers"):
        resolve_workers(-1)
