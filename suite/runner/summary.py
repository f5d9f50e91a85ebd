"""Per-strategy summaries of many runs: final accuracy, regret, evaluations and search cost."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from suite.clock import BASELINES, gpu_days
from suite.runner.spec import RunResult

#: Distances to the optimum (accuracy points) for "evaluations needed to get within".
WITHIN = (0.1, 0.5, 1.0)


@dataclass(frozen=True)
class StrategySummary:
    """Mean ± std over runs (failed runs counted apart)."""

    strategy: str
    runs: int
    failed: int
    final_mean: float
    final_std: float
    regret_mean: float
    evaluations_median: float
    simulated_seconds_median: float
    gpu_days_median: float
    wall_seconds_mean: float
    evaluations_within: dict[float, float]

    def as_dict(self) -> dict[str, object]:
        out = dict(self.__dict__)
        out["evaluations_within"] = {str(k): v for k, v in self.evaluations_within.items()}
        days = self.gpu_days_median
        out["times_cheaper"] = {b.name: (b.gpu_days / days if days > 0 else None) for b in BASELINES}
        return out


def evaluations_to_reach(run: RunResult, target: float) -> float:
    """The first evaluation count at which the incumbent's final metric is >= ``target`` (NaN: never)."""
    for e in run.evaluations:
        if e.incumbent_final >= target:
            return float(e.number + 1)
    return math.nan


def summarise(
    runs: Sequence[RunResult], optimum: float = math.nan, speedup: float = 1.0
) -> list[StrategySummary]:
    """One summary per strategy, in first-seen order; ``optimum`` gives regret and within-x counts."""
    groups: dict[str, list[RunResult]] = defaultdict(list)
    for run in runs:
        groups[run.strategy].append(run)
    out = []
    for name, group in groups.items():
        ok = [r for r in group if not r.failed and r.evaluations]
        finals = np.array([r.final for r in ok], dtype=float)
        seconds = np.array([r.simulated_seconds for r in ok], dtype=float)
        within = {}
        for gap in WITHIN:
            counts = np.array([evaluations_to_reach(r, optimum - gap) for r in ok])
            # a run that never gets there counts as infinitely many evaluations (median over all runs)
            within[gap] = float(np.median(np.where(np.isnan(counts), np.inf, counts))) if ok else math.nan
        out.append(
            StrategySummary(
                strategy=name,
                runs=len(group),
                failed=len(group) - len(ok),
                final_mean=_mean(finals),
                final_std=float(finals.std(ddof=1)) if len(finals) > 1 else math.nan,
                regret_mean=_mean(optimum - finals),
                evaluations_median=_median([len(r.evaluations) for r in ok]),
                simulated_seconds_median=_median(seconds),
                gpu_days_median=gpu_days(_median(seconds), speedup),
                wall_seconds_mean=_mean([r.elapsed_seconds for r in ok]),
                evaluations_within=within,
            )
        )
    return out


def _mean(values: Sequence[float] | np.ndarray) -> float:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()) if arr.size else math.nan


def _median(values: Sequence[float] | np.ndarray) -> float:
    arr = np.asarray(values, dtype=float)
    return float(np.median(arr)) if arr.size else math.nan
