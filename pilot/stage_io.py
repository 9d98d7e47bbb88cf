"""What every stage shares: reading its own section of params.yaml, writing its metrics JSON."""
from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import yaml

from pilot.atomic import write_atomic

MODEL_FILE_EXIT_CODE = 2       # a model file a stage cannot use (missing, unreadable, holding code, wrong shape)


def exit_with(stage: str, sentence: str, code: int = 1) -> NoReturn:
    """Print `stage: sentence` to stderr and exit with `code`: what a user gets instead of a traceback."""
    print(f"{stage}: {sentence}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def stop_on_ctrl_c() -> None:
    """Ctrl+C (SIGINT) raises KeyboardInterrupt here even when the process was started from a script that
    ignores SIGINT in its background jobs (POSIX shells do; Python then leaves it ignored, and a stage that
    cleans up on Ctrl+C could not be stopped that way)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


class ParamsSection(dict):
    """One section of params.yaml; a missing key is one sentence that names it, never a KeyError."""

    def __init__(self, values: dict[str, Any], where: str) -> None:
        super().__init__(values)
        self.where = where
        for key, value in self.items():
            if isinstance(value, dict):
                super().__setitem__(key, ParamsSection(value, f"{where}.{key}"))

    def __missing__(self, key: str) -> Any:
        raise SystemExit(f"params.yaml has no '{self.where}.{key}': add it (see the README).")


def load_params(section: str, path: str | Path = "params.yaml") -> ParamsSection:
    """Return params.yaml's `section`; SystemExit with one sentence if it or a key read later is missing."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"{path} not found: run this from the project's root folder.")
    with path.open(encoding="utf-8") as handle:
        params = yaml.safe_load(handle) or {}
    if not isinstance(params, dict) or section not in params:
        raise SystemExit(f"{path} has no '{section}' section: add one (see the README).")
    if not isinstance(params[section], dict):
        raise SystemExit(f"{path}'s '{section}' section is not a mapping of keys to values.")
    return ParamsSection(params[section], section)


def write_metrics(path: str | Path, metrics: dict[str, Any]) -> None:
    """Indented JSON with a final newline (small git diffs), written whole or not at all (pilot.atomic)."""
    write_atomic(path, json.dumps(metrics, indent=2) + "\n")
