"""Sharing a pipeline's data through a DVC remote: push from one clone, pull into a fresh one.

A local folder stands in for S3, GCS, Azure or SSH: `dvc push` and `dvc pull` treat every
remote the same, so what this shows (the fresh clone gets every output and has nothing to
recompute) holds for them too. The copies use the project's `.dvc/config` (cache links:
hardlink, else symlink, else copy), so the round trip also shows that workspace outputs are
links into the cache, not second copies.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.stage_runner import PROJECT_ROOT, copy_project, run, set_params

DVC = [sys.executable, "-m", "dvc"]
GIT = ["git", "-c", "user.name=pilot tests", "-c", "user.email=tests@pilot.invalid"]
STAGES = ("simulate", "ingest", "balance", "split", "augment", "train", "evaluate")
SHARED_OUTPUTS = ("data/raw/sim/driving_log.csv", "data/interim/log.csv", "data/split/train.csv",
                  "data/records/manifest.json", "models/model.keras", "plots/evaluate/predictions.csv")


def shrink(root: Path) -> None:
    """Params for a pipeline of seconds: a tenth of a lap, two copies per frame, a two-step epoch."""
    set_params(root, "simulate", laps=0.08, extra_track_seeds=[], hill_track_seeds=[])
    set_params(root, "augment", copies_per_frame=2, shard_size=100, workers=1)
    set_params(root, "train", epochs=1, batch_size=8, steps_per_epoch=2, shuffle_buffer=32)


def assert_linked_from_cache(root: Path) -> None:
    """Every file of data/records is the cache's file (a hardlink here: same file system), read-only."""
    cache = {(p.stat().st_dev, p.stat().st_ino) for p in (root / ".dvc" / "cache").rglob("*") if p.is_file()}
    shards = [p for p in (root / "data" / "records").iterdir() if p.is_file()]
    assert shards and all(p.is_symlink() or (p.stat().st_dev, p.stat().st_ino) in cache for p in shards)
    assert not any(p.stat().st_mode & 0o222 for p in shards)      # no write bit (root may write anyway)


def commit(root: Path, message: str) -> None:
    run(["git", "add", "-A"], root)
    run(GIT + ["commit", "-q", "-m", message], root)


@pytest.mark.slow
def test_push_then_pull_into_a_fresh_clone_leaves_nothing_to_recompute(tmp_path: Path) -> None:
    origin = copy_project(tmp_path / "origin")
    shutil.copy(PROJECT_ROOT / ".dvc" / "config", origin / ".dvc" / "config")
    shrink(origin)
    commit(origin, "the pipeline")                   # DVCLive (train) needs a commit to start
    run(DVC + ["repro", "evaluate"], origin)
    assert_linked_from_cache(origin)
    remote = tmp_path / "remote"
    run(DVC + ["remote", "add", "-d", "shared", str(remote)], origin)
    commit(origin, "dvc.lock, metrics and the shared remote")
    pushed = run(DVC + ["push"], origin)
    assert "pushed" in pushed.stdout and any(remote.rglob("*")), pushed.stdout

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(origin), str(clone)], tmp_path)
    assert not (clone / "models/model.keras").exists()           # git carries code and dvc.lock only
    run(DVC + ["pull", "--with-deps", "evaluate"], clone)           # road_test never ran: nothing to pull

    for output in SHARED_OUTPUTS:
        assert (clone / output).read_bytes() == (origin / output).read_bytes(), output
    assert_linked_from_cache(clone)
    status = run(DVC + ["status", "--with-deps", "evaluate"], clone)
    assert "Data and pipelines are up to date." in status.stdout, status.stdout
    cloud = run(DVC + ["status", "--cloud", "--with-deps", "evaluate"], clone)
    assert "Cache and remote 'shared' are in sync." in cloud.stdout, cloud.stdout
    repro = run(DVC + ["repro", "evaluate"], clone)
    assert "Running stage" not in repro.stdout, repro.stdout
    for stage in STAGES:
        assert f"Stage '{stage}' didn't change, skipping" in repro.stdout, repro.stdout
    assert run(["git", "status", "--porcelain"], clone).stdout == ""       # nothing rewritten either
