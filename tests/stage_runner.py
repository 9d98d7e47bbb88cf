"""Run stage scripts and `dvc repro` for real, in a temporary copy of the project."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COPIED = ("dvc.yaml", "params.yaml", "stages", "pilot")


def project_env(root: Path) -> dict[str, str]:
    """The environment a stage sees: this interpreter's `python` first, the copy's code importable."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(root)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def copy_project(destination: Path, with_dvc: bool = True) -> Path:
    """A fresh copy of the pipeline (code, dvc.yaml, params.yaml) with git and DVC initialised."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    if with_dvc:
        run(["git", "init", "-q"], destination)
        run([sys.executable, "-m", "dvc", "init", "-q"], destination)
        run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], destination)
    return destination


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=project_env(cwd), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def run_stage(script: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, f"stages/{script}", *args], cwd, check=False)


def set_params(root: Path, section: str, **values) -> None:
    """Change keys of one params.yaml section in the copy."""
    import yaml
    path = root / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
