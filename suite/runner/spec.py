"""Settings of one search and what it records (frozen dataclasses)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from suite.clock import ClockSettings
from suite.constraints import Constraint, parse_constraints
from suite.errors import SearchSettingsError


@dataclass(frozen=True)
class SearchSpec:
    """One strategy's search: budget, simulated workers, constraints, extra objectives.

    ``fidelity`` is the most epochs the search may train a cell for (NB201's protocol searches
    on 12-epoch results; default: the benchmark's highest). ``objectives`` are hardware metrics
    minimised beside the search accuracy (multi-objective mode). ``report`` is the metric the
    incumbent is judged by (e.g. ``test@200``) and ``report_dataset`` its dataset when that
    differs from the search dataset. ``max_evaluations`` optionally caps the run too.
    """

    strategy: str
    budget_seconds: float
    workers: int = 1
    fidelity: int | None = None
    constraints: tuple[Constraint, ...] = ()
    objectives: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    report: str | None = None
    report_dataset: str | None = None
    charge_strategy_time: bool = False
    max_evaluations: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "constraints", parse_constraints(self.constraints))
        object.__setattr__(self, "objectives", tuple(self.objectives))
        object.__setattr__(self, "options", dict(self.options))
        if self.max_evaluations is not None and self.max_evaluations < 1:
            raise SearchSettingsError(f"max_evaluations must be >= 1, got {self.max_evaluations}")
        self.clock_settings()  # validates budget and workers

    def clock_settings(self) -> ClockSettings:
        return ClockSettings(self.budget_seconds, self.workers, self.charge_strategy_time)

    def describe(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "budget_seconds": self.budget_seconds,
            "workers": self.workers,
            "fidelity": self.fidelity,
            "constraints": [str(c) for c in self.constraints],
            "objectives": list(self.objectives),
            "options": dict(self.options),
            "report": self.report,
            "report_dataset": self.report_dataset,
            "charge_strategy_time": self.charge_strategy_time,
            "max_evaluations": self.max_evaluations,
        }


@dataclass(frozen=True)
class Evaluation:
    """One finished evaluation as the clock saw it."""

    number: int
    time: float
    arch: str
    index: int
    fidelity: int
    values: tuple[float, ...]
    cost: float
    incumbent: str
    incumbent_value: float
    incumbent_final: float


@dataclass
class RunResult:
    """A run's trajectory, its ledger and, if it raised, the traceback."""

    strategy: str
    seed: int
    evaluations: list[Evaluation] = field(default_factory=list)
    ledger: dict[str, float] = field(default_factory=dict)
    elapsed_seconds: float = math.nan
    error: str | None = None
    pareto: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def final(self) -> float:
        """The incumbent's reported metric at the end (NaN when nothing finished)."""
        return self.evaluations[-1].incumbent_final if self.evaluations else math.nan

    @property
    def simulated_seconds(self) -> float:
        return self.evaluations[-1].time if self.evaluations else 0.0
