"""The layout rules of DESIGN.md, checked on the source: the project's import graph (every
``import`` statement, lazy and ``TYPE_CHECKING`` ones included) has no cycle, the CLI is the
top, PyBullet stays in ``kinematics/sims``, reports know neither argparse nor PyBullet, and
``import kinematics`` stays light."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kinematics"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """Every module ``name`` imports: dotted names, relative imports resolved; for
    ``from X import y`` the submodule ``X.y`` when it is one of ours, else ``X``."""
    path = SOURCES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in SOURCES else base)
    return found


IMPORTS = {name: _imports(name) for name in SOURCES}
GRAPH = {name: sorted(i for i in found if i in SOURCES and i != name)
         for name, found in IMPORTS.items()}


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _importers(target: str) -> list[str]:
    return sorted(n for n, found in IMPORTS.items()
                  if any(i == target or i.startswith(target + ".") for i in found))


def test_the_walker_sees_the_layout() -> None:
    assert {"kinematics", "kinematics.cli", "kinematics.robots", "kinematics.sims.bullet",
            "kinematics.report.page"} <= set(SOURCES)
    assert "kinematics.report.page" in GRAPH["kinematics.report.singularity"]
    assert "kinematics.robots" in GRAPH["kinematics.robot"]  # a lazy `from . import robots`
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def test_the_cli_is_the_top() -> None:
    assert _importers("kinematics.cli") == []
    # argparse (every parser) lives in the CLI only
    assert _importers("argparse") == ["kinematics.cli"]


def test_only_the_cli_reaches_the_simulator_harness() -> None:
    outside = [n for n in _importers("kinematics.sims") if not n.startswith("kinematics.sims")]
    assert outside == ["kinematics.cli"]


def test_only_sims_imports_pybullet() -> None:
    pattern = re.compile(r"^\s*(import|from)\s+pybullet", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))
                 and p.relative_to(PACKAGE).parts[0] != "sims"]
    assert offenders == []


@pytest.mark.parametrize("name", [n for n in SOURCES if n.startswith("kinematics.report")])
def test_reports_know_neither_argparse_nor_pybullet(name: str) -> None:
    banned = ("argparse", "pybullet", "kinematics.sims", "kinematics.cli")
    assert [i for i in IMPORTS[name] if i.split(".")[0] in banned or i.startswith(banned)] == []


def test_the_registry_is_at_the_bottom() -> None:
    assert [i for i in IMPORTS["kinematics.robots"] if i.startswith("kinematics")] == []


def test_monitor_constants_are_defined_once() -> None:
    defined = sorted(
        n for n, p in SOURCES.items()
        for node in ast.parse(p.read_text(encoding="utf-8")).body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name) and t.id in ("LEVELS", "HALT_SCALE"))
    assert defined == ["kinematics.singularity.monitor", "kinematics.singularity.monitor"]


def test_import_kinematics_stays_light() -> None:
    heavy = ["matplotlib", "pybullet", "pybullet_data", "dask", "distributed",
             "concurrent.futures.process", "kinematics.cli", "kinematics.sims",
             "kinematics.report"]
    code = ("import sys, kinematics; "
            f"print([m for m in sys.modules if any(m == h or m.startswith(h + '.') "
            f"for h in {heavy!r})])")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"
