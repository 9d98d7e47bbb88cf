"""The layer order holds, and dvc.yaml's deps are each stage's import closure (with the package data its modules
read): nothing missing, nothing needless.

Imports are read from the source (every `import` and `from ... import`, inside functions too), so
a stage's closure is what it can run: a change to any file in it must re-run the stage, and a
change to any other file must not.
"""
from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from pilot.drive.process import SERVER_MODULE
from pilot.layers import LAYERS, layer_of, unit_of

REPO = Path(__file__).resolve().parents[1]
PILOT = REPO / "pilot"
# a module that starts another as a process depends on it as if it imported it
PROCESS_EDGES = {"pilot.drive.process": (SERVER_MODULE + ".__main__",)}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path | None:
    """The file of a pilot module (a package's __init__.py), or None for a name that is not a module."""
    base = REPO.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def imports_of(path: Path) -> tuple[str, ...]:
    """The pilot modules `path` imports (a name imported from a package that is a submodule counts as it)."""
    found: list[str] = []
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "pilot"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(filter(None, [package.rsplit(".", node.level - 1)[0] if node.level > 1 else package,
                                              node.module]))
            if base.split(".")[0] != "pilot":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append(submodule if module_path(submodule) else base)
    found += PROCESS_EDGES.get(module_name(path), ())
    return tuple(dict.fromkeys(found))


def closure(start: Path) -> set[Path]:
    """Every pilot source file `start` can run, `start` excluded; package __init__ files left out (see below)."""
    seen: set[Path] = set()
    todo = [start]
    while todo:
        for name in imports_of(todo.pop()):
            path = module_path(name)
            if path is None:
                raise AssertionError(f"{name} is imported but is not a module of pilot")
            if path not in seen:
                seen.add(path)
                todo.append(path)
    return {path for path in seen if path.name != "__init__.py"}


def pilot_modules() -> list[Path]:
    return sorted(PILOT.rglob("*.py"))


def test_package_init_files_hold_only_a_docstring():
    """So leaving them out of the closures (and of dvc.yaml) loses nothing."""
    for path in PILOT.rglob("__init__.py"):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        assert len(body) <= 1 and all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                                      for node in body), f"{path.relative_to(REPO)} holds code: move it to a module"


def layer_violations(paths: list[Path]) -> list[str]:
    """One line per import that climbs or crosses to another package of the same layer."""
    problems = []
    for path in paths:
        importer = module_name(path)
        own_layer, own_unit = layer_of(importer), unit_of(importer)
        if own_layer is None:
            problems.append(f"{path.relative_to(REPO)}: {importer} is in no layer of pilot/layers.py")
            continue
        for imported in imports_of(path):
            if imported == "pilot" or unit_of(imported) == own_unit:
                continue
            layer = layer_of(imported)
            if layer is None or layer > own_layer or (layer == own_layer and unit_of(imported) != own_unit):
                where = "a higher layer" if layer is None or layer > own_layer else "another package of its layer"
                problems.append(f"{path.relative_to(REPO)} imports {imported}, from {where} "
                                f"({unit_of(imported)}, layer {layer} > {importer}'s {own_layer})"
                                if where == "a higher layer" else
                                f"{path.relative_to(REPO)} imports {imported}, from {where} ({unit_of(imported)})")
    return problems


def test_no_module_imports_from_a_higher_layer():
    problems = layer_violations([path for path in pilot_modules() if path != PILOT / "__init__.py"])
    assert not problems, "imports against the layer order of pilot/layers.py:\n" + "\n".join(problems)


def test_a_planted_climbing_import_is_named(tmp_path):
    """The check itself: an import from a higher layer, planted in a copy of a low module, is reported by name."""
    planted = PILOT / "udacity" / "_planted_for_test.py"
    planted.write_text("from pilot.drive.telemetry import handle_telemetry\n", encoding="utf-8")
    try:
        imports_of.cache_clear()
        assert layer_violations([planted]) == [
            f"pilot/udacity/_planted_for_test.py imports pilot.drive.telemetry, from a higher layer "
            f"(pilot.drive, layer {layer_of('pilot.drive')} > pilot.udacity._planted_for_test's "
            f"{layer_of('pilot.udacity')})"]
    finally:
        planted.unlink()
        imports_of.cache_clear()


