"""Worker processes for the stages that split their work over cores (augment's examples, simulate's frames).

`workers: 0` in params.yaml means every core this process may run on. Workers are spawned, not
forked, so they start clean: no threads, TensorFlow state or OpenCV pools inherited. A spawned
worker re-imports the caller's __main__ module: a stage script that starts workers keeps its
TensorFlow imports inside main() so workers stay light. Each worker runs OpenCV single-threaded
(parallelism comes from the processes) and ignores Ctrl+C (it reaches the whole process group:
the parent stops the pool, workers print nothing).
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
import signal


def resolve_workers(workers: int) -> int:
    """0 means every core this process may run on."""
    if workers < 0:
        raise ValueError(f"workers must be 0 (all cores) or more, got {workers}")
    if workers:
        return workers
    if hasattr(os, "sched_getaffinity"):          # honours taskset/cgroup CPU sets (Linux)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _start_worker() -> None:
    import cv2

    cv2.setNumThreads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def worker_pool(workers: int) -> multiprocessing.pool.Pool:
    """A pool of `workers` spawned processes, each single-threaded in OpenCV and deaf to Ctrl+C."""
    return multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker)
