"""The order of pilot's packages: a module imports only from its own package or from a lower layer.

Lowest first. Packages on the same layer do not import each other. tests/test_architecture.py
enforces it (and that no stage imports `pilot.testing`); the README's architecture section says why
this order. Top-level modules are named one by one; a package by its name.
"""
from __future__ import annotations

LAYERS: tuple[tuple[str, ...], ...] = (
    ("pilot.atomic", "pilot.layers", "pilot.figures", "pilot.processes"),  # whole files, this table, pictures,
                                                           # worker pools: no pilot imports
    ("pilot.stage_io",),                                   # a stage's params section and metrics file
    ("pilot.udacity",),                                    # the simulator's formats and facts
    ("pilot.imaging", "pilot.control", "pilot.scoring"),   # pure pieces every concern shares
    ("pilot.data", "pilot.sim"),                           # frame tables to examples; the headless simulator
    ("pilot.learn", "pilot.replay"),                       # the network and its runtimes; replay by view synthesis
    ("pilot.drive", "pilot.review", "pilot.holdout"),     # the servers a user opens; a model on unseen recordings
    ("pilot.testing",),                                    # fixtures and fuzzers for tests and benches only
)


def unit_of(module: str) -> str | None:
    """The layer table's name that covers `module` (a package or a top-level module), or None."""
    for units in LAYERS:
        for unit in units:
            if module == unit or module.startswith(unit + "."):
                return unit
    return None


def layer_of(module: str) -> int | None:
    """`module`'s layer, 0 for the lowest; None for a module the table does not name."""
    unit = unit_of(module)
    return None if unit is None else next(index for index, units in enumerate(LAYERS) if unit in units)