def test_every_unit_of_the_layer_table_exists():
    for units in LAYERS:
        for unit in units:
            assert module_path(unit) is not None, f"pilot/layers.py names {unit}, which is not a module"


def test_no_stage_imports_the_testing_package():
    for script in sorted((REPO / "stages").glob("*.py")):
        reached = {module_name(path) for path in closure(script)} | set(imports_of(script))
        assert not any(name.startswith("pilot.testing") for name in reached), \
            f"{script.relative_to(REPO)} reaches pilot.testing, which is for tests and benches only"


# ---------------------------------------------------------------- dvc.yaml

def dvc_stages() -> dict[str, dict]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


def stage_script(stage: dict) -> Path:
    command = stage["cmd"]
    words = command.split()
    return REPO / next(word for word in words if word.startswith("stages/") and word.endswith(".py"))


PACKAGE_DATA = re.compile(r'resources\.files\("([\w.]+)"\)\.joinpath\("([^"]+)"\)')


def data_files(module: Path) -> set[Path]:
    """The package data files a module opens (importlib.resources.files("pilot.x").joinpath("name"))."""
    return {REPO / package.replace(".", "/") / name
            for package, name in PACKAGE_DATA.findall(module.read_text(encoding="utf-8"))}


def listed_sources(stage: dict) -> set[Path]:
    """The files a stage's deps name under pilot/ (a folder stands for every module in it)."""
    files: set[Path] = set()
    for dep in stage.get("deps", []):
        path = REPO / dep
        if dep.startswith("pilot/") and path.is_dir():
            files |= {p for p in path.rglob("*.py") if p.name != "__init__.py"}
        elif dep.startswith("pilot/"):
            files.add(path)
    return files


def expected_deps(stage: dict) -> list[str]:
    """What the stage's deps should list of the code: its script and its closure, as sorted paths."""
    script = stage_script(stage)
    return [str(p.relative_to(REPO)) for p in [script, *sorted(closure(script))]]


@pytest.mark.parametrize("name", sorted(dvc_stages()))
def test_dvc_yaml_lists_exactly_each_stages_import_closure(name):
    stage = dvc_stages()[name]
    script = stage_script(stage)
    assert str(script.relative_to(REPO)) in stage["deps"], f"{name}: dvc.yaml's deps lack its own script"
    needed, listed = closure(script), listed_sources(stage)
    needed |= {data for module in needed for data in data_files(module)}      # what its modules read is in it too
    missing = sorted(str(p.relative_to(REPO)) for p in needed - listed)
    needless = sorted(str(p.relative_to(REPO)) for p in listed - needed)
    assert not missing and not needless, (
        f"{name}: dvc.yaml's deps must be {script.relative_to(REPO)}'s import closure; missing {missing}, "
        f"needless {needless}")
    for dep in stage["deps"]:
        if dep.startswith(("pilot/", "stages/")):
            assert (REPO / dep).exists(), f"{name}: dvc.yaml's dep {dep} does not exist"


READS_RECORDED_IMAGES = {"ingest", "augment", "evaluate", "replay"}   # decode the JPEGs a frame table names
READS_ITS_OWN_FRAMES = {"road_test"}                                  # decodes only the frames its drives wrote


def test_every_stage_that_decodes_recorded_images_depends_on_the_recordings():
    """A re-recording may keep its driving_log.csv byte for byte and change only the JPEGs (the headless
    simulator with another look does): ingest's outputs are then unchanged, so a stage reading the images
    reruns only if data/raw itself is among its deps."""
    for name, stage in dvc_stages().items():
        script = stage_script(stage)
        decodes = any("read_jpeg_rgb(" in path.read_text(encoding="utf-8") for path in [script, *closure(script)]
                      if path.name != "images.py")
        if decodes:
            assert name in READS_RECORDED_IMAGES | READS_ITS_OWN_FRAMES, (
                f"{name} decodes JPEGs: say here whether they are the recordings' (then it depends on data/raw) "
                f"or only its own")
        if name in READS_RECORDED_IMAGES:
            assert "data/raw" in stage["deps"], f"{name} decodes the recordings' images but does not depend on data/raw"
