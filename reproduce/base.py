"""What a reproduction is: checks of a published figure against ours, each with its tolerance.

A :class:`Check` holds the paper's value (with the place it was read from), ours, and the
tolerance that decides the verdict. Where ``../shared`` holds no published figure, the check says
so instead of inventing one. An entry's script returns :class:`Findings`: its checks, the detail
tables they were computed from, and notes that explain disagreements.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reproduce.errors import ReproduceSettingsError

#: How a figure is compared with the paper's.
MODES = ("match", "at_least", "at_most")

AGREES = "agrees"
DISAGREES = "disagrees"
UNPUBLISHED = "no published figure"


@dataclass(frozen=True)
class Check:
    """One published figure beside ours.

    ``mode`` "match": |ours - paper| <= tolerance; "at_least": ours >= paper - tolerance (ours
    should be no worse, e.g. an oracle bound); "at_most": ours <= paper + tolerance.
    """

    quantity: str
    ours: float
    paper: float | None = None
    source: str = ""
    tolerance: float = 0.0
    mode: str = "match"
    unit: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ReproduceSettingsError(f"check mode must be one of {MODES}, got {self.mode!r}")
        if not self.tolerance >= 0:
            raise ReproduceSettingsError(f"tolerance must be >= 0, got {self.tolerance!r}")
        if self.paper is not None and not self.source:
            raise ReproduceSettingsError(f"the published figure of {self.quantity!r} needs its source")

    @property
    def delta(self) -> float | None:
        return None if self.paper is None else self.ours - self.paper

    @property
    def verdict(self) -> str:
        delta = self.delta
        if delta is None:
            return UNPUBLISHED
        if not math.isfinite(delta):
            return DISAGREES
        ok = {
            "match": abs(delta) <= self.tolerance,
            "at_least": delta >= -self.tolerance,
            "at_most": delta <= self.tolerance,
        }[self.mode]
        return AGREES if ok else DISAGREES

    @property
    def rule(self) -> str:
        """The tolerance in words, printed beside the verdict."""
        unit = f" {self.unit}" if self.unit else ""
        return {
            "match": f"|delta| <= {self.tolerance:g}{unit}",
            "at_least": f"ours >= paper - {self.tolerance:g}{unit}",
            "at_most": f"ours <= paper + {self.tolerance:g}{unit}",
        }[self.mode]

    def as_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "paper": self.paper,
            "source": self.source,
            "ours": self.ours,
            "delta": self.delta,
            "unit": self.unit,
            "tolerance": self.tolerance,
            "rule": self.rule,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class Findings:
    """What an entry's script found: checks, detail tables behind them, and notes."""

    checks: tuple[Check, ...]
    details: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryResult:
    """Everything one ``nasuite reproduce NAME`` prints: the entry, its findings, the time it took."""

    name: str
    title: str
    paper: str
    findings: Findings
    seconds: float

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.findings.checks

    def verdicts(self) -> dict[str, int]:
        counts = {AGREES: 0, DISAGREES: 0, UNPUBLISHED: 0}
        for check in self.checks:
            counts[check.verdict] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        f = self.findings
        return {
            "name": self.name,
            "title": self.title,
            "paper": self.paper,
            "settings": dict(f.settings),
            "seconds": self.seconds,
            "verdicts": self.verdicts(),
            "checks": [c.as_dict() for c in f.checks],
            "details": {k: [dict(r) for r in rows] for k, rows in f.details.items()},
            "notes": list(f.notes),
        }
