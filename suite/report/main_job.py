"""``nasuite run``: every registered strategy on the shipped default table, and a report.

The multi-trial strategies run ``runs`` times each under the simulated clock (charged the
table's recorded CPU train times, converted to GPU-days by :mod:`suite.conversion`), with
accuracy vs latency as a second view; the surrogate and proxy sections come from the same
table. Every registered one-shot strategy (DARTS, GDAS, SPOS, latency-aware DARTS) then trains
its supernet on the table's data at a short budget (:mod:`suite.report.oneshot_part`) and is
reported beside them with its measured cost. Everything is written under ``out``: ``report.md``,
PNG plots, ``summary``, ``oneshot`` and ``evaluations`` tables (each as ``.csv`` and ``.parquet``),
``runs.json`` and ``report.json``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from suite.errors import SearchSettingsError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TABLE = REPO / "data" / "nb201-fashion-mnist-small.h5"


@dataclass(frozen=True)
class MainJobSettings:
    """What ``nasuite run`` does; ``budget_seconds=None`` = 100 median cell trainings.

    ``oneshot``: also run the one-shot strategies (``oneshot_strategies``, default every
    registered one), ``oneshot_runs`` times each (seeds 0, 1, ...), on ``oneshot_device``
    (default: CUDA when present, else the CPU).
    """

    table: Path = DEFAULT_TABLE
    out: Path = Path("nasuite-report")
    dataset: str = "fashion-mnist"
    search: str = "valid"
    runs: int = 5
    budget_seconds: float | None = None
    workers: int = 2
    strategies: tuple[str, ...] = ()
    latency: str = "latency_ms:cpu_b1"
    oneshot: bool = True
    oneshot_strategies: tuple[str, ...] = ()
    oneshot_runs: int = 1
    oneshot_device: str | None = None

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise SearchSettingsError(f"runs must be >= 1, got {self.runs}")
        if self.oneshot_runs < 1:
            raise SearchSettingsError(f"oneshot runs must be >= 1, got {self.oneshot_runs}")
        if self.budget_seconds is not None and not self.budget_seconds > 0:
            raise SearchSettingsError(f"budget must be > 0 seconds, got {self.budget_seconds}")


@dataclass
class MainJobResult:
    settings: MainJobSettings
    budget_seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def default_budget(table: Any, dataset: str) -> float:
    """100 times the median recorded training time of a trained cell (a ~100-evaluation search)."""
    seconds = table.metric(dataset, f"train_seconds@{max(table.epochs(dataset))}")
    trained = seconds[np.isfinite(seconds) & (seconds > 0)]
    if trained.size == 0:
        raise SearchSettingsError(f"{dataset}: the table has no trained cell to search")
    return float(100 * np.median(trained))


def run_main_job(settings: MainJobSettings) -> MainJobResult:
    """Search, measure, plot and write the report; returns what it wrote and how long each part took."""
    from suite.oneshot import get_oneshot, oneshot_names
    from suite.report.markdown import write_report
    from suite.report.oneshot_part import run_oneshot_searches
    from suite.runner.parallel import BenchmarkSpec, _open
    from suite.strategies import get_strategy, strategy_names

    if not Path(settings.table).is_file():
        raise SearchSettingsError(
            f"default table {settings.table} not found; run nasuite from a checkout of the project "
            "(pip install -e .) or pass --table FILE"
        )
    started = time.perf_counter()
    bench = BenchmarkSpec(str(settings.table), settings.dataset, settings.search)
    benchmark, _ = _open(bench)
    budget = settings.budget_seconds or default_budget(benchmark.table, settings.dataset)
    result = MainJobResult(settings, budget)
    result.timings["open"] = time.perf_counter() - started
    names = list(settings.strategies or strategy_names())
    oneshot = list(settings.oneshot_strategies or oneshot_names()) if settings.oneshot else []
    for name in names:
        get_strategy(name)  # unknown names fail before any work
    for name in oneshot:
        get_oneshot(name)
    searched = _search(bench, names, budget, settings)
    result.timings["multi-trial search"] = time.perf_counter() - started - result.timings["open"]
    tic = time.perf_counter()
    found = None
    if oneshot:
        seeds = range(settings.oneshot_runs)
        found = run_oneshot_searches(benchmark, oneshot, seeds, settings.oneshot_device)
        result.timings["one-shot search"] = time.perf_counter() - tic
    tic = time.perf_counter()
    sections = _sections(benchmark.table, settings)
    sections["oneshot"] = found
    result.timings["surrogate and proxies"] = time.perf_counter() - tic
    tic = time.perf_counter()
    result.payload, result.files = write_report(settings, benchmark, budget, searched, sections)
    result.timings["plots and report"] = time.perf_counter() - tic
    result.timings["total"] = time.perf_counter() - started
    result.payload["timings"] = result.timings
    return result


def _search(bench: Any, names: list[str], budget: float, settings: MainJobSettings) -> dict[str, Any]:
    from suite.runner import SearchSpec
    from suite.runner.parallel import run_many

    specs = [SearchSpec(n, budget_seconds=budget) for n in names]
    runs = []
    for _, results in run_many([bench], specs, range(settings.runs), workers=settings.workers):
        runs.extend(results)
    runs.sort(key=lambda r: (names.index(r.strategy), r.seed))
    return {"names": names, "runs": runs, "specs": specs}


def _sections(table: Any, settings: MainJobSettings) -> dict[str, Any]:
    from suite.report.sections import build_cost, proxy_correlations, seed_ceiling, surrogate_quality

    metric = f"{settings.search}@{max(table.epochs(settings.dataset))}"
    out: dict[str, Any] = {"metric": metric, "build": build_cost(table, settings.dataset)}
    ceiling = seed_ceiling(table, settings.dataset, metric)  # computed once, used by both sections
    out["surrogate"] = surrogate_quality(table, settings.dataset, metric, ceiling=ceiling)
    out["proxies"] = proxy_correlations(table, settings.dataset, metric, ceiling=ceiling)
    return out


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
