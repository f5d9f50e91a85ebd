"""Strategies x runs x benchmarks, in this process, a spawned process pool, or on Ray.

Workers receive a :class:`BenchmarkSpec` (a table path and what to search on), never a loaded
table, and keep each opened benchmark for the seeds they are given, so a 2,000-run comparison
pays for opening the table once per worker. Each run is deterministic given its seed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from suite.benchmarks.tabular import TabularBenchmark
from suite.errors import SearchSettingsError
from suite.runner.loop import run_search
from suite.runner.setup import RunSetup, build_setup
from suite.runner.spec import RunResult, SearchSpec


@dataclass(frozen=True)
class BenchmarkSpec:
    """A tabular benchmark by file: ``dataset`` searched on ``search``; costs from the table.

    Where the table lacks train times for cells it holds (NB201's published CSVs), a
    :class:`~suite.costs.TrainTimeModel` fitted on the recorded ones fills in.
    """

    table: str
    dataset: str
    search: str = "valid"
    time_dataset: str | None = None
    fidelities: tuple[int, ...] | None = None

    def open(self) -> tuple[TabularBenchmark, Any]:
        return _open(self)

    @property
    def label(self) -> str:
        return f"{self.table}:{self.dataset}:{self.search}"


@cache
def _open(spec: BenchmarkSpec) -> tuple[TabularBenchmark, Any]:
    from suite.costs import TrainTimeModel
    from tabular.table import Table

    table = Table.open(spec.table)
    benchmark = TabularBenchmark(table, spec.dataset, spec.search, spec.time_dataset, spec.fidelities)
    needed = _needs_cost_model(benchmark)
    return benchmark, (TrainTimeModel.fit(table, benchmark.time_dataset) if needed else None)


def _needs_cost_model(benchmark: TabularBenchmark) -> bool:
    have = benchmark.available_by_index()
    for epoch in benchmark.fidelities:
        seconds = benchmark.metric_by_index(f"train_seconds@{epoch}", benchmark.time_dataset)
        if not np.isfinite(seconds[have]).all():
            return True
    return False


@cache
def _setup(bspec: BenchmarkSpec, spec: SearchSpec) -> RunSetup:
    benchmark, cost_model = _open(bspec)
    return build_setup(benchmark, spec, cost_model)


def run_batch(bspec: BenchmarkSpec, spec: SearchSpec, seeds: Sequence[int]) -> list[RunResult]:
    """Every seed of one (benchmark, strategy) pair, in this process."""
    benchmark, _ = _open(bspec)
    setup = _setup(bspec, spec)
    return [run_search(benchmark, spec, int(seed), setup=setup) for seed in seeds]


@dataclass(frozen=True)
class Batch:
    benchmark: BenchmarkSpec
    spec: SearchSpec
    seeds: tuple[int, ...]


def plan_batches(
    benchmarks: Sequence[BenchmarkSpec], specs: Sequence[SearchSpec], seeds: Sequence[int], chunks: int
) -> list[Batch]:
    """Split the seeds of every (benchmark, spec) into ``chunks`` contiguous batches."""
    if not seeds:
        raise SearchSettingsError("runs must be >= 1")
    batches = []
    for bspec in benchmarks:
        for spec in specs:
            for part in np.array_split(np.asarray(seeds), max(1, min(chunks, len(seeds)))):
                if len(part):
                    batches.append(Batch(bspec, spec, tuple(int(s) for s in part)))
    return batches


def run_many(
    benchmarks: Sequence[BenchmarkSpec],
    specs: Sequence[SearchSpec],
    seeds: Sequence[int],
    workers: int = 0,
    ray: str | None = None,
) -> Iterator[tuple[Batch, list[RunResult]]]:
    """Yield each batch's results as it finishes; ``workers=0`` runs here, ``ray`` on Ray."""
    for bspec in benchmarks:  # fail fast, here, on a bad table, dataset or constraint
        for spec in specs:
            _setup(bspec, spec)
    chunks = 1 if workers <= 0 and not ray else 4 * max(workers, 1)
    batches = plan_batches(benchmarks, specs, seeds, chunks)
    if ray:
        yield from _run_ray(batches, ray, workers)
    elif workers <= 0:
        for batch in batches:
            yield batch, run_batch(batch.benchmark, batch.spec, batch.seeds)
    else:
        yield from _run_pool(batches, workers)


def _one_thread_per_worker() -> None:
    """Pool initializer: one math thread per worker unless the user chose a count.

    Each of W workers would otherwise start as many torch/OpenMP threads as there are cores;
    strategies that fit small networks (BANANAS's ensemble) then ran ~5x slower on 2 cores.
    Set before torch is imported in the (spawned) worker, so it takes effect.
    """
    import os

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _run_pool(batches: list[Batch], workers: int) -> Iterator[tuple[Batch, list[RunResult]]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread_per_worker) as pool:
        futures = {pool.submit(run_batch, b.benchmark, b.spec, b.seeds): b for b in batches}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _run_ray(batches: list[Batch], address: str, workers: int) -> Iterator[tuple[Batch, list[RunResult]]]:
    import ray

    started = False
    if not ray.is_initialized():
        if address == "local":
            ray.init(
                num_cpus=max(workers, 1),
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        started = True
    try:
        task = ray.remote(num_cpus=1)(run_batch)
        refs = {task.remote(b.benchmark, b.spec, b.seeds): b for b in batches}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield refs[ref], ray.get(ref)
    finally:
        if started:
            ray.shutdown()
