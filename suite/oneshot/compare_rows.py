"""Settings and result rows of a one-shot comparison (:mod:`suite.oneshot.compare`)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from suite.errors import SearchSettingsError

if TYPE_CHECKING:
    from suite.oneshot.result import OneShotResult

DEFAULT_STRATEGIES = ("darts-v1", "darts-v2", "gdas", "spos", "darts-latency")
DEFAULT_BASELINES = ("random", "evolution")
BUDGET_MODES = ("median", "per-strategy")


@dataclass(frozen=True)
class CompareSettings:
    """What to run: one-shot ``strategies`` x ``seeds``, then ``baselines`` x ``baseline_runs`` seeds.

    ``options`` are one-shot settings (``epochs``, ``images_per_epoch``, ``train_missing``,
    ``population``, ...): each key goes to every strategy whose settings have it, and a key that
    no chosen strategy knows is an error. ``budget_seconds`` caps each one-shot search (it stops
    after the epoch that crosses it); ``budget`` chooses how the baselines' budget is set (see
    the module docstring).
    """

    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    seeds: tuple[int, ...] = (0, 1, 2)
    baselines: tuple[str, ...] = DEFAULT_BASELINES
    baseline_runs: int = 10
    budget: str = "median"
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    device: str | None = None
    budget_seconds: float | None = None
    search: str = "valid"
    data_root: str | None = None
    workers: int = 0

    def __post_init__(self) -> None:
        from suite.oneshot.base import get_oneshot
        from suite.strategies import get_strategy

        for name in ("strategies", "seeds", "baselines"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "options", dict(self.options))
        if not self.strategies:
            raise SearchSettingsError("strategies must name at least one one-shot strategy")
        if not self.seeds:
            raise SearchSettingsError("seeds must hold at least one seed, got none")
        for label, names in (
            ("strategies", self.strategies),
            ("seeds", self.seeds),
            ("baselines", self.baselines),
        ):
            if len(set(names)) != len(names):
                raise SearchSettingsError(f"{label} must not repeat, got {list(names)}")
        for seed in self.seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise SearchSettingsError(f"seeds must be integers >= 0, got {seed!r}")
        for name in self.strategies:
            get_oneshot(name)  # UnknownNameError listing the registered ones
        for name in self.baselines:
            get_strategy(name)  # UnknownStrategyError listing the registered ones
        if (
            isinstance(self.baseline_runs, bool)
            or not isinstance(self.baseline_runs, int)
            or self.baseline_runs < 1
        ):
            raise SearchSettingsError(f"baseline_runs must be an integer >= 1, got {self.baseline_runs!r}")
        if self.budget not in BUDGET_MODES:
            raise SearchSettingsError(f"budget must be one of {list(BUDGET_MODES)}, got {self.budget!r}")
        known = set().union(*(_fields(n) for n in self.strategies))
        unknown = sorted(set(self.options) - known)
        if unknown:
            raise SearchSettingsError(
                f"options {unknown} are settings of none of {list(self.strategies)}; known: {sorted(known)}"
            )
        for name in self.strategies:  # bad values fail here, before any training
            get_oneshot(name)(seed=0, device=self.device, **self.options_for(name))

    def options_for(self, strategy: str) -> dict[str, Any]:
        """The ``options`` strategy ``strategy`` has settings for."""
        known = _fields(strategy)
        return {k: v for k, v in self.options.items() if k in known}


def _fields(strategy: str) -> set[str]:
    from suite.oneshot.base import get_oneshot

    return {f.name for f in dataclasses.fields(get_oneshot(strategy).Settings)}


@dataclass(frozen=True)
class OneShotRow:
    """One strategy over its seeds; ``sources`` per seed: ``table``, ``live`` or ``missing``."""

    strategy: str
    seeds: tuple[int, ...]
    cells: tuple[str, ...]
    accuracies: tuple[float, ...]
    sources: tuple[str, ...]
    accuracy_mean: float
    accuracy_std: float
    regret_mean: float
    skip_share_mean: float
    search_seconds: tuple[float, ...]
    search_seconds_median: float
    table_seconds_median: float
    gpu_days_median: float
    failed: int


@dataclass(frozen=True)
class BaselineRow:
    """A multi-trial baseline at ``budget_seconds`` of table time (the cost of ``at_cost_of``)."""

    strategy: str
    at_cost_of: str
    budget_seconds: float
    runs: int
    without_result: int
    accuracy_mean: float
    accuracy_std: float
    regret_mean: float
    evaluations_median: float
    simulated_seconds_median: float
    simulated_seconds_max: float
    gpu_days_median: float
    cells: tuple[str, ...]


@dataclass(frozen=True)
class OneShotComparison:
    """Everything one comparison produced; ``results`` are the one-shot runs in full.

    ``loop_seconds``: wall and process CPU seconds of the whole one-shot loop (live training of
    missing cells included); their ratio shows how much a shared core slowed the wall clock.
    """

    table: str
    dataset: str
    report: str
    optimum: float
    optimum_arch: str
    settings: CompareSettings
    results: tuple[OneShotResult, ...]
    rows: tuple[OneShotRow, ...]
    baselines: tuple[BaselineRow, ...]
    failures: tuple[dict[str, Any], ...]
    budget_note: str
    conversion: dict[str, Any]
    wall_seconds: float
    loop_seconds: tuple[float, float] = (math.nan, math.nan)

    def row(self, strategy: str) -> OneShotRow:
        return next(r for r in self.rows if r.strategy == strategy)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, the rows, the baselines and each run (its per-epoch history left out)."""
        settings = dataclasses.asdict(self.settings)
        runs = [{k: v for k, v in r.to_dict().items() if k != "history"} for r in self.results]
        return {
            "table": self.table,
            "dataset": self.dataset,
            "report": self.report,
            "optimum": self.optimum,
            "optimum_arch": self.optimum_arch,
            "settings": settings,
            "oneshot": [dataclasses.asdict(r) for r in self.rows],
            "baselines": [dataclasses.asdict(b) for b in self.baselines],
            "budget_note": self.budget_note,
            "conversion": self.conversion,
            "runs": runs,
            "failures": list(self.failures),
            "wall_seconds": self.wall_seconds,
            "oneshot_loop_wall_seconds": self.loop_seconds[0],
            "oneshot_loop_process_seconds": self.loop_seconds[1],
        }
