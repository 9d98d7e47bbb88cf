"""params.yaml is written the way DVC writes it back, so an experiment's `-S key=value` is one changed line."""
from __future__ import annotations

import shutil
import sys

import pytest
import yaml

from tests.stage_runner import PROJECT_ROOT, run

NOOP_PIPELINE = {"stages": {"noop": {"cmd": "python -c \"open('out.txt', 'w').write('ok')\"",
                                     "params": ["train", "road_test"], "outs": ["out.txt"]}}}


@pytest.mark.slow
def test_dvc_exp_run_set_param_changes_exactly_one_line(tmp_path):
    """A real `dvc exp run -S` on the project's own params.yaml (a one-command pipeline stands in for the real one)."""
    shutil.copy(PROJECT_ROOT / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(NOOP_PIPELINE), encoding="utf-8")
    run(["git", "init", "-q"], tmp_path)
    run([sys.executable, "-m", "dvc", "init", "-q"], tmp_path)
    run(["git", "add", "-A"], tmp_path)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "params"], tmp_path)
    before = yaml.safe_load((tmp_path / "params.yaml").read_text(encoding="utf-8"))
    run([sys.executable, "-m", "dvc", "exp", "run", "-S", "train.epochs=20"], tmp_path)
    changed = run(["git", "diff", "--numstat", "params.yaml"], tmp_path).stdout.split()
    assert changed[:2] == ["1", "1"], run(["git", "diff", "params.yaml"], tmp_path).stdout
    after = yaml.safe_load((tmp_path / "params.yaml").read_text(encoding="utf-8"))
    before["train"]["epochs"] = 20
    assert after == before                                  # the one value, and every comment line kept
