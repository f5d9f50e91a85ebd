"""Every strategy x seed on the surrogate benchmark under the clock, and each strategy's best finds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from suite.benchmarks.surrogate import SurrogateBenchmark
from suite.constraints import parse_constraints
from suite.runner.loop import run_search
from suite.runner.setup import build_setup
from suite.runner.spec import RunResult, SearchSpec
from suite.surrogate_search.settings import SurrogateSearchSettings


@dataclass(frozen=True)
class Find:
    """One distinct architecture a strategy evaluated, with its surrogate prediction."""

    strategy: str
    arch: str
    predicted: float  #: the search metric the strategy saw
    seed: int  #: the first seed whose run evaluated it


def search_budget(median_train_seconds: float, evaluations: int) -> float:
    """Simulated seconds worth ``evaluations`` trainings of a median sampled architecture."""
    return float(median_train_seconds) * evaluations


def run_strategies(
    benchmark: SurrogateBenchmark, settings: SurrogateSearchSettings, budget_seconds: float
) -> list[RunResult]:
    """Run every strategy with every seed; a failing run is recorded (its traceback), not raised."""
    from tqdm import tqdm

    runs = []
    report = f"{settings.report}@{benchmark.fidelity}"
    bar = tqdm(
        total=len(settings.strategies) * len(settings.seeds),
        desc="search the surrogate",
        unit="run",
        disable=not settings.progress,
    )
    for strategy in settings.strategies:
        constraints = parse_constraints(settings.constraints)
        spec = SearchSpec(strategy, budget_seconds, constraints=constraints, report=report)
        setup = build_setup(benchmark, spec)
        for seed in settings.seeds:
            runs.append(run_search(benchmark, spec, seed, setup=setup))
            bar.update(1)
    bar.close()
    return runs


def top_finds(runs: Sequence[RunResult], strategy: str, k: int) -> list[Find]:
    """The ``k`` distinct architectures with the best predicted search metric over the strategy's runs."""
    best: dict[str, Find] = {}
    for run in (r for r in runs if r.strategy == strategy):
        for ev in run.evaluations:
            value = float(ev.values[0])
            if np.isfinite(value) and (ev.arch not in best or value > best[ev.arch].predicted):
                seed = best[ev.arch].seed if ev.arch in best else run.seed
                best[ev.arch] = Find(strategy, ev.arch, value, seed)
    return sorted(best.values(), key=lambda f: (-f.predicted, f.arch))[:k]
