"""The report's measurements besides search: proxy correlations, surrogate quality, build cost."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tabular.table import Table


@dataclass(frozen=True)
class ProxySection:
    spearman: dict[str, float]
    cells: int
    ceiling: float | None


def seed_ceiling(table: Table, dataset: str, metric: str) -> dict[str, Any]:
    """Seed 1 as a 'prediction' of seed 0 over shared classes ({} when the table has one seed)."""
    from surrogates.evaluation import noise_ceiling

    seeds = [s for s in table.seeds(dataset) if s >= 0]
    return noise_ceiling(table, dataset, metric, (seeds[0], seeds[1])) if len(seeds) > 1 else {}


def proxy_correlations(
    table: Table, dataset: str, metric: str, ceiling: dict[str, Any] | None = None
) -> ProxySection:
    """|Spearman rho| of every stored proxy with ``metric`` over trained, non-degenerate classes."""
    from surrogates.evaluation import spearman_rho
    from surrogates.report import evaluation_rows

    rows = evaluation_rows(table, dataset, metric)
    target = table.metric(dataset, metric, rows=rows)
    out = {}
    for proxy in table.zero_cost_names(dataset):
        scores = table.zero_cost(dataset, proxy, rows=rows)
        out[proxy] = abs(spearman_rho(target, scores))
    ceiling = seed_ceiling(table, dataset, metric) if ceiling is None else ceiling
    value = ceiling.get("spearman_rho")
    finite = value if isinstance(value, float) and math.isfinite(value) else None
    return ProxySection(out, int(rows.size), finite)


@dataclass(frozen=True)
class SurrogateSection:
    model: str
    train_cells: int
    test_cells: int
    scores: dict[str, float]
    ceiling: dict[str, Any]
    true: np.ndarray
    predicted: np.ndarray


def surrogate_quality(
    table: Table,
    dataset: str,
    metric: str,
    model: str = "xgb",
    train_fraction: float = 0.5,
    seed: int = 0,
    ceiling: dict[str, Any] | None = None,
) -> SurrogateSection:
    """One random split of the trained classes: fit ``model``, score the held-out ones."""
    from surrogates.encodings import make_features
    from surrogates.evaluation import evaluate
    from surrogates.predictors import PREDICTORS, predictor_for
    from surrogates.report import evaluation_rows

    rows = evaluation_rows(table, dataset, metric)
    rng = np.random.default_rng(seed)
    order = rng.permutation(rows.size)
    cut = max(2, round(train_fraction * rows.size))
    train, test = rows[order[:cut]], rows[order[cut:]]
    encoding = PREDICTORS.get(model).encoding
    features = make_features(table.space, table.choices[rows], encoding)
    x_train, x_test = features[order[:cut]], features[order[cut:]]
    predictor = predictor_for(model, table.space, seed=seed).fit(
        x_train, table.metric(dataset, metric, rows=train)
    )
    true = table.metric(dataset, metric, rows=test)
    predicted = predictor.predict(x_test)
    ceiling = seed_ceiling(table, dataset, metric) if ceiling is None else ceiling
    return SurrogateSection(
        model, int(train.size), int(test.size), evaluate(true, predicted), ceiling, true, predicted
    )


@dataclass(frozen=True)
class BuildCost:
    """What the table itself cost: trained runs and their recorded training seconds."""

    runs: int
    train_seconds: float
    wall_seconds: float


def build_cost(table: Table, dataset: str) -> BuildCost:
    """Sum of the recorded training time of every run actually trained (one per class and seed)."""
    from tabular.table.stats import class_rows

    epochs = max(table.epochs(dataset))
    seeds, seconds = table.metric_by_seed(dataset, f"train_seconds@{epochs}")
    total, runs = 0.0, 0
    for column, seed in enumerate(seeds):
        rows = class_rows(table, dataset, (seed,))  # one trained row per class
        total += float(np.nansum(seconds[rows, column]))
        runs += int(rows.size)
    wall = float(table.provenance.get("total_wall_seconds", math.nan))
    return BuildCost(runs, total, wall)
