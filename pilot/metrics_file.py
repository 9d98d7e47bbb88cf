"""Write a stage's metrics JSON: one format for every file that `dvc metrics` reads."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_metrics(path: str | Path, metrics: dict[str, Any]) -> None:
    """Indented JSON with a final newline (small git diffs), creating the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
