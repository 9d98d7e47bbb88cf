"""Does the pipeline's cost grow linearly with the data? ingest, augment and one train epoch at 1x and Nx.

The same recording is fed once (1x) and N times (Nx, default 4: copies of the folder under
different names, each an ingest source), each scale in its own temporary copy of the project,
through the stages' own command lines from dvc.yaml: ingest, balance, split, augment, train
(one epoch over every training example). Balancing is switched off for both scales
(`balance.samples_per_bin` set above any bin's count): the seed's cap of 400 frames per bin
would otherwise keep the Nx run from having N times the examples, which is not what is measured.

Prints, per stage, the wall-clock seconds (Python and TensorFlow start-up included, a few
seconds each), the seconds of the work itself where the stage reports them (augment: making
and writing the examples; train: the fit, validation included) and the MB of what it writes,
at 1x and Nx, and their ratios: linear is ~N.

The recording: --source (a folder with driving_log.csv and IMG/), else the project's
data/raw/sim (`dvc repro simulate` or `dvc pull` first), else --simulate-laps runs the simulate
stage in the copy first (the bench's tests use a few laps' worth of frames that way).

    .venv/bin/python bench/scaling.py [--scale 4] [--source data/raw/sim] [--copies-per-frame 10]
                                      [--simulate-laps L] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.stage_runner import copy_project, run_stage, set_params  # noqa: E402

MEASURED = {"ingest": "data/interim/log.csv", "augment": "data/records", "train": "models"}
PIPELINE = ("ingest", "balance", "split", "augment", "train")
# What the stages print about their own work: augment once per split, train once.
WORK_SECONDS = {"augment": re.compile(r"^(?:train|val): \d+ examples from \d+ frames in ([\d.]+) s", re.M),
                "train": re.compile(r"^trained in ([\d.]+) s", re.M)}
NO_BALANCE_CAP = 10**9


def stage_command(root: Path, stage: str) -> tuple[str, list[str]]:
    """dvc.yaml's command for `stage` as (script name, arguments), ${section.key} filled from params.yaml."""
    import yaml

    params = yaml.safe_load((root / "params.yaml").read_text())
    command = yaml.safe_load((root / "dvc.yaml").read_text())["stages"][stage]["cmd"]

    def value(match: re.Match) -> str:
        found: Any = params
        for key in match.group(1).split("."):
            found = found[key]
        return str(found)

    words = shlex.split(re.sub(r"\$\{([^}]+)\}", value, command))
    if words[:1] != ["python"] or not words[1].startswith("stages/"):
        raise ValueError(f"dvc.yaml's {stage} command does not start with python stages/...: {command}")
    return words[1].removeprefix("stages/"), words[2:]


def size_mb(path: Path) -> float:
    """Bytes under `path` (a file or a folder), in MB (10^6)."""
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def work_seconds(stage: str, output: str) -> float | None:
    """The seconds a stage says its work took (summed over splits), or None if it says nothing."""
    pattern = WORK_SECONDS.get(stage)
    found = pattern.findall(output) if pattern else []
    return sum(float(value) for value in found) if found else None


def run_checked(root: Path, stage: str) -> tuple[float, str]:
    """Run one stage as dvc.yaml does; its wall-clock seconds and output. Exits with its output if it fails."""
    script, args = stage_command(root, stage)
    started = time.perf_counter()
    result = run_stage(script, args, root, timeout_s=24 * 3600)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"scaling: {stage} failed in {root}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def make_recording(base: Path, laps: float) -> Path:
    """Run the simulate stage (params.yaml's, with `laps` laps of the training track only) in a copy."""
    root = copy_project(base / "simulate", with_dvc=False)
    set_params(root, "simulate", laps=laps, extra_track_seeds=[], hill_track_seeds=[])
    run_checked(root, "simulate")
    return root / "data" / "raw" / "sim"


