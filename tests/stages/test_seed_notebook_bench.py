"""bench/seed_notebook.py's verdict: the pipeline against the seed notebook, read the right way round."""
from __future__ import annotations

import sys

from tests.stage_runner import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import seed_notebook  # noqa: E402


def test_the_verdict_compares_the_means_and_gives_a_ratio_only_against_a_positive_seed():
    assert seed_notebook.against_seed(0.743, 0.674) == (
        "pipeline / seed 1.10, pipeline - seed +0.069 (0.743 against 0.674: at least the seed's)")
    assert seed_notebook.against_seed(0.279, 0.297).endswith("BELOW the seed's)")
    # a real Mountain-trained pair: both follow the Lake driver backwards, the pipeline more so; the ratio
    # (4.7) would read as a win
    assert seed_notebook.against_seed(-0.136, -0.029) == (
        "pipeline - seed -0.107 (-0.136 against -0.029: BELOW the seed's)")
    # and the other way: ahead of a negative seed is ahead, though the ratio is negative
    assert seed_notebook.against_seed(0.116, -0.155).endswith("at least the seed's)")
