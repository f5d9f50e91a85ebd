"""How repeatable a table is: seed-to-seed rank agreement and the spread of accuracies.

The seed-to-seed Kendall tau is the noise ceiling of any predictor or search on the table
(NAS-Bench-301, Siems et al. 2020, report the same quantity for their surrogates).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tabular.table.schema import RunStatus
from tabular.table.table import Table


def class_rows(table: Table, dataset: str, seeds: tuple[int, ...]) -> np.ndarray:
    """One row per isomorphism class measured (trained or imported) for every seed in ``seeds``."""
    status = table.status(dataset)
    cols = [table.seeds(dataset).index(s) for s in seeds]
    measured = (status[:, cols] == RunStatus.OK) | (status[:, cols] == RunStatus.IMPORTED)
    ok = np.all(measured, axis=1) & ~table.degenerate
    _, first = np.unique(table.iso_class[ok], return_index=True)
    return np.flatnonzero(ok)[first]


def seed_agreement(
    table: Table,
    dataset: str,
    metric: str,
    seeds: tuple[int, int] = (0, 1),
    rng: np.random.Generator | None = None,
    resamples: int = 400,
) -> dict[str, Any]:
    """Kendall tau, Spearman rho and Pearson r of ``metric`` between two seeds over shared classes.

    With ``rng``, also a 95 % percentile-bootstrap interval of Kendall tau over classes
    (``resamples`` draws), so a sample of a few hundred classes says how far it can be trusted.
    """

    if not set(seeds) <= set(table.seeds(dataset)):
        return {"classes": 0, "seeds": list(seeds)}
    rows = class_rows(table, dataset, seeds)
    a = table.metric(dataset, metric, seed=seeds[0], rows=rows)
    b = table.metric(dataset, metric, seed=seeds[1], rows=rows)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    out: dict[str, Any] = {"metric": metric, "seeds": list(seeds), "classes": int(a.size)}
    if a.size >= 3:
        out.update(rank_agreement(a, b))
        if rng is not None:
            out["kendall_tau_ci95"] = bootstrap_kendall_ci(a, b, rng, resamples)
    return out


def rank_agreement(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Kendall tau, Spearman rho, Pearson r and mean absolute difference of two aligned samples."""
    from scipy import stats

    return {
        "kendall_tau": float(stats.kendalltau(a, b).statistic),
        "spearman_rho": float(stats.spearmanr(a, b).statistic),
        "pearson_r": float(np.corrcoef(a, b)[0, 1]),
        "mean_abs_diff": float(np.mean(np.abs(a - b))),
    }


def bootstrap_kendall_ci(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, resamples: int
) -> list[float]:
    """2.5th and 97.5th percentiles of Kendall tau over resamples of the pairs (with replacement)."""
    draws = rng.integers(0, a.size, size=(resamples, a.size))
    low, high = np.nanpercentile(kendall_over_draws(a, b, draws), [2.5, 97.5])
    return [float(low), float(high)]


def kendall_over_draws(a: np.ndarray, b: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Kendall tau of ``(a[d], b[d])`` for each row ``d`` of index ``draws`` (bootstrap or subsample)."""
    from scipy import stats

    return np.array([stats.kendalltau(a[d], b[d]).statistic for d in draws], dtype=np.float64)


def seed_noise_sd(seed_difference: np.ndarray) -> float:
    """Standard deviation of one run from the differences of two seeds' runs: sd / sqrt(2)."""
    return float(np.std(seed_difference) / np.sqrt(2))


def accuracy_spread(table: Table, dataset: str, metric: str) -> dict[str, Any]:
    """Min / median / max of ``metric`` over trained, non-degenerate classes (seed mean)."""
    ok = (table.status(dataset) == RunStatus.OK).any(axis=1) & ~table.degenerate
    _, first = np.unique(table.iso_class[ok], return_index=True)
    values = table.metric(dataset, metric, rows=np.flatnonzero(ok)[first])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"classes": 0}
    return {
        "classes": int(values.size),
        "min": float(values.min()),
        "median": float(np.median(values)),
        "max": float(values.max()),
    }
