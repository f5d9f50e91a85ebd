"""Speed of the NB201 protocol: 4 strategies x 500 runs of 12,000 simulated seconds on CIFAR-10.

Run with timing: ``pytest tests/benchmarks/test_search_speed.py --benchmark-only --runslow``.
Without ``--runslow`` a 4 x 20-run version keeps the default test run fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from suite.runner import SearchSpec
from suite.runner.parallel import BenchmarkSpec, run_many

STRATEGIES = ("random", "evolution", "reinforce", "bohb")


def _protocol(table: Path, runs: int, workers: int) -> list:  # type: ignore[type-arg]
    bench = BenchmarkSpec(str(table), "cifar10", "test", time_dataset="cifar10-valid")
    specs = [SearchSpec(s, budget_seconds=12_000, fidelity=12, report="test@200") for s in STRATEGIES]
    return [r for _, rs in run_many([bench], specs, range(runs), workers=workers) for r in rs]


def _check(results: list, runs: int) -> None:  # type: ignore[type-arg]
    assert len(results) == len(STRATEGIES) * runs and not any(r.failed for r in results)
    finals = np.array([r.final for r in results])
    assert np.all((finals > 80) & (finals <= 94.3734))


def test_nb201_protocol_small(benchmark, nb201_table_path: Path) -> None:  # type: ignore[no-untyped-def]
    results = benchmark.pedantic(_protocol, args=(nb201_table_path, 20, 0), rounds=1, iterations=1)
    _check(results, 20)


@pytest.mark.slow
def test_nb201_protocol_500_runs_each(benchmark, nb201_table_path: Path) -> None:  # type: ignore[no-untyped-def]
    results = benchmark.pedantic(_protocol, args=(nb201_table_path, 500, 2), rounds=1, iterations=1)
    _check(results, 500)
