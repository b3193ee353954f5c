"""`check --graph mermaid|dot`: the planned resources as a graph. Components are groups (nested as
the component tree), resources are nodes, dependencies are edges, protected resources are marked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from automation.offline.mock_engine import MockRun, Registration

PROTECTED = " [protected]"


def _label(r: Registration) -> str:
    return f"{r.type.rsplit(':', 1)[-1]} {r.name}" + (PROTECTED if r.protect else "")


def _walk(run: MockRun) -> Iterator[tuple[str, Registration, str, int]]:
    """The component tree, depth first: ("open"|"close", component) around its children, ("node", resource)."""
    shown = [r for r in run.resources if r.type != "pulumi:pulumi:Stack"]
    ids = {r.urn: f"n{i}" for i, r in enumerate(shown)}
    children: dict[str, list[Registration]] = {}
    for r in shown:
        children.setdefault(r.parent, []).append(r)

    def visit(parent: str, depth: int) -> Iterator[tuple[str, Registration, str, int]]:
        for r in children.get(parent, []):
            if r.custom:
                yield "node", r, ids[r.urn], depth
            else:
                yield "open", r, ids[r.urn], depth
                yield from visit(r.urn, depth + 1)
                yield "close", r, ids[r.urn], depth

    for root in sorted({r.parent for r in shown} - set(ids)):
        yield from visit(root, 1)


def edges(run: MockRun) -> list[tuple[str, str]]:
    """(dependency URN, dependent URN) between resources shown."""
    shown = {r.urn for r in run.resources if r.custom}
    return [(dep, r.urn) for r in run.resources if r.custom for dep in sorted(set(r.dependencies)) if dep in shown]


def _ids(run: MockRun) -> dict[str, str]:
    return {r.urn: node_id for _, r, node_id, _ in _walk(run)}


@dataclass(frozen=True)
class Syntax:
    """How one graph language writes the same walk: header, node, group open/close, edge, footer."""

    header: tuple[str, ...]
    node: Callable[[str, str, bool], str]  # (id, label, protected)
    open: Callable[[str, str], str]  # (id, label)
    close: str
    edge: str  # with {a} and {b}
    footer: tuple[str, ...] = ()
    quote: Callable[[str], str] = lambda label: label


MERMAID = Syntax(
    header=("flowchart LR", "  classDef protected stroke-width:3px,stroke:#b00"),
    node=lambda node_id, label, protected: f'{node_id}["{label}"]' + (":::protected" if protected else ""),
    open=lambda node_id, label: f'subgraph {node_id}["{label}"]',
    close="end",
    edge="  {a} --> {b}",
)
DOT = Syntax(
    header=("digraph stack {", "  rankdir=LR;", "  node [shape=box];"),
    node=lambda node_id, label, protected: f'{node_id} [label="{label}"' + (", penwidth=3, color=red" if protected else "") + "];",
    open=lambda node_id, label: f'subgraph cluster_{node_id} {{ label="{label}";',
    close="}",
    edge="  {a} -> {b};",
    footer=("}",),
    quote=lambda label: label.replace('"', "'"),
)


def render(run: MockRun, syntax: Syntax) -> str:
    """One walk of the component tree, written in `syntax`."""
    lines = list(syntax.header)
    for kind, r, node_id, depth in _walk(run):
        indent, label = "  " * depth, syntax.quote(_label(r))
        if kind == "node":
            lines.append(indent + syntax.node(node_id, label, r.protect))
        elif kind == "open":
            lines.append(indent + syntax.open(node_id, label))
        else:
            lines.append(indent + syntax.close)
    ids = _ids(run)
    lines += [syntax.edge.format(a=ids[a], b=ids[b]) for a, b in edges(run)]
    return "\n".join([*lines, *syntax.footer]) + "\n"


def mermaid(run: MockRun) -> str:
    return render(run, MERMAID)


def dot(run: MockRun) -> str:
    return render(run, DOT)
