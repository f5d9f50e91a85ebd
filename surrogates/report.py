"""Predictor quality on a table: a train-size sweep and the table's own noise ceiling.

This is what ``nasuite surrogate eval`` prints. On a built table, isomorphic cells share
their values, so one row per isomorphism class is used (otherwise a held-out cell could be a
copy of a training cell); on a published table every cell was trained on its own and all
cells are used, as in White et al. 2021.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from surrogates.encodings import make_features
from surrogates.evaluation import as_fraction_of_ceiling, noise_ceiling, train_size_sweep
from tabular.errors import UnknownMetricError
from tabular.table import RunStatus, Table


def evaluation_rows(
    table: Table, dataset: str, metric: str, per_class: bool | None = None, include_degenerate: bool = False
) -> np.ndarray:
    """Rows with a finite target, one per isomorphism class on built tables (see module doc).

    Degenerate cells (chance accuracy by construction) are left out of evaluations, where
    they would flatter every predictor, unless ``include_degenerate`` (a surrogate that must
    answer for the whole space needs them).
    """
    values = table.metric(dataset, metric)
    usable = np.isfinite(values) & (include_degenerate | ~table.degenerate)
    if per_class is None:
        per_class = table.provenance.get("kind") == "built"
    if per_class:
        status = table.status(dataset)
        usable &= ((status == RunStatus.OK) | (status == RunStatus.CHANCE)).any(axis=1)
        _, first = np.unique(table.iso_class[usable], return_index=True)
        return np.flatnonzero(usable)[first]
    return np.flatnonzero(usable)


def extra_features(table: Table, dataset: str, names: list[str], rows: np.ndarray) -> dict[str, np.ndarray]:
    """``zc:<proxy>`` (zero-cost score on ``dataset``) or ``hw:<metric>`` columns for ``rows``."""
    out = {}
    for name in names:
        kind, _, key = name.partition(":")
        if kind == "zc":
            out[name] = table.zero_cost(dataset, key, rows=rows)
        elif kind == "hw":
            out[name] = table.hardware(key, rows=rows)
        else:
            raise UnknownMetricError(name, ["zc:<proxy>", "hw:<hardware metric>"], where="extra features")
    return out


def evaluate_on_table(
    table: Table,
    dataset: str,
    metric: str,
    model: str,
    fractions: list[float],
    repeats: int = 5,
    seed: int = 0,
    encoding: str | None = None,
    extra: list[str] | None = None,
    per_class: bool | None = None,
    model_kwargs: dict[str, Any] | None = None,
    max_cells: int | None = None,
) -> dict[str, Any]:
    """Fit ``model`` on ``fractions`` of the cells (``repeats`` random splits each) and score it.

    ``max_cells`` evaluates on a uniform random sample of that many cells (drawn with ``seed``),
    for quick runs; fractions are then fractions of the sample.
    """
    from surrogates.predictors import PREDICTORS, predictor_for

    rows = evaluation_rows(table, dataset, metric, per_class)
    if max_cells is not None and max_cells < rows.size:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_cells, replace=False))
    cls = PREDICTORS.get(model)
    encoding = encoding or cls.encoding
    features = make_features(
        table.space, table.choices[rows], encoding, extra_features(table, dataset, extra or [], rows)
    )
    targets = table.metric(dataset, metric, rows=rows)
    kwargs = dict(model_kwargs or {})
    points = train_size_sweep(
        lambda s: predictor_for(model, table.space, seed=s, **kwargs),
        features,
        targets,
        fractions,
        repeats,
        seed,
    )
    report: dict[str, Any] = {
        "dataset": dataset,
        "metric": metric,
        "model": model,
        "encoding": encoding,
        "extra": extra or [],
        "cells": int(rows.size),
        "per_class": bool(per_class if per_class is not None else table.provenance.get("kind") == "built"),
        "repeats": repeats,
        "seed": seed,
        "sweep": [asdict(p) for p in points],
    }
    seeds = [s for s in table.seeds(dataset) if s >= 0]
    if len(seeds) >= 2:
        ceiling = noise_ceiling(table, dataset, metric, (seeds[0], seeds[1]))
        if ceiling["classes"] >= 3:
            report["noise_ceiling"] = ceiling
            for point in report["sweep"]:
                point["fraction_of_ceiling"] = as_fraction_of_ceiling(point["mean"], ceiling)
    return report
