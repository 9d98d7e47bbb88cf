"""Read one section of params.yaml: a stage reads only its own section."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def load_params(section: str, path: str | Path = "params.yaml") -> dict[str, Any]:
    """Return params.yaml's `section`; SystemExit with one sentence if it is missing."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"{path} not found: run this from the project's root folder.")
    with path.open(encoding="utf-8") as handle:
        params = yaml.safe_load(handle) or {}
    if section not in params:
        raise SystemExit(f"{path} has no '{section}' section: add one (see the README).")
    return params[section]
