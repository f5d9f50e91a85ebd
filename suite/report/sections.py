"""The report's measurements besides search: proxy correlations, surrogate quality, build cost."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tabular.table import RunStatus, Table


@dataclass(frozen=True)
class ProxySection:
    spearman: dict[str, float]
    cells: int
    ceiling: float | None


def proxy_correlations(table: Table, dataset: str, metric: str) -> ProxySection:
    """|Spearman rho| of every stored proxy with ``metric`` over trained, non-degenerate classes."""
    from surrogates.evaluation import noise_ceiling, spearman_rho
    from surrogates.report import evaluation_rows

    rows = evaluation_rows(table, dataset, metric)
    target = table.metric(dataset, metric, rows=rows)
    out = {}
    for proxy in table.zero_cost_names(dataset):
        scores = table.zero_cost(dataset, proxy, rows=rows)
        out[proxy] = abs(spearman_rho(target, scores))
    return ProxySection(out, int(rows.size), _ceiling(table, dataset, metric, noise_ceiling, "spearman_rho"))


def _ceiling(table: Table, dataset: str, metric: str, noise_ceiling: Any, key: str) -> float | None:
    seeds = [s for s in table.seeds(dataset) if s >= 0]
    if len(seeds) < 2:
        return None
    value = noise_ceiling(table, dataset, metric, (seeds[0], seeds[1])).get(key)
    return None if value is None or not math.isfinite(value) else float(value)


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
    table: Table, dataset: str, metric: str, model: str = "xgb", train_fraction: float = 0.5, seed: int = 0
) -> SurrogateSection:
    """One random split of the trained classes: fit ``model``, score the held-out ones."""
    from surrogates.encodings import make_features
    from surrogates.evaluation import evaluate, noise_ceiling
    from surrogates.predictors import PREDICTORS, predictor_for
    from surrogates.report import evaluation_rows

    rows = evaluation_rows(table, dataset, metric)
    rng = np.random.default_rng(seed)
    order = rng.permutation(rows.size)
    cut = max(2, round(train_fraction * rows.size))
    train, test = rows[order[:cut]], rows[order[cut:]]
    encoding = PREDICTORS.get(model).encoding
    features = make_features(table.space, table.choices[rows], encoding)
    lookup = {int(r): i for i, r in enumerate(rows)}
    x_train = features[[lookup[int(r)] for r in train]]
    x_test = features[[lookup[int(r)] for r in test]]
    predictor = predictor_for(model, table.space, seed=seed).fit(
        x_train, table.metric(dataset, metric, rows=train)
    )
    true = table.metric(dataset, metric, rows=test)
    predicted = predictor.predict(x_test)
    seeds = [s for s in table.seeds(dataset) if s >= 0]
    ceiling = noise_ceiling(table, dataset, metric, (seeds[0], seeds[1])) if len(seeds) > 1 else {}
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
    status = table.status(dataset)
    epochs = max(table.epochs(dataset))
    seeds, seconds = table.metric_by_seed(dataset, f"train_seconds@{epochs}")
    total, runs = 0.0, 0
    for column, seed in enumerate(table.seeds(dataset)):
        if seed not in seeds:
            continue
        trained = (status[:, column] == RunStatus.OK) & ~table.degenerate
        _, first = np.unique(table.iso_class[trained], return_index=True)
        rows = np.flatnonzero(trained)[first]
        values = seconds[rows, seeds.index(seed)]
        total += float(np.nansum(values))
        runs += int(rows.size)
    wall = float(table.provenance.get("total_wall_seconds", math.nan))
    return BuildCost(runs, total, wall)
