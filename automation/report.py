"""Rendering for people (tables) and for machines (one JSON object on stdout)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rules import Finding


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def scorecard(findings: Iterable[Finding]) -> str:
    rows = [
        (
            f.control,
            f.verdict.upper() if f.verdict == "fail" else f.verdict,
            f.severity,
            ",".join(f.benchmarks) or "-",
            f.resource,
            f.detail or f.title,
        )
        for f in findings
    ]
    return table(rows, ("control", "verdict", "severity", "benchmarks", "resource", "detail"))


def summary_line(findings: list[Finding]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.verdict] = counts.get(f.verdict, 0) + 1
    return ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))


def emit_json(payload: dict[str, Any], stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(json.dumps(payload, indent=2, default=str) + "\n")
