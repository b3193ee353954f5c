"""The driver's rooms (automation/cli, driver, live, offline) and the arrows between them, read from
the source: the base modules (errors, environments, stackfiles) import no room; offline and live
import no other room; the driver reaches live and owns the gate to the offline rules (a callable
the CLI hands in), never importing offline; the CLI wires everything; and no module imports one
that imports it back. Every file stays under 400 lines."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

from automation.offline.mock_engine import ROOT

PACKAGE = ROOT / "automation"
ROOMS = ("cli", "driver", "live", "offline")
# What each room may import of the others (the base modules are open to all).
ALLOWED = {"cli": set(ROOMS), "driver": {"driver", "live"}, "live": {"live"}, "offline": {"offline"}, "base": set()}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("automation"):
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names if alias.name.startswith("automation")}
        found[_module(path)] = names
    modules = set(found)
    return {m: {n for n in names if n in modules and n != m} for m, names in found.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in ROOMS else "base"


def test_four_rooms_and_the_base() -> None:
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")} == set(ROOMS)
    assert {p.stem for p in PACKAGE.glob("*.py")} == {"__init__", "__main__", "errors", "environments", "stackfiles"}


def test_arrows_only_go_where_they_may() -> None:
    wrong = []
    for module, names in _imports().items():
        if module in ("automation.__main__", "automation"):
            continue
        for name in names:
            if _room(name) != "base" and _room(name) not in ALLOWED[_room(module)]:
                wrong.append(f"{module} -> {name}")
    assert wrong == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = graphlib.TopologicalSorter({m: {n for n in names if not n.endswith("__init__")} for m, names in _imports().items()})
    graph.prepare()  # raises CycleError naming the circle


def test_every_file_stays_under_400_lines() -> None:
    folders = ("automation", "components", "rules", "kubeflow_artifact_store", "policy", "package", "bench", "tests")
    ours = [p for folder in folders for p in (ROOT / folder).rglob("*.py")]
    long = {str(p.relative_to(ROOT)): n for p in ours if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
