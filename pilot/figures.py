"""Matplotlib without a screen, and the one way a figure becomes a PNG (DVC image plots)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

__all__ = ["plt", "save_figure"]


def save_figure(figure: plt.Figure, path: str | Path, dpi: int) -> Path:
    """Lay the figure out (tight, unless it was made with a layout of its own), write it as a PNG and free it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path
