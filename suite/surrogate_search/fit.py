"""Fit the surrogate on a sample table and measure it on architectures it did not see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from suite.benchmarks.surrogate import HardwareModel, SurrogateBenchmark
from suite.errors import SearchSettingsError
from suite.surrogate_search.settings import SurrogateSearchSettings
from surrogates.evaluation import as_fraction_of_ceiling, evaluate, noise_ceiling
from surrogates.report import evaluation_rows
from tabular.table import Table


@dataclass(frozen=True)
class FittedSurrogate:
    """The surrogate refitted on the whole sample, and what the held-out fit measured."""

    benchmark: SurrogateBenchmark
    quality: dict[str, Any]


def sample_rows(table: Table, dataset: str, metric: str) -> np.ndarray:
    """Rows of the uniform sample with a measured ``metric`` (rows trained on demand excluded)."""
    rows = evaluation_rows(table, dataset, metric)
    if "sample_order" in table.id_names():
        rows = rows[table.ids("sample_order")[rows] >= 0]
    return rows


def fit_surrogate(
    table: Table, dataset: str, settings: SurrogateSearchSettings, hardware: HardwareModel | None = None
) -> FittedSurrogate:
    """Fit on ``1 - holdout`` of the sample, score on the rest, then refit on all of it."""
    epoch = max(table.epochs(dataset))
    search, report = f"{settings.search}@{epoch}", f"{settings.report}@{epoch}"
    rows = sample_rows(table, dataset, search)
    if rows.size < 10:
        raise SearchSettingsError(
            f"the sample table has {rows.size} architectures with {search}; fit a surrogate on at least 10"
        )
    rng = np.random.default_rng(settings.seed)
    held = np.sort(rng.choice(rows, size=max(2, round(settings.holdout * rows.size)), replace=False))
    train = np.setdiff1d(rows, held)
    quantities = (settings.search, settings.report, "train_seconds")
    first = _fit(table, dataset, epoch, quantities, settings, train, hardware)
    predicted = first.predict(table.choices[held])
    quality: dict[str, Any] = {
        "sample": int(rows.size),
        "train": int(train.size),
        "held_out": int(held.size),
        "model": settings.model,
        "model_kwargs": dict(settings.model_kwargs),
    }
    for quantity, metric in ((settings.search, search), (settings.report, report)):
        truth = table.metric(dataset, metric, rows=held)
        quality[metric] = _scores(truth, predicted[quantity])
    seeds = [s for s in table.seeds(dataset) if s >= 0]
    if len(seeds) >= 2:
        ceiling = noise_ceiling(table, dataset, report, (seeds[0], seeds[1]))
        if ceiling["classes"] >= 3:
            quality["noise_ceiling"] = ceiling
            quality[report]["fraction_of_ceiling"] = as_fraction_of_ceiling(quality[report], ceiling)
    final = _fit(table, dataset, epoch, quantities, settings, rows, hardware)
    return FittedSurrogate(final, quality)


def _fit(
    table: Table,
    dataset: str,
    epoch: int,
    quantities: tuple[str, ...],
    settings: SurrogateSearchSettings,
    rows: np.ndarray,
    hardware: HardwareModel | None,
) -> SurrogateBenchmark:
    return SurrogateBenchmark.fit_from_table(
        table,
        dataset,
        fidelity=epoch,
        quantities=quantities,
        model=settings.model,
        seed=settings.seed,
        model_kwargs=settings.model_kwargs,
        search=settings.search,
        rows=rows,
        hardware=hardware,
    )


def _scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Rank and fit metrics, and the residuals (predicted - measured) the exploitation test uses."""
    residual = np.asarray(predicted, dtype=float) - np.asarray(truth, dtype=float)
    residual = residual[np.isfinite(residual)]
    return {
        **evaluate(truth, predicted),
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "bias": float(residual.mean()),
        "residual_q95": float(np.quantile(residual, 0.95)),
    }
