"""Rendering: for people (rich: fits the terminal, colour only on a terminal and never with
NO_COLOR), for pull requests (Markdown, also appended to $GITHUB_STEP_SUMMARY) and for machines
(one JSON object on stdout). The content is built once (`control_rows`, `resource_groups`) and
rendered three ways."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from rules import ADVISORY, CONTROLS, EXCEPTED, FAIL, PASS, Finding

MARKS = {PASS: "ok", FAIL: "FAIL", ADVISORY: "adv", EXCEPTED: "exc"}
# Rows whose resources are always listed with their reason (the rest under --verbose).
SAID = (FAIL, ADVISORY, EXCEPTED)


def console(stream: TextIO | None = None) -> Console:
    """rich reads COLUMNS and styles only a terminal; with NO_COLOR, no escape codes at all (not even bold)."""
    plain = {"color_system": None} if os.environ.get("NO_COLOR") else {}
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=False, **plain)


@dataclass(frozen=True)
class ControlRow:
    control: str
    title: str
    benchmarks: str
    counts: Counter[str]
    failures: tuple[str, ...]  # "resource: detail" of each failing (or unjudged) resource

    @property
    def verdict(self) -> str:
        if self.counts.get(FAIL):
            return FAIL
        other = [v for v in self.counts if v != PASS]
        return other[0] if other else PASS

    def tally(self) -> str:
        """'3/3 pass', or the other verdicts spelled out."""
        total = sum(self.counts.values())
        if set(self.counts) == {PASS}:
            return f"{total}/{total} pass"
        return ", ".join(f"{n} {v}" for v, n in sorted(self.counts.items()))


def control_rows(findings: Iterable[Finding]) -> list[ControlRow]:
    """One row per control, in the controls' order: how many resources pass, which fail and why."""
    by_control: dict[str, list[Finding]] = {}
    for f in findings:
        by_control.setdefault(f.control, []).append(f)
    order = {c.id: i for i, c in enumerate(CONTROLS)}
    rows = []
    for control_id, found in sorted(by_control.items(), key=lambda item: order.get(item[0], 999)):
        first = found[0]
        failures = tuple(f"{f.resource}: {f.detail}" for f in found if f.verdict != PASS and f.detail)
        rows.append(ControlRow(control_id, first.title, ",".join(first.benchmarks), Counter(f.verdict for f in found), failures))
    return rows


def summary_line(findings: list[Finding]) -> str:
    counts = Counter(f.verdict for f in findings)
    return ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))


@dataclass(frozen=True)
class Node:
    urn: str
    parent: str
    type: str
    name: str


def _short(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def resource_tree(title: str, nodes: list[Node], verbose: bool) -> Tree:
    """Components, then their children (by URN, as `pulumi preview` nests them); without
    --verbose, a component's plain resources are summed up on one line. Sorted by type and name:
    registration order varies from run to run, and the same stack must print the same tree."""
    children: dict[str, list[Node]] = {}
    for node in sorted(nodes, key=lambda n: (n.type, n.name)):
        children.setdefault(node.parent, []).append(node)
    tree = Tree(title)

    def add(branch: Tree, parent: str) -> None:
        leaves = [c for c in children.get(parent, []) if c.urn not in children]
        for child in children.get(parent, []):
            if child.urn in children:
                add(branch.add(Text.assemble((_short(child.type), "bold"), f" {child.name}")), child.urn)
        if verbose:
            for leaf in leaves:
                branch.add(Text(f"{_short(leaf.type)} {leaf.name}"))
        elif leaves:
            kinds = Counter(_short(leaf.type) for leaf in leaves)
            listed = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in kinds.items())
            branch.add(Text(f"{len(leaves)}: {listed}", no_wrap=True, overflow="ellipsis"))

    known = {n.urn for n in nodes}
    for root in sorted({n.parent for n in nodes} - known):
        add(tree, root)
    return tree


def scorecard_table(findings: list[Finding], width: int, verbose: bool = False) -> Table:
    """One line per control; the title takes what the terminal leaves and is cut with an ellipsis."""
    rows = control_rows(findings)
    fixed = {"mark": 4, "control": 9, "resources": 14}
    shown_failures = [f for r in rows for f in (r.failures if (r.verdict in SAID or verbose) else ())]
    longest = max((len(text) for text in [r.title for r in rows] + shown_failures), default=10)
    title_width = max(10, min(longest, width - sum(fixed.values()) - 3))  # three one-space gaps between columns
    # One space after each column (rich's default pads both sides, which would overflow and make
    # rich shrink every column, the control ids included).
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), show_header=True, header_style="bold", expand=False)
    table.add_column("", no_wrap=True, width=fixed["mark"])
    table.add_column("control", no_wrap=True, width=fixed["control"])
    table.add_column("title", overflow="ellipsis", no_wrap=True, width=title_width)
    table.add_column("resources", overflow="ellipsis", no_wrap=True, width=fixed["resources"])
    for row in rows:
        style = "red" if row.verdict == FAIL else "green" if row.verdict == PASS else "yellow"
        table.add_row(f"[{style}]{MARKS.get(row.verdict, '--')}[/{style}]", row.control, row.title, row.tally())
        for failure in row.failures if (row.verdict in SAID or verbose) else ():
            # A reason is what the on-call needs: it wraps, never cut like a title.
            table.add_row("", "", Text(failure, style=style, no_wrap=False, overflow="fold"), "")
    return table


def findings_table(findings: list[Finding]) -> Table:
    """--verbose: every (control, resource) finding. Nothing is cut: --verbose is asked for the
    detail, so long resource names and reasons fold onto more lines instead."""
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    table.add_column("control", no_wrap=True, min_width=9)
    table.add_column("verdict", overflow="fold", min_width=6, max_width=12)
    table.add_column("resource", overflow="fold", ratio=2)
    table.add_column("detail", overflow="fold", ratio=3)
    for f in findings:
        table.add_row(f.control, f.verdict, f.resource, f.detail or f.title)
    return table


# -- Markdown -------------------------------------------------------------------------------------
def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def scorecard_markdown(title: str, findings: list[Finding]) -> str:
    rows = [
        (MARKS.get(r.verdict, r.verdict), r.control, r.title, r.benchmarks or "-", r.tally(), "; ".join(r.failures) or "")
        for r in control_rows(findings)
    ]
    return (
        f"### {title}\n\n{summary_line(findings)}\n\n"
        + markdown_table(("", "control", "title", "benchmarks", "resources", "failing"), rows)
        + "\n"
    )


def publish(markdown: str) -> None:
    """Append to the GitHub Actions job summary when there is one."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")


def emit_json(payload: dict[str, Any], stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(json.dumps(payload, indent=2, default=str) + "\n")
