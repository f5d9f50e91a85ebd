"""Train-time cost model for tables that lack a cell's training time.

NB201's published CSVs carry accuracies but not training times; the NATS-Bench records in
``../shared`` give them for three cells only. Following NATS-Bench (a cell's time per epoch is
constant over its schedule, and ``simulate_train_eval`` charges epochs x time per epoch), this
model predicts seconds per epoch as ``a + b * x`` from one hardware metric ``x`` known for every
cell, fitted by least squares on the rows whose time is recorded. The default feature is HELP's
GTX 1080 Ti latency at batch 256, which tracks the NATS GPU training times within ~8 % in
leave-one-out on the three records, where FLOPs or params miss by up to 4x (see
:func:`leave_one_out`). A table with recorded times for a cell (e.g. imported
from the full official files) is charged those, not the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from suite.benchmarks.base import Observation
from suite.errors import SearchSettingsError
from tabular.spaces import SearchSpace
from tabular.table import Table, parse_metric

#: Features tried in order: the first the table has for every cell is used.
DEFAULT_FEATURES = ("latency_ms:1080ti_256", "latency_ms:titanx_256", "mflops_nb201")
#: A cell is never charged less than this fraction of the fastest recorded time per epoch.
_FLOOR = 0.25


@dataclass(frozen=True)
class TrainTimeModel:
    """Seconds per epoch ``= intercept + slope * feature`` for one dataset of one table."""

    dataset: str
    feature: str
    intercept: float
    slope: float
    floor: float
    values_by_index: np.ndarray
    space: SearchSpace
    n_records: int

    @classmethod
    def fit(cls, table: Table, dataset: str, features: Sequence[str] = DEFAULT_FEATURES) -> TrainTimeModel:
        feature = _first_complete(table, features)
        x, per_epoch = _records(table, dataset, feature)
        if len(np.unique(x)) < 2:
            raise SearchSettingsError(
                f"{dataset}: {len(x)} recorded train time(s) over {len(np.unique(x))} distinct "
                f"{feature} values; need two to fit a cost model"
            )
        slope, intercept = np.polyfit(x, per_epoch, 1)
        values = np.full(table.space.size, np.nan)
        values[table.arch_index] = table.hardware(feature)
        return cls(
            dataset,
            feature,
            float(intercept),
            float(slope),
            _FLOOR * float(per_epoch.min()),
            values,
            table.space,
            len(x),
        )

    def seconds_per_epoch(self, x: np.ndarray | float) -> np.ndarray:
        return np.maximum(self.intercept + self.slope * np.asarray(x, dtype=float), self.floor)

    def __call__(self, obs: Observation) -> float:
        x = self.values_by_index[self.space.index(obs.arch)]
        return float(obs.fidelity * self.seconds_per_epoch(x))

    def describe(self) -> str:
        return (
            f"train seconds per epoch on {self.dataset} = {self.intercept:.3f} + {self.slope:.4f} x "
            f"{self.feature} (least squares on {self.n_records} recorded runs)"
        )


def _first_complete(table: Table, features: Sequence[str]) -> str:
    names = table.hardware_names()
    for name in features:
        if name in names and np.isfinite(table.hardware(name)).all():
            return name
    raise SearchSettingsError(
        f"the table has none of {list(features)} for every cell; known hardware metrics: {names}"
    )


def _records(table: Table, dataset: str, feature: str) -> tuple[np.ndarray, np.ndarray]:
    """(feature, seconds per epoch) for every recorded ``train_seconds@E`` of ``dataset``."""
    xs, ys = [], []
    hardware = table.hardware(feature)
    for name in table.metric_names(dataset):
        metric = parse_metric(name)
        if metric.quantity != "train_seconds":
            continue
        seconds = table.metric(dataset, name)
        rows = np.flatnonzero(np.isfinite(seconds))
        xs.append(hardware[rows])
        ys.append(seconds[rows] / metric.epoch)
    if not xs or not sum(len(x) for x in xs):
        raise SearchSettingsError(f"{dataset} records no train_seconds to fit a cost model on")
    return np.concatenate(xs), np.concatenate(ys)


def leave_one_out(table: Table, dataset: str, feature: str) -> np.ndarray:
    """Relative error of the model on each recorded cell when fitted without it."""
    x, y = _records(table, dataset, feature)
    cells = np.unique(x)
    errors = []
    for held in cells:
        keep = x != held
        slope, intercept = np.polyfit(x[keep], y[keep], 1)
        predicted = intercept + slope * held
        errors.append(float(np.mean(predicted / y[~keep] - 1.0)))
    return np.asarray(errors)
