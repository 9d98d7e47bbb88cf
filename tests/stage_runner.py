"""Run stage scripts and `dvc repro` for real, in a temporary copy of the project."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The learning stages' command lines as dvc.yaml runs them (paths relative to a project copy).
AUGMENT = ("--train", "data/split/train.csv", "--val", "data/split/val.csv",
           "--out-dir", "data/records", "--plots-dir", "plots/augment")
TRAIN = ("--records", "data/records", "--model", "models/model.keras",
         "--metrics", "metrics/train.json", "--live-dir", "dvclive", "--litert-model", "models/model.tflite")
EVALUATE = ("--records", "data/records", "--model", "models/model.keras", "--val", "data/split/val.csv",
            "--test-log", "data/interim/test_log.csv",
            "--metrics", "metrics/eval.json", "--plots-dir", "plots/evaluate")
COPIED = ("dvc.yaml", "params.yaml", "stages", "pilot", ".gitignore", ".dvcignore")


def code_root(folder: Path) -> Path:
    """The folder whose `pilot/` and `stages/` run: a copy's own, else the project's."""
    return folder if (folder / "pilot").is_dir() else PROJECT_ROOT


def project_env(root: Path) -> dict[str, str]:
    """The environment a stage sees: this interpreter's `python` first, the copy's code importable."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(code_root(root))
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


def run(command: list[str], cwd: Path, check: bool = True, timeout_s: float = 600) -> subprocess.CompletedProcess:
    """Run a command as the pipeline would in `cwd`; with `check`, fail the test with its output."""
    result = subprocess.run(command, cwd=cwd, env=project_env(cwd), capture_output=True, text=True,
                            timeout=timeout_s)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def run_stage(script: str, args: list[str] | tuple[str, ...], cwd: Path,
              timeout_s: float = 600) -> subprocess.CompletedProcess:
    """Run `stages/<script>` in `cwd` (a copy's own script, else the project's) as a user would."""
    path = code_root(cwd) / "stages" / script
    return run([sys.executable, str(path), *args], cwd, check=False, timeout_s=timeout_s)


def write_params(folder: Path, **sections: dict) -> Path:
    """The project's params.yaml with some keys of some sections changed, written into `folder`."""
    import yaml
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    for section, values in sections.items():
        params[section].update(values)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def set_params(root: Path, section: str, **values) -> None:
    """Change keys of one params.yaml section in the copy."""
    import yaml
    path = root / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
