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
import math
import os
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from suite.clock import SECONDS_PER_DAY
from tabular.errors import NasuiteError

if TYPE_CHECKING:
    from suite.conversion import DeviceConversion
    from suite.oneshot.result import OneShotResult
    from suite.runner.spec import RunResult


from suite.oneshot.compare_rows import (  # noqa: F401  (re-exported: the comparison's public names)
    BUDGET_MODES,
    DEFAULT_BASELINES,
    DEFAULT_STRATEGIES,
    BaselineRow,
    CompareSettings,
    OneShotComparison,
    OneShotRow,
    _fields,
)


def source_kind(source: str, index: int, in_file: np.ndarray | None = None) -> str:
    """``table``, ``live`` (trained under the table's budget) or ``missing``.

    A cell trained live earlier in the same comparison is in the table in memory when a later
    run derives it again; ``in_file`` (per cell index: did the file hold it before the runs?)
    keeps such a cell ``live``.
    """
    if source == "table":
        return "table" if in_file is None or bool(in_file[index]) else "live"
    return "live" if source.startswith("live") else "missing"


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
    from suite.conversion import conversion_for
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
    conversion = conversion_for(table_, benchmark.dataset)  # 1:1 for a CPU table with no rate
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