def scale_run(base: Path, source: Path, copies: int, augment: dict, train: dict) -> dict[str, dict[str, float]]:
    """The pipeline from ingest to one train epoch on `copies` copies of `source`: seconds and MB per stage."""
    root = copy_project(base / f"x{copies}", with_dvc=False)
    names = [f"data/raw/copy{i}" for i in range(copies)]
    for name in names:        # hard links where possible: the input is not what is measured
        shutil.copytree(source, root / name, copy_function=_link_or_copy)
    set_params(root, "ingest", sources=names)
    set_params(root, "balance", samples_per_bin=NO_BALANCE_CAP)
    set_params(root, "augment", **augment)
    set_params(root, "train", **train)
    results = {}
    for stage in PIPELINE:
        seconds, output = run_checked(root, stage)
        if stage in MEASURED:
            results[stage] = {"seconds": seconds, "work_seconds": work_seconds(stage, output),
                              "mb": size_mb(root / MEASURED[stage])}
    results["raw input"] = {"seconds": 0.0, "work_seconds": None,
                            "mb": sum(size_mb(root / name) for name in names)}
    return results


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _ratio(small: float | None, big: float | None) -> str:
    return f"{big / small:6.2f}" if small and big is not None else f"{'-':>6s}"


def _seconds(value: float | None) -> str:
    return f"{value:8.1f}" if value is not None else f"{'-':>8s}"


def report(one: dict[str, dict], many: dict[str, dict], scale: int) -> list[str]:
    """The table: per stage, wall and work seconds and MB at 1x and Nx, and the Nx / 1x ratios."""
    n = f"{scale}x"
    lines = [f"{'stage':10s} {'1x s':>8s} {n + ' s':>8s} {'ratio':>6s}   {'1x work':>8s} {n + ' work':>8s} "
             f"{'ratio':>6s}   {'1x MB':>9s} {n + ' MB':>9s} {'ratio':>6s}   (linear = {scale:.1f})"]
    for stage in (*MEASURED, "raw input"):
        a, b = one[stage], many[stage]
        lines.append(f"{stage:10s} {_seconds(a['seconds'] or None)} {_seconds(b['seconds'] or None)} "
                     f"{_ratio(a['seconds'], b['seconds'])}   {_seconds(a['work_seconds'])} "
                     f"{_seconds(b['work_seconds'])} {_ratio(a['work_seconds'], b['work_seconds'])}   "
                     f"{a['mb']:9.1f} {b['mb']:9.1f} {_ratio(a['mb'], b['mb'])}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=4, help="copies of the recording in the big run (default 4)")
    parser.add_argument("--source", type=Path, help="a recording folder (default: the project's data/raw/sim)")
    parser.add_argument("--simulate-laps", type=float,
                        help="no recording: run the simulate stage for this many laps of one track first")
    parser.add_argument("--copies-per-frame", type=int, help="augment.copies_per_frame (default: params.yaml's)")
    parser.add_argument("--workers", type=int, help="augment.workers (default: params.yaml's)")
    parser.add_argument("--batch-size", type=int, help="train.batch_size (default: params.yaml's)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.scale < 2:
        sys.exit(f"scaling: --scale must be 2 or more, got {args.scale}")
    augment = {key: value for key, value in (("copies_per_frame", args.copies_per_frame),
                                             ("workers", args.workers)) if value is not None}
    train = {"epochs": 1, "steps_per_epoch": None, "distribute": "none",
             **({"batch_size": args.batch_size} if args.batch_size else {})}
    with tempfile.TemporaryDirectory(prefix="pilot-scaling-") as scratch:
        base = args.keep or Path(scratch)
        base.mkdir(parents=True, exist_ok=True)
        source = args.source or REPO / "data" / "raw" / "sim"
        if args.source is None and not (source / "driving_log.csv").is_file():
            if args.simulate_laps is None:
                sys.exit(f"scaling: no recording at {source}: run `dvc repro simulate` (or `dvc pull`), "
                         "pass --source DIR, or pass --simulate-laps L to make one")
            source = make_recording(base, args.simulate_laps)
        if not (source / "driving_log.csv").is_file():
            sys.exit(f"scaling: {source} holds no driving_log.csv: pass a recording folder")
        print(f"scaling: {source} at 1x and {args.scale}x; augment {augment or 'as params.yaml'}, "
              f"train {train}", flush=True)
        one = scale_run(base, source, 1, augment, train)
        many = scale_run(base, source, args.scale, augment, train)
    print("\n".join(report(one, many, args.scale)))


if __name__ == "__main__":
    main()
