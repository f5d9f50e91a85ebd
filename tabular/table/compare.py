"""Which of two build settings ranks architectures more repeatably, on the same classes.

A preset is chosen by its seed-to-seed Kendall tau (the noise ceiling of any predictor or
search on the table; Siems et al. 2020, NAS-Bench-301). Two settings differ by a few hundredths
of tau, less than the width of either table's own bootstrap interval, so the comparison is
paired: both tables are read on the isomorphism classes each holds with both seeds, and the
bootstrap resamples the same classes for both (Efron & Tibshirani 1993, ch. 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tabular.errors import TableError
from tabular.table.stats import class_rows, kendall_over_draws, rank_agreement, seed_noise_sd
from tabular.table.table import Table


@dataclass(frozen=True)
class SeedPairs:
    """One table's ``metric`` for two seeds over the shared classes (aligned across tables)."""

    first: np.ndarray
    second: np.ndarray


def compare_seed_agreement(
    baseline: Table,
    candidate: Table,
    dataset: str,
    metric: str,
    rng: np.random.Generator,
    seeds: tuple[int, int] = (0, 1),
    resamples: int = 400,
    candidate_metric: str | None = None,
) -> dict[str, Any]:
    """Seed-to-seed agreement of both tables on shared classes, and a paired interval of the gain.

    ``candidate_metric`` (default ``metric``) reads the candidate differently, e.g. ``test@1``
    against the baseline's ``test@2`` when the two budgets train for different epochs.
    ``tau_difference`` is tau(candidate) - tau(baseline); ``tau_difference_ci95`` its 95 %
    percentile-bootstrap interval over ``resamples`` draws of classes.
    """
    if resamples < 1:
        raise TableError(f"resamples must be a positive number, got {resamples}")
    candidate_metric = candidate_metric or metric
    base, cand = _shared_pairs(baseline, candidate, dataset, (metric, candidate_metric), seeds)
    draws = rng.integers(0, base.first.size, size=(resamples, base.first.size))
    differences = kendall_over_draws(cand.first, cand.second, draws) - kendall_over_draws(
        base.first, base.second, draws
    )
    low, high = np.nanpercentile(differences, [2.5, 97.5])
    agreement = {"baseline": _agreement(base), "candidate": _agreement(cand)}
    return {
        "dataset": dataset,
        "metric": metric,
        "candidate_metric": candidate_metric,
        "seeds": list(seeds),
        "classes": int(base.first.size),
        "baseline": agreement["baseline"] | {"budget": baseline.provenance.get("budget")},
        "candidate": agreement["candidate"] | {"budget": candidate.provenance.get("budget")},
        "tau_difference": agreement["candidate"]["kendall_tau"] - agreement["baseline"]["kendall_tau"],
        "tau_difference_ci95": [float(low), float(high)],
        "resamples": resamples,
    }


def _shared_pairs(
    baseline: Table, candidate: Table, dataset: str, metrics: tuple[str, str], seeds: tuple[int, int]
) -> tuple[SeedPairs, SeedPairs]:
    if baseline.space.name != candidate.space.name:
        raise TableError(
            f"tables hold different spaces ({baseline.space.name!r} and {candidate.space.name!r}); "
            "expected two tables of one space"
        )
    for table in (baseline, candidate):
        missing = sorted(set(seeds) - set(table.seeds(dataset)))
        if missing:
            raise TableError(
                f"a table holds seeds {table.seeds(dataset)} for {dataset!r}, not {missing}; "
                "expected both seeds compared in both tables"
            )
    rows = [class_rows(t, dataset, seeds) for t in (baseline, candidate)]
    _, in_base, in_cand = np.intersect1d(
        baseline.iso_class[rows[0]], candidate.iso_class[rows[1]], return_indices=True
    )
    pairs = [
        SeedPairs(*(t.metric(dataset, metric, seed=s, rows=r) for s in seeds))
        for t, r, metric in (
            (baseline, rows[0][in_base], metrics[0]),
            (candidate, rows[1][in_cand], metrics[1]),
        )
    ]
    finite = np.logical_and.reduce([np.isfinite(v) for p in pairs for v in (p.first, p.second)])
    if finite.sum() < 3:
        raise TableError(
            f"the tables share {int(finite.sum())} classes measured with seeds {list(seeds)} on "
            f"{dataset!r} {' and '.join(sorted(set(metrics)))}; expected at least 3"
        )
    base, cand = (SeedPairs(p.first[finite], p.second[finite]) for p in pairs)
    return base, cand


def _agreement(pairs: SeedPairs) -> dict[str, float]:
    """Rank agreement, seed noise (sd of one run) and spread (IQR of the seed mean)."""
    mean = (pairs.first + pairs.second) / 2
    q1, q3 = np.percentile(mean, [25, 75])
    return rank_agreement(pairs.first, pairs.second) | {
        "seed_noise_sd": seed_noise_sd(pairs.first - pairs.second),
        "mean_accuracy": float(mean.mean()),
        "accuracy_iqr": float(q3 - q1),
    }
