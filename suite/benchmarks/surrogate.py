"""``SurrogateBenchmark``: fitted predictors behind the Benchmark protocol, for any space.

As in NAS-Bench-301 (Siems et al. 2020), a surrogate fitted on a sample of trained cells
stands in for training, so a space too large to tabulate can still be searched under the
same clock. With ``noise=True`` a query adds noise drawn from the ensemble's spread (seeded by
the query's seed and the cell, so the same query gives the same answer), mimicking the
seed-to-seed variation of real training; the train time is predicted too.

A ``hardware`` model (for example the FBNet-style per-layer latency lookup table of the macro
spaces) gives every architecture's hardware metrics without training or measuring it, so
hardware constraints work on spaces far too large for a per-cell mask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from suite.benchmarks.base import Objective, Observation, check_fidelity
from surrogates.encodings import make_features
from surrogates.predictors import Predictor
from tabular.errors import UnknownMetricError
from tabular.spaces import SearchSpace
from tabular.table import Table


@dataclass(frozen=True)
class FittedMetric:
    """A predictor of one metric and the encoding its features use."""

    predictor: Predictor
    encoding: str


class HardwareModel(Protocol):
    """Hardware metrics of any architecture, predicted (e.g. latency summed from a lookup table)."""

    @property
    def names(self) -> tuple[str, ...]: ...

    def predict(self, archs: np.ndarray) -> dict[str, np.ndarray]: ...


class SurrogateBenchmark:
    """Predicted ``metrics`` (e.g. ``valid``, ``test``) and ``train_seconds`` after ``fidelity`` epochs."""

    def __init__(
        self,
        space: SearchSpace,
        dataset: str,
        fidelity: int,
        metrics: Mapping[str, FittedMetric],
        search: str = "valid",
        noise: bool = False,
        source: str = "",
        hardware: HardwareModel | None = None,
    ) -> None:
        if search not in metrics:
            raise UnknownMetricError(search, sorted(metrics), where="surrogate metrics")
        self.space = space
        self.dataset = dataset
        self.fidelity = int(fidelity)
        self.metrics = dict(metrics)
        self.search = search
        self.noise = noise
        self.source = source
        self.hardware = hardware
        self.objectives: tuple[Objective, ...] = (Objective(search),)

    def hardware_names(self) -> list[str]:
        return sorted(self.hardware.names) if self.hardware is not None else []

    def hardware_of(self, arch: Sequence[int]) -> dict[str, float]:
        """Predicted hardware metrics of one architecture (empty without a hardware model)."""
        if self.hardware is None:
            return {}
        values = self.hardware.predict(np.asarray([self.space.validate(arch)]))
        return {name: float(v[0]) for name, v in values.items()}

    @property
    def fidelities(self) -> tuple[int, ...]:
        return (self.fidelity,)

    def query(self, arch: Sequence[int], fidelity: int | None = None, seed: int | None = None) -> Observation:
        epoch = check_fidelity(self.fidelities, fidelity)
        arch_tuple = self.space.validate(arch)
        values = self.predict(np.asarray([arch_tuple]), seed=seed)
        seconds = values.pop("train_seconds", np.array([np.nan]))
        return Observation(
            arch=arch_tuple,
            fidelity=epoch,
            seed=seed,
            metrics={k: float(v[0]) for k, v in values.items()},
            train_seconds=float(seconds[0]),
            hardware=self.hardware_of(arch_tuple),
            source=self.source or "surrogate",
        )

    def predict(self, archs: np.ndarray, seed: int | None = None) -> dict[str, np.ndarray]:
        """Vectorised predictions for an ``(n, decisions)`` array; noise as in :meth:`query`."""
        out = {}
        for name, fitted in self.metrics.items():
            features = make_features(self.space, archs, fitted.encoding)
            mean = fitted.predictor.predict(features)
            if self.noise and seed is not None and hasattr(fitted.predictor, "predict_std"):
                std = fitted.predictor.predict_std(features)
                mean = mean + std * self._normal(archs, seed, name)
            out[name] = mean
        return out

    def _normal(self, archs: np.ndarray, seed: int, name: str) -> np.ndarray:
        """One standard normal per (cell, seed, metric): the same query always draws the same value."""
        index = self.space.indices(archs) if self.space.enumerable else np.arange(len(archs))
        tag = sum(name.encode()) % 1000
        return np.array([np.random.default_rng([seed, int(i), tag]).standard_normal() for i in index])

    @classmethod
    def fit_from_table(
        cls,
        table: Table,
        dataset: str,
        fidelity: int | None = None,
        quantities: Sequence[str] = ("valid", "test", "train_seconds"),
        model: str = "ensemble",
        seed: int = 0,
        noise: bool = False,
        model_kwargs: Mapping[str, Any] | None = None,
        search: str = "valid",
        rows: np.ndarray | None = None,
        hardware: HardwareModel | None = None,
    ) -> SurrogateBenchmark:
        """Fit one ``model`` per quantity at ``fidelity`` on the measured cells (or those in ``rows``)."""
        from surrogates.predictors import predictor_for
        from surrogates.report import evaluation_rows

        epochs = table.epochs(dataset)
        epoch = max(epochs) if fidelity is None else check_fidelity(epochs, fidelity)
        fitted = {}
        for quantity in quantities:
            name = f"{quantity}@{epoch}"
            if name not in table.metric_names(dataset):
                continue
            usable = evaluation_rows(table, dataset, name, include_degenerate=True)
            if rows is not None:
                usable = np.intersect1d(usable, rows)
            predictor = predictor_for(model, table.space, seed=seed, **dict(model_kwargs or {}))
            encoding = predictor.encoding  # an ensemble's is its members', known once built
            predictor.fit(
                make_features(table.space, table.choices[usable], encoding),
                table.metric(dataset, name, rows=usable),
            )
            fitted[quantity] = FittedMetric(predictor, encoding)
        if search not in fitted:
            raise UnknownMetricError(f"{search}@{epoch}", table.metric_names(dataset), where=dataset)
        source = f"surrogate ({model}) of {table.raw.path} {dataset} @ {epoch} epochs"
        return cls(
            table.space, dataset, epoch, fitted, search=search, noise=noise, source=source, hardware=hardware
        )
