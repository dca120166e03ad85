"""The package's layout rules, as each stage's __init__.py states them, checked on
every import the code can make: top-level or inside a function, `import_module`
with a literal name too, and followed through the modules in between."""

from __future__ import annotations

import ast
from pathlib import Path

import tfhub_pooling

ROOT = Path(tfhub_pooling.__file__).parent
PACKAGE = "tfhub_pooling"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def _target(name: str) -> str | None:
    """The package module an imported name lives in: itself, or the module it is taken from."""
    for candidate in (name, name.rsplit(".", 1)[0]):
        if candidate in MODULES:
            return candidate
    return None


def direct_imports(module: str) -> set[str]:
    """Every package module `module` imports, anywhere in its text."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            names = [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith(PACKAGE)]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and str(node.args[0].value).startswith(PACKAGE)):
            names = [node.args[0].value]
        found |= {t for n in names if (t := _target(n)) and t != module}
    return found


GRAPH = {m: direct_imports(m) for m in MODULES}


def reachable(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for t in GRAPH[todo.pop()] - seen:
            seen.add(t)
            todo.append(t)
    return seen


def stage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def breaches(stages: tuple[str, ...], forbidden: tuple[str, ...]) -> dict[str, set[str]]:
    out = {}
    for m in MODULES:
        if stage(m) in stages:
            bad = {t for t in reachable(m) if stage(t) in forbidden}
            if bad:
                out[m] = bad
    return out


def test_the_graph_sees_lazy_imports_and_import_module(tmp_path):
    # The rules below are only as good as what the graph sees: a function-local import and
    # import_module are found, through a module in between.
    assert "tfhub_pooling.api" in GRAPH["tfhub_pooling.cli"]              # imported inside functions
    assert "tfhub_pooling.builder.build" in reachable("tfhub_pooling.api")   # api -> provision -> build
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    import importlib\n    importlib.import_module('tfhub_pooling.provision')\n")
    MODULES["tfhub_pooling.probe"] = source
    try:
        assert direct_imports("tfhub_pooling.probe") == {"tfhub_pooling.provision"}
    finally:
        del MODULES["tfhub_pooling.probe"]


def test_numerics_imports_nothing_else_of_the_package():
    for m in MODULES:
        if stage(m) == "tfhub_pooling.numerics":
            outside = {t for t in reachable(m) if stage(t) != "tfhub_pooling.numerics"}
            assert not outside, f"{m} imports {outside}"


def test_the_study_and_its_reports_build_nothing():
    found = breaches(("tfhub_pooling.study", "tfhub_pooling.numerics", "tfhub_pooling.reports",
                      "tfhub_pooling.conventions"),
                     ("tfhub_pooling.builder", "tfhub_pooling.provision", "tfhub_pooling.api"))
    assert not found, found


def test_the_builder_reads_nothing_of_the_study():
    found = breaches(("tfhub_pooling.builder", "tfhub_pooling.conventions"),
                     ("tfhub_pooling.study", "tfhub_pooling.reports", "tfhub_pooling.provision",
                      "tfhub_pooling.api"))
    assert not found, found


def test_no_import_cycle_between_modules():
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for t in GRAPH[m]:
            assert state.get(t) != 1, "import cycle: " + " -> ".join(trail + [m, t])
            if t not in state:
                visit(t, trail + [m])
        state[m] = 2

    for m in GRAPH:
        if m not in state:
            visit(m, [])


def test_development_tools_are_not_installed_with_the_package():
    assert not (ROOT / "tools").exists()
