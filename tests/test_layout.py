"""The layout rules of DESIGN.md, checked on the source: the project's import graph (every
``import`` statement, lazy and ``TYPE_CHECKING`` ones included) has no cycle, the CLI is the
top, PyBullet stays in ``sims/`` (kinematics.sims), reports know neither argparse nor PyBullet, and
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
#: Top-level folders installed inside the package (pyproject's package-dir).
MAPPED = {"robots": "kinematics.robots", "sims": "kinematics.sims"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] in MAPPED:
        parts[:1] = MAPPED[parts[0]].split(".")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(p): p for top in (PACKAGE, *(ROOT / d for d in MAPPED))
           for p in sorted(top.rglob("*.py"))}


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
    # only an entry point imports it: ``python -m kinematics.sims`` is ``kinematics simulate``
    assert _importers("kinematics.cli") == ["kinematics.sims.__main__"]
    # argparse (every parser) lives in the CLI only
    assert _importers("argparse") == ["kinematics.cli"]


def test_only_the_cli_reaches_the_simulator_harness() -> None:
    outside = [n for n in _importers("kinematics.sims") if not n.startswith("kinematics.sims")]
    assert outside == ["kinematics.cli"]


def test_only_sims_imports_pybullet() -> None:
    pattern = re.compile(r"^\s*(import|from)\s+pybullet", re.MULTILINE)
    users = sorted(n for n, p in SOURCES.items() if pattern.search(p.read_text(encoding="utf-8")))
    assert users and all(n.startswith("kinematics.sims.") for n in users), users


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


def test_robots_and_sims_stand_at_the_top_once() -> None:
    """The layout users were promised: ``robots/`` and ``sims/`` at the repository's top,
    installed as ``kinematics.robots`` and ``kinematics.sims``; no second copy of a
    description or a harness module anywhere in the tree; every package of the library
    is in pyproject's list (an unlisted subpackage would be missing from the wheel)."""
    import tomllib

    assert (ROOT / "robots" / "__init__.py").is_file() and (ROOT / "sims" / "bullet.py").is_file()
    assert not (PACKAGE / "robots").exists() and not (PACKAGE / "sims").exists()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tool = config["tool"]["setuptools"]
    assert tool["package-dir"] == {v: k for k, v in MAPPED.items()}
    packages = {".".join(p.relative_to(ROOT).parts[:-1]) for p in PACKAGE.rglob("__init__.py")}
    assert set(tool["packages"]) == packages | set(MAPPED.values())
    skip = {".git", "build", "dist", ".venv", "venv", "node_modules"}
    for pattern, home in (("*.urdf", "robots"), ("bullet.py", "sims"), ("simulate.py", "sims")):
        found = [p for p in ROOT.rglob(pattern)
                 if not skip & set(p.relative_to(ROOT).parts)
                 and p.relative_to(ROOT).parts[0] in ("kinematics", "robots", "sims")]
        assert all(p.relative_to(ROOT).parts[0] == home for p in found), found
        names = [p.name for p in found]
        assert len(names) == len(set(names)), names


@pytest.mark.parametrize("argv", [["-m", "kinematics.sims"], [str(ROOT / "sims" / "simulate.py")]])
def test_scenarios_run_as_scripts(argv: list[str]) -> None:
    """``python -m kinematics.sims ROBOT`` and, from a clone, ``python sims/simulate.py
    ROBOT`` are ``kinematics simulate ROBOT``."""
    done = subprocess.run([sys.executable, *argv, "--help"], capture_output=True, text=True,
                          cwd=ROOT.parent, env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: kinematics simulate")
