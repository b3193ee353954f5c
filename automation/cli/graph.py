"""`check --graph mermaid|dot`: the planned resources as a graph. Components are groups (nested as
the component tree), resources are nodes, dependencies are edges, protected resources are marked."""

from __future__ import annotations

from collections.abc import Iterator

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


def mermaid(run: MockRun) -> str:
    lines = ["flowchart LR", "  classDef protected stroke-width:3px,stroke:#b00"]
    for kind, r, node_id, depth in _walk(run):
        indent = "  " * depth
        if kind == "node":
            lines.append(f'{indent}{node_id}["{_label(r)}"]' + (":::protected" if r.protect else ""))
        elif kind == "open":
            lines.append(f'{indent}subgraph {node_id}["{_label(r)}"]')
        else:
            lines.append(f"{indent}end")
    ids = _ids(run)
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in edges(run)]
    return "\n".join(lines) + "\n"


def dot(run: MockRun) -> str:
    lines = ["digraph stack {", "  rankdir=LR;", "  node [shape=box];"]
    for kind, r, node_id, depth in _walk(run):
        indent, label = "  " * depth, _label(r).replace('"', "'")
        if kind == "node":
            style = ", penwidth=3, color=red" if r.protect else ""
            lines.append(f'{indent}{node_id} [label="{label}"{style}];')
        elif kind == "open":
            lines.append(f'{indent}subgraph cluster_{node_id} {{ label="{label}";')
        else:
            lines.append(f"{indent}}}")
    ids = _ids(run)
    lines += [f"  {ids[a]} -> {ids[b]};" for a, b in edges(run)]
    lines.append("}")
    return "\n".join(lines) + "\n"
