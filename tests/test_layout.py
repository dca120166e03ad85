"""The package's layout rules, as each stage's __init__.py states them."""

from __future__ import annotations

import ast
from pathlib import Path

import tfhub_pooling

ROOT = Path(tfhub_pooling.__file__).parent


def imports_of(stage: str) -> dict[str, set[str]]:
    """Every tfhub_pooling module each file of a stage imports, lazy imports included."""
    found = {}
    for path in sorted((ROOT / stage).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tfhub_pooling"):
                names |= {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names if a.name.startswith("tfhub_pooling")}
        found[str(path.relative_to(ROOT))] = names
    return found


def test_numerics_imports_nothing_else_of_the_package():
    for path, names in imports_of("numerics").items():
        outside = {n for n in names if not n.startswith("tfhub_pooling.numerics")}
        assert not outside, f"{path} imports {outside}"


def test_study_uses_nothing_of_the_builder_but_its_cache():
    for path, names in imports_of("study").items():
        builder = {n for n in names if n.startswith("tfhub_pooling.builder")}
        assert builder <= {"tfhub_pooling.builder.cache"}, f"{path} imports {builder}"


def test_reports_and_numerics_never_build_modules():
    for stage in ("numerics", "reports"):
        for path, names in imports_of(stage).items():
            assert not any(n.startswith("tfhub_pooling.builder.") and n != "tfhub_pooling.builder.cache"
                           for n in names), path


def test_no_import_cycle_between_modules():
    graph = {}
    for stage in ("study", "numerics", "reports", "builder", "tools"):
        for path, names in imports_of(stage).items():
            module = "tfhub_pooling." + path.removesuffix(".py").replace("/", ".")
            graph[module] = names

    def module_of(name: str) -> str | None:
        for candidate in (name, name.rsplit(".", 1)[0]):
            if candidate in graph:
                return candidate
        return None

    edges = {m: {t for n in names if (t := module_of(n)) and t != m} for m, names in graph.items()}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for t in edges[m]:
            assert state.get(t) != 1, "import cycle: " + " -> ".join(trail + [m, t])
            if t not in state:
                visit(t, trail + [m])
        state[m] = 2

    for m in edges:
        if m not in state:
            visit(m, [])


def test_each_stage_states_its_rule():
    for stage in ("study", "numerics", "reports", "builder", "tools"):
        doc = ast.get_docstring(ast.parse((ROOT / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "Rule:" in doc, stage
