"""`check --graph mermaid|dot`: the planned resources as a graph. Components are groups (nested as
the component tree), resources are nodes, dependencies are edges, protected resources are marked."""

from __future__ import annotations

from .offline import MockRun, Registration

PROTECTED = " [protected]"


def _label(r: Registration) -> str:
    return f"{r.type.rsplit(':', 1)[-1]} {r.name}" + (PROTECTED if r.protect else "")


def _layout(run: MockRun) -> tuple[list[Registration], dict[str, list[Registration]], dict[str, str]]:
    """Resources (custom), children per component URN, and a short id per URN."""
    shown = [r for r in run.resources if r.type != "pulumi:pulumi:Stack"]
    ids = {r.urn: f"n{i}" for i, r in enumerate(shown)}
    children: dict[str, list[Registration]] = {}
    for r in shown:
        children.setdefault(r.parent, []).append(r)
    return shown, children, ids


def edges(run: MockRun) -> list[tuple[str, str]]:
    """(dependency URN, dependent URN) between resources shown."""
    shown = {r.urn for r in run.resources if r.custom}
    return [(dep, r.urn) for r in run.resources if r.custom for dep in dict.fromkeys(r.dependencies) if dep in shown]


def mermaid(run: MockRun) -> str:
    shown, children, ids = _layout(run)
    lines = ["flowchart LR", "  classDef protected stroke-width:3px,stroke:#b00"]

    def emit(parent: str, indent: str) -> None:
        for r in children.get(parent, []):
            if r.custom:
                lines.append(f'{indent}{ids[r.urn]}["{_label(r)}"]' + (":::protected" if r.protect else ""))
            else:
                lines.append(f'{indent}subgraph {ids[r.urn]}["{_label(r)}"]')
                emit(r.urn, indent + "  ")
                lines.append(f"{indent}end")

    roots = {r.parent for r in shown} - {r.urn for r in shown}
    for root in sorted(roots):
        emit(root, "  ")
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in edges(run)]
    return "\n".join(lines) + "\n"


def dot(run: MockRun) -> str:
    shown, children, ids = _layout(run)
    lines = ["digraph stack {", "  rankdir=LR;", "  node [shape=box];"]

    def emit(parent: str, indent: str) -> None:
        for r in children.get(parent, []):
            label = _label(r).replace('"', "'")
            if r.custom:
                style = ", penwidth=3, color=red" if r.protect else ""
                lines.append(f'{indent}{ids[r.urn]} [label="{label}"{style}];')
            else:
                lines.append(f'{indent}subgraph cluster_{ids[r.urn]} {{ label="{label}";')
                emit(r.urn, indent + "  ")
                lines.append(f"{indent}}}")

    roots = {r.parent for r in shown} - {r.urn for r in shown}
    for root in sorted(roots):
        emit(root, "  ")
    lines += [f"  {ids[a]} -> {ids[b]};" for a, b in edges(run)]
    lines.append("}")
    return "\n".join(lines) + "\n"
