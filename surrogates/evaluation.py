"""How good a performance estimate is: rank and regression metrics, sweeps and the noise ceiling.

Metrics follow NAS-Bench-301 (Siems et al. 2020: R², Kendall tau and *sparse* Kendall tau,
where accuracies are rounded to 0.1 % so that ties between near-identical architectures do
not count as disagreements) and White et al. 2021 (Spearman, Pearson, top-k precision). The
noise ceiling is the same metric between two training seeds of the same cells: no predictor
can agree with one seed better than another seed does (on average).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

METRICS = ("kendall_tau", "sparse_kendall_tau", "spearman_rho", "pearson_r", "r2", "top10_precision")


def _finite_pairs(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    keep = np.isfinite(y_true) & np.isfinite(y_pred)
    return y_true[keep], y_pred[keep]


def kendall_tau(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from scipy import stats

    a, b = _finite_pairs(y_true, y_pred)
    return float(stats.kendalltau(a, b).statistic) if a.size >= 2 else float("nan")


def sparse_kendall_tau(y_true: np.ndarray, y_pred: np.ndarray, decimals: int = 1) -> float:
    """Kendall tau after rounding both to ``decimals`` (0.1 % for accuracies in %), as NAS-Bench-301."""
    a, b = _finite_pairs(y_true, y_pred)
    return kendall_tau(np.round(a, decimals), np.round(b, decimals))


def spearman_rho(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from scipy import stats

    a, b = _finite_pairs(y_true, y_pred)
    return float(stats.spearmanr(a, b).statistic) if a.size >= 2 else float("nan")


def pearson_r(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    a, b = _finite_pairs(y_true, y_pred)
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination of ``y_pred`` as a prediction of ``y_true`` (can be negative)."""
    a, b = _finite_pairs(y_true, y_pred)
    if a.size < 2:
        return float("nan")
    total = float(((a - a.mean()) ** 2).sum())
    return 1.0 - float(((a - b) ** 2).sum()) / total if total > 0 else float("nan")


def top_k_precision(y_true: np.ndarray, y_pred: np.ndarray, fraction: float = 0.1) -> float:
    """Share of the true best ``fraction`` of cells that the prediction also puts in its best ``fraction``."""
    a, b = _finite_pairs(y_true, y_pred)
    k = max(1, round(fraction * a.size))
    if a.size == 0:
        return float("nan")
    best_true = set(np.argsort(-a, kind="stable")[:k].tolist())
    best_pred = set(np.argsort(-b, kind="stable")[:k].tolist())
    return len(best_true & best_pred) / k


def evaluate(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Every metric in :data:`METRICS` for one prediction."""
    return {
        "kendall_tau": kendall_tau(y_true, y_pred),
        "sparse_kendall_tau": sparse_kendall_tau(y_true, y_pred),
        "spearman_rho": spearman_rho(y_true, y_pred),
        "pearson_r": pearson_r(y_true, y_pred),
        "r2": r2(y_true, y_pred),
        "top10_precision": top_k_precision(y_true, y_pred, 0.1),
    }


@dataclass(frozen=True)
class SweepPoint:
    """Metrics of a predictor trained on ``train_size`` cells, over ``repeats`` random splits."""

    train_fraction: float
    train_size: int
    repeats: int
    mean: dict[str, float]
    std: dict[str, float]
    fit_seconds: float


def train_size_sweep(
    make_model: Callable[[int], Any],
    features: np.ndarray,
    targets: np.ndarray,
    fractions: Sequence[float],
    repeats: int,
    seed: int,
    test_rows: np.ndarray | None = None,
) -> list[SweepPoint]:
    """Fit ``make_model(split_seed)`` on random subsets and score it on the cells left out.

    Cells with a NaN target are never used. ``test_rows`` fixes the held-out set (for example
    one cell per isomorphism class); by default every cell not trained on is held out.
    """
    import time

    usable = np.flatnonzero(np.isfinite(targets))
    rng = np.random.default_rng(seed)
    points = []
    for fraction in fractions:
        size = max(2, round(fraction * usable.size))
        runs: list[dict[str, float]] = []
        seconds = 0.0
        for _ in range(repeats):
            split_seed = int(rng.integers(2**31))
            train = np.random.default_rng(split_seed).choice(usable, size=size, replace=False)
            held = np.setdiff1d(usable if test_rows is None else np.intersect1d(test_rows, usable), train)
            tic = time.perf_counter()
            model = make_model(split_seed).fit(features[train], targets[train])
            seconds += time.perf_counter() - tic
            runs.append(evaluate(targets[held], model.predict(features[held])))
        points.append(
            SweepPoint(
                train_fraction=float(fraction),
                train_size=size,
                repeats=repeats,
                mean={m: float(np.nanmean([r[m] for r in runs])) for m in METRICS},
                std={m: float(np.nanstd([r[m] for r in runs])) for m in METRICS},
                fit_seconds=seconds / repeats,
            )
        )
    return points


def noise_ceiling(table: Any, dataset: str, metric: str, seeds: tuple[int, int]) -> dict[str, Any]:
    """Every metric of seed ``seeds[1]`` as a 'prediction' of seed ``seeds[0]``, one row per class."""
    from tabular.table.stats import class_rows

    rows = class_rows(table, dataset, seeds)
    if rows.size < 3:
        return {"dataset": dataset, "metric": metric, "seeds": list(seeds), "classes": int(rows.size)}
    a = table.metric(dataset, metric, seed=seeds[0], rows=rows)
    b = table.metric(dataset, metric, seed=seeds[1], rows=rows)
    return {
        "dataset": dataset,
        "metric": metric,
        "seeds": list(seeds),
        "classes": int(rows.size),
        **evaluate(a, b),
    }


def as_fraction_of_ceiling(scores: dict[str, float], ceiling: dict[str, Any]) -> dict[str, float]:
    """Each metric divided by the same metric between two seeds (1.0 = as good as the data allow)."""
    out = {}
    for name in METRICS:
        limit = ceiling.get(name)
        if isinstance(limit, float) and np.isfinite(limit) and limit != 0:
            out[name] = scores[name] / limit
    return out
