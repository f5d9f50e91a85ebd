"""``TabularBenchmark``: answer queries from a table (imported or built), in microseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from suite.benchmarks.base import Objective, Observation, check_fidelity
from tabular.errors import UnknownMetricError, UnknownNameError
from tabular.table import SEED_MEAN, Table, parse_metric


class TabularBenchmark:
    """Queries of ``dataset`` in ``table``; ``search`` is the quantity strategies see.

    ``fidelities`` are the epochs at which the table has the search quantity, e.g. (1, 2) for
    a table built with a 2-epoch budget, or (12, 200) for NB201, where the two come from
    different runs (a 12-epoch and a 200-epoch schedule); passing ``fidelities`` keeps only those
    (NB201's ``cifar10-valid`` has ``valid@200`` for every cell but ``valid@12`` for under
    10 % of them, so a search on it uses ``(200,)``). ``seed=None`` returns the seed mean;
    a seed returns that training run where the table has it.

    ``time_dataset`` charges another dataset's recorded train times: NB201's protocol searches
    on ``cifar10-valid`` (25k training images) while the published CSVs hold 12-epoch
    accuracies of ``cifar10`` runs only, so a faithful budget charges the ``cifar10-valid`` time.
    """

    def __init__(
        self,
        table: Table,
        dataset: str,
        search: str = "valid",
        time_dataset: str | None = None,
        fidelities: tuple[int, ...] | None = None,
    ) -> None:
        if dataset not in table.datasets:
            table.seeds(dataset)  # raises UnknownDatasetError listing the datasets
        if search not in table.quantities(dataset):
            raise UnknownMetricError(search, table.quantities(dataset), where=f"{dataset} quantities")
        if time_dataset is not None and time_dataset not in table.datasets:
            table.seeds(time_dataset)
        self.time_dataset = time_dataset or dataset
        self.table = table
        self.space = table.space
        self.dataset = dataset
        self.search = search
        self.objectives: tuple[Objective, ...] = (Objective(search),)
        names = table.metric_names(dataset)
        self._fidelities = tuple(
            sorted(parse_metric(n).epoch for n in names if parse_metric(n).quantity == search)
        )
        if not self._fidelities:
            raise UnknownMetricError(f"{search}@<epoch>", names, where=dataset)
        if fidelities is not None:  # e.g. only NB201's 200 epochs, where the 12-epoch figure is partial
            unknown = [f"{search}@{e}" for e in fidelities if e not in self._fidelities]
            if unknown or not fidelities:
                raise UnknownMetricError(
                    unknown[0] if unknown else "(no fidelity)", [f"{search}@{e}" for e in self._fidelities],
                    where=dataset,
                )  # fmt: skip
            self._fidelities = tuple(sorted(set(fidelities)))
        self._quantities = table.quantities(dataset)
        self._names = set(names)  # metric_names scans the arrays: do it once
        self._hardware = table.hardware_names()
        # one row per cell, so a query reads all hardware metrics with one lookup
        self._hardware_rows = (
            np.column_stack([table.hardware(h) for h in self._hardware]).astype(float)
            if self._hardware
            else np.empty((table.n_rows, 0))
        )
        self._time_names: set[str] | None = None

    @property
    def fidelities(self) -> tuple[int, ...]:
        return self._fidelities

    def _time_of(self, row: int, epoch: int) -> float:
        if self._time_names is None:  # metric_names scans the arrays: do it once
            self._time_names = set(self.table.metric_names(self.time_dataset))
        name = f"train_seconds@{epoch}"
        if name not in self._time_names:
            return float("nan")
        return float(self.table.metric(self.time_dataset, name)[row])

    @property
    def nested_fidelities(self) -> bool:
        """True when the fidelities are epochs 1..E of one run (continuing a cell costs the rest).

        A built table records every epoch of one schedule; NB201's 12 and 200 epochs come from
        two different schedules, so each is paid in full.
        """
        return self._fidelities == tuple(range(1, max(self._fidelities) + 1))

    # ---- whole-space arrays, indexed by the space's index (NaN where the table lacks a cell)
    def by_index(self, values_by_row: np.ndarray) -> np.ndarray:
        out = np.full(self.space.size, np.nan)
        out[self.table.arch_index] = values_by_row
        return out

    def hardware_names(self) -> list[str]:
        return list(self._hardware)

    def hardware_by_index(self, name: str) -> np.ndarray:
        return self.by_index(self.table.hardware(name))

    def zero_cost_by_index(self, proxy: str) -> np.ndarray:
        return self.by_index(self.table.zero_cost(self.dataset, proxy))

    def metric_by_index(self, name: str, dataset: str | None = None) -> np.ndarray:
        """``dataset``'s ``name`` (e.g. ``test@200``, seed mean) for every index of the space."""
        return self.by_index(self.table.metric(dataset or self.dataset, name))

    def available_by_index(self) -> np.ndarray:
        """Cells with a finite search quantity at every fidelity (a partial table lacks some)."""
        mask = np.ones(self.space.size, dtype=bool)
        for epoch in self._fidelities:
            mask &= np.isfinite(self.metric_by_index(f"{self.search}@{epoch}"))
        return mask

    def query(self, arch: Sequence[int], fidelity: int | None = None, seed: int | None = None) -> Observation:
        epoch = check_fidelity(self._fidelities, fidelity)
        arch_tuple = self.space.validate(arch)
        row = self.table.row(self.space.index(arch_tuple))
        if seed is not None and seed not in self.table.seeds(self.dataset):
            known = [str(s) for s in self.table.seeds(self.dataset) if s != SEED_MEAN]
            raise UnknownNameError(f"seed of {self.dataset}", seed, known)
        metrics = {}
        for quantity in self._quantities:
            name = f"{quantity}@{epoch}"
            if name in self._names:
                metrics[quantity] = float(self.table.metric(self.dataset, name, seed=seed)[row])
        seconds = metrics.pop("train_seconds", float("nan"))
        if self.time_dataset != self.dataset:
            seconds = self._time_of(row, epoch)
        hardware = dict(zip(self._hardware, self._hardware_rows[row].tolist(), strict=True))
        return Observation(
            arch=arch_tuple,
            fidelity=epoch,
            seed=seed,
            metrics=metrics,
            train_seconds=seconds,
            hardware={k: v for k, v in hardware.items() if math.isfinite(v)},
            source=f"table {self.table.raw.path}",
        )
