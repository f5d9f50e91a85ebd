"""The terminal form of a reproduction: checks with verdicts, detail tables, notes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from reproduce.base import EntryResult


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)


def format_rows(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """A plain aligned text table of dict rows (columns from the first row)."""
    if not rows:
        return []
    columns = list(rows[0])
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return lines


def render(result: EntryResult) -> str:
    lines = [f"{result.name}: {result.title}", f"paper: {result.paper}", ""]
    checks = [
        {
            "quantity": c.quantity, "paper": c.paper, "ours": c.ours, "delta": c.delta,
            "tolerance": c.rule if c.paper is not None else "", "verdict": c.verdict,
        }
        for c in result.checks
    ]  # fmt: skip
    lines += format_rows(checks)
    sources = sorted({c.source for c in result.checks if c.source})
    lines += ["", "sources:"] + [f"  {s}" for s in sources]
    for name, rows in result.findings.details.items():
        lines += ["", f"{name}:"] + [f"  {line}" for line in format_rows(rows)]
    if result.findings.notes:
        lines += ["", "notes:"] + [f"  - {n}" for n in result.findings.notes]
    counts = ", ".join(f"{v} {k}" for k, v in result.verdicts().items())
    lines += ["", f"verdicts: {counts}; {result.seconds:.1f} s"]
    return "\n".join(lines)


def print_result(result: EntryResult) -> None:
    print(render(result))
