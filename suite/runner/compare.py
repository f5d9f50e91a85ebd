"""Several strategies x seeds on one tabular benchmark: runs, summaries, optimum and GPU-days."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from suite.conversion import DeviceConversion, conversion_for
from suite.runner.parallel import Batch, BenchmarkSpec, _open, _setup, run_many
from suite.runner.spec import RunResult, SearchSpec
from suite.runner.summary import StrategySummary, summarise


@dataclass(frozen=True)
class Comparison:
    """What a comparison produced; ``runs`` are ordered by strategy (as given), then seed."""

    runs: tuple[RunResult, ...]
    summaries: tuple[StrategySummary, ...]
    optimum: float
    conversion: DeviceConversion
    wall_seconds: float

    def summary(self, strategy: str) -> StrategySummary:
        return next(s for s in self.summaries if s.strategy == strategy)


def optimum_for(bench: BenchmarkSpec, spec: SearchSpec) -> float:
    """Best reported metric over the cells a search may propose (respects constraints)."""
    benchmark, _ = _open(bench)
    setup = _setup(bench, spec)
    report = spec.report or f"test@{max(benchmark.fidelities)}"
    values = benchmark.metric_by_index(report, spec.report_dataset)
    mask = setup.context.feasible if setup.context.feasible is not None else np.isfinite(values)
    return float(np.nanmax(np.where(mask, values, np.nan)))


def conversion_of(bench: BenchmarkSpec) -> DeviceConversion:
    benchmark, _ = _open(bench)
    return conversion_for(benchmark.table, bench.time_dataset or bench.dataset)


def run_comparison(
    bench: BenchmarkSpec,
    specs: Sequence[SearchSpec],
    seeds: Sequence[int],
    workers: int = 0,
    ray: str | None = None,
    on_batch: Callable[[Batch, list[RunResult]], None] | None = None,
) -> Comparison:
    """Run every spec for every seed (in parallel when asked) and summarise per strategy."""
    names = [s.strategy for s in specs]
    started = time.perf_counter()
    runs: list[RunResult] = []
    for batch, results in run_many([bench], specs, seeds, workers=workers, ray=ray):
        runs.extend(results)
        if on_batch is not None:
            on_batch(batch, results)
    wall = time.perf_counter() - started
    runs.sort(key=lambda r: (names.index(r.strategy), r.seed))
    optimum = optimum_for(bench, specs[0])
    conversion = conversion_of(bench)
    summaries = summarise(runs, optimum, conversion.speedup)
    return Comparison(tuple(runs), tuple(summaries), optimum, conversion, wall)
