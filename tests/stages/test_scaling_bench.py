"""bench/scaling.py end to end on a tiny recording: it runs the stages at 1x and 4x and prints the table."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.stage_runner import PROJECT_ROOT, project_env

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import scaling  # noqa: E402


def test_stage_commands_come_from_dvc_yaml_with_params_filled_in():
    assert scaling.stage_command(PROJECT_ROOT, "ingest") == (
        "ingest.py",
        ["--out", "data/interim/log.csv", "--test-out", "data/interim/test_log.csv",
         "--metrics", "metrics/ingest.json"])
    script, args = scaling.stage_command(PROJECT_ROOT, "simulate")
    assert script == "simulate.py" and args[:2] == ["--out", "data/raw/sim"]       # ${simulate.out_dir}
    assert scaling.work_seconds("train", "x\ntrained in 12 s (40 img/s)\n") == 12.0
    assert scaling.work_seconds("augment", "train: 40 examples from 40 frames in 1.5 s\n"
                                           "val: 9 examples from 9 frames in 0.5 s\n") == 2.0
    assert scaling.work_seconds("ingest", "anything") is None


@pytest.mark.slow
def test_scaling_bench_runs_end_to_end_on_a_tiny_recording(tmp_path):
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "scaling.py"), "--simulate-laps", "0.3",
         "--copies-per-frame", "1", "--workers", "1", "--batch-size", "25", "--keep", str(tmp_path)],
        cwd=tmp_path, env=project_env(PROJECT_ROOT), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()
            if re.match(r"^(ingest|augment|train|raw) ", line)}
    assert set(rows) == {"ingest", "augment", "train", "raw"}
    # Disk is deterministic: 4 copies of the recording, 4 times the records (within shard overheads).
    assert rows["raw"][-1] == "4.00"
    assert 3.5 <= float(rows["augment"][-1]) <= 4.5
    assert rows["train"][4] != "-"                      # the train stage's own seconds were read
