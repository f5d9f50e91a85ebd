"""One-shot strategies x seeds on a built table, beside multi-trial baselines at the same cost.

DARTS first and second order (Liu et al., ICLR 2019), GDAS (Dong & Yang, CVPR 2019), SPOS (Guo
et al., ECCV 2020) and latency-aware DARTS (FBNet, Wu et al., CVPR 2019; ProxylessNAS, Cai et
al., ICLR 2019) each search the table's own data once per seed (:mod:`suite.oneshot`). Per
strategy the comparison reports the derived cells, their accuracy (the table's seed mean, or the
cell trained live under the table's budget when ``train_missing`` is set and the partial table
lacks it; never estimated), the regret against the table's optimum, the share of skip
connections, the measured search seconds and GPU-days.

The baselines (random search, Li & Talwalkar, UAI 2019; regularised evolution, Real et al.,
AAAI 2019; any registered multi-trial strategy) then search the same table with a simulated
budget equal to the one-shot searches' cost, ``baseline_runs`` seeds each:

* ``budget="median"`` (default): one budget, the median measured search seconds over every
  finished one-shot run, so all strategies are compared at one cost;
* ``budget="per-strategy"``: the baselines are run once per one-shot strategy, at that
  strategy's median.

Units: the table charges each evaluation the training seconds it recorded, and a one-shot
search is charged its measured wall time. A one-shot run on a CPU is counted second for second
against a table built on a CPU (same machine assumed: the default table was timed one thread
per worker, and one-shot searches use ``threads=1`` unless told otherwise); a run on a GPU is
scaled to the table's CPU seconds by :func:`suite.conversion.conversion_for`'s speedup; a CPU
run against a GPU-built table is counted second for second, which favours the baselines. The
assumption used is written into the result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from suite.clock import SECONDS_PER_DAY
from suite.errors import SearchSettingsError
from tabular.errors import NasuiteError

if TYPE_CHECKING:
    from suite.conversion import DeviceConversion
    from suite.oneshot.result import OneShotResult
    from suite.runner.spec import RunResult

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


def source_kind(source: str, index: int, in_file: np.ndarray | None = None) -> str:
    """``table``, ``live`` (trained under the table's budget) or ``missing``.

    A cell trained live earlier in the same comparison is in the table in memory when a later
    run derives it again; ``in_file`` (per cell index: did the file hold it before the runs?)
    keeps such a cell ``live``.
    """
    if source == "table":
        return "table" if in_file is None or bool(in_file[index]) else "live"
    return "live" if source.startswith("live") else "missing"


def table_conversion(table: Any, dataset: str) -> DeviceConversion:
    """:func:`suite.conversion.conversion_for`; a CPU table with no FLOPs or trained cell counts 1:1."""
    from suite.conversion import DeviceConversion, conversion_for

    with (
        warnings.catch_warnings(),
        contextlib.suppress(NasuiteError, KeyError, ValueError, ZeroDivisionError),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)
        conversion = conversion_for(table, dataset)
        if math.isfinite(conversion.speedup) and conversion.speedup > 0:
            return conversion
    return DeviceConversion(
        "CPU",
        1.0,
        "the table was timed on a CPU with no known training rate: CPU seconds counted as GPU seconds",
    )


def table_seconds(result: OneShotResult, conversion: DeviceConversion) -> tuple[float, str]:
    """A one-shot run's measured seconds in the table's seconds, with the assumption in words."""
    if result.device.startswith("cuda"):
        return result.search_seconds * conversion.speedup, (
            f"one-shot ran on a GPU; its seconds x {conversion.speedup:.3g} = the table's seconds "
            f"({conversion.assumption})"
        )
    if conversion.device == "CPU":
        return result.search_seconds, (
            "one-shot wall seconds on this CPU counted second for second against the table's CPU "
            "training seconds (the same machine assumed)"
        )
    return result.search_seconds, (
        f"one-shot ran on a CPU but the table's seconds are {conversion.device} seconds: counted second "
        "for second, which gives the baselines more time than a GPU would"
    )


def _stats(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    mean = float(arr.mean()) if arr.size else math.nan
    return mean, float(arr.std(ddof=1)) if arr.size > 1 else math.nan


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else math.nan


def oneshot_row(
    strategy: str,
    results: Sequence[OneShotResult],
    optimum: float,
    conversion: DeviceConversion,
    failed: int,
    in_file: np.ndarray | None = None,
) -> OneShotRow:
    """Summarise one strategy's runs; regret is against ``optimum`` (one figure for every row)."""
    accuracies = tuple(r.accuracy for r in results)
    mean, std = _stats(accuracies)
    seconds = tuple(r.search_seconds for r in results)
    return OneShotRow(
        strategy=strategy,
        seeds=tuple(r.seed for r in results),
        cells=tuple(r.arch for r in results),
        accuracies=accuracies,
        sources=tuple(source_kind(r.accuracy_source, r.index, in_file) for r in results),
        accuracy_mean=mean,
        accuracy_std=std,
        regret_mean=optimum - mean,
        skip_share_mean=_stats([r.skip_share for r in results])[0],
        search_seconds=seconds,
        search_seconds_median=_median(seconds),
        table_seconds_median=_median([table_seconds(r, conversion)[0] for r in results]),
        gpu_days_median=_median([r.gpu_days for r in results]),
        failed=failed,
    )


def baseline_row(
    strategy: str, at_cost_of: str, budget: float, runs: Sequence[RunResult], optimum: float, speedup: float
) -> BaselineRow:
    """Summarise one baseline's runs; a run that finished no evaluation within the budget has no result."""
    ok = [r for r in runs if not r.failed and r.evaluations]
    mean, std = _stats([r.final for r in ok])
    seconds = [r.simulated_seconds for r in runs if not r.failed]
    median = float(np.median(seconds)) if seconds else math.nan
    return BaselineRow(
        strategy=strategy,
        at_cost_of=at_cost_of,
        budget_seconds=budget,
        runs=len(runs),
        without_result=len(runs) - len(ok),
        accuracy_mean=mean,
        accuracy_std=std,
        regret_mean=optimum - mean,
        evaluations_median=float(np.median([len(r.evaluations) for r in runs])) if runs else math.nan,
        simulated_seconds_median=median,
        simulated_seconds_max=max(seconds) if seconds else math.nan,
        gpu_days_median=median / speedup / SECONDS_PER_DAY,
        cells=tuple(r.evaluations[-1].incumbent for r in ok),
    )


def compare_oneshot(
    table: str | os.PathLike[str],
    settings: CompareSettings | None = None,
    on_result: Callable[[OneShotResult], None] | None = None,
) -> OneShotComparison:
    """Run ``settings`` on the built table at ``table`` (see the module docstring).

    Bad names, seeds and options raise before any training; a one-shot run that raises is
    recorded with its traceback and the others go on. ``on_result`` sees each finished run.
    """
    from suite.oneshot.base import get_oneshot
    from suite.oneshot.clock import OneShotClock
    from suite.oneshot.result import report_name
    from suite.oneshot.run import open_benchmark
    from suite.oneshot.setup import prepare
    from suite.runner.parallel import BenchmarkSpec, run_many
    from suite.runner.spec import SearchSpec

    s = settings if settings is not None else CompareSettings()
    started = time.perf_counter()
    path = str(table)
    benchmark = open_benchmark(path, s.search)
    bench = BenchmarkSpec(path, benchmark.dataset, s.search)
    if s.baselines:
        bench.open()  # a table the baselines cannot search (nothing trained yet) fails here
    table_ = benchmark.table
    report = ""
    optimum, optimum_arch = math.nan, ""
    with contextlib.suppress(NasuiteError):  # an empty table (opened live) has no optimum yet
        report = report_name(table_, benchmark.dataset, str(s.options.get("report", "test")))
        row, optimum = table_.optimum(benchmark.dataset, report)
        optimum_arch = benchmark.space.to_str(table_.arch(row))
    in_file = None  # which cells the file held before any run trained one live
    if hasattr(benchmark, "metric_by_index") and report:
        with contextlib.suppress(NasuiteError):
            in_file = np.isfinite(benchmark.metric_by_index(report)).copy()
    conversion = table_conversion(table_, benchmark.dataset)
    data = prepare(benchmark, s.device, data_root=s.data_root).data  # loaded once for every run

    results: list[OneShotResult] = []
    failures: list[dict[str, Any]] = []
    loop_started = time.perf_counter(), time.process_time()
    for name in s.strategies:
        for seed in s.seeds:
            try:
                searcher = get_oneshot(name)(seed=seed, device=s.device, **s.options_for(name))
                clock = OneShotClock(budget_seconds=s.budget_seconds)
                result = searcher.search(benchmark, clock, data=data)
            except Exception:
                failures.append({"strategy": name, "seed": seed, "error": traceback.format_exc()})
                continue
            results.append(result)
            if on_result is not None:
                on_result(result)
    loop = (time.perf_counter() - loop_started[0], time.process_time() - loop_started[1])

    rows = tuple(
        oneshot_row(
            name,
            [r for r in results if r.strategy == name],
            optimum,
            conversion,
            sum(f["strategy"] == name for f in failures),
            in_file,
        )
        for name in s.strategies
    )
    groups: list[tuple[str, float]] = []
    note = "no one-shot run finished: no baseline was run"
    if results:
        note = table_seconds(results[0], conversion)[1]
        if s.budget == "median":
            seconds = [table_seconds(r, conversion)[0] for r in results]
            groups = [("median of all one-shot runs", float(np.median(seconds)))]
        else:
            groups = [
                (r.strategy, r.table_seconds_median) for r in rows if math.isfinite(r.table_seconds_median)
            ]
    baselines: list[BaselineRow] = []
    if s.baselines:
        for at_cost_of, budget in groups:
            specs = [SearchSpec(b, budget_seconds=budget, report=report) for b in s.baselines]
            done = [
                r for _, batch in run_many([bench], specs, range(s.baseline_runs), s.workers) for r in batch
            ]
            for b in s.baselines:
                runs = sorted((r for r in done if r.strategy == b), key=lambda r: r.seed)
                baselines.append(baseline_row(b, at_cost_of, budget, runs, optimum, conversion.speedup))
    return OneShotComparison(
        table=path,
        dataset=benchmark.dataset,
        report=report,
        optimum=optimum,
        optimum_arch=optimum_arch,
        settings=s,
        results=tuple(results),
        rows=rows,
        baselines=tuple(baselines),
        failures=tuple(failures),
        budget_note=f"baselines' budget: {s.budget}; {note}",
        conversion={
            "device": conversion.device,
            "speedup": conversion.speedup,
            "assumption": conversion.assumption,
        },
        wall_seconds=time.perf_counter() - started,
        loop_seconds=loop,
    )
