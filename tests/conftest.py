"""Session-wide test settings."""
from __future__ import annotations

import os
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def litert_cache_dir():
    """Drive servers and replays started by the tests cache their LiteRT conversions here, never in ~/.cache."""
    with tempfile.TemporaryDirectory(prefix="pilot-cache-") as folder:
        previous = os.environ.get("PILOT_CACHE_DIR")
        os.environ["PILOT_CACHE_DIR"] = folder
        yield folder
        if previous is None:
            os.environ.pop("PILOT_CACHE_DIR", None)
        else:
            os.environ["PILOT_CACHE_DIR"] = previous
