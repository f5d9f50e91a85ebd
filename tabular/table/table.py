"""The table: every architecture's metrics as numpy arrays, with vectorised queries.

``Table.open(path)`` reads the HDF5 file once (see :mod:`tabular.table.schema`), checks its
schema version and content checksum, and answers queries from memory: by row, by our index in
the space, by an external id such as the official NB201 index, or by architecture string.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from tabular.errors import ArchNotInTableError, UnknownDatasetError, UnknownMetricError, UnknownNameError
from tabular.spaces import SearchSpace, get_space
from tabular.table.schema import QUANTITIES, SEED_MEAN, RunStatus, parse_metric
from tabular.table.store import RawTable, read_lazy, read_raw, write_raw
from tabular.table.writer import TableWriterMixin

ArchKeys = int | str | Sequence[int] | Sequence[str] | np.ndarray


class Table(TableWriterMixin):
    """An in-memory table over one search space (see ``docs/table-schema.md``)."""

    def __init__(self, raw: RawTable) -> None:
        self.raw = raw
        attrs = raw.root_attrs
        self.space: SearchSpace = get_space(str(attrs["space"]))
        self._cache: dict[tuple[Any, ...], np.ndarray] = {}

    # ---- files ----------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], verify: bool = True) -> Table:
        """Read ``path``; raises :class:`TableCorruptError` / :class:`SchemaVersionError`."""
        return cls(read_raw(path, verify=verify))

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write atomically (temp file + rename); returns the new content checksum."""
        self.load_lazy()
        return write_raw(self.raw, path)

    def load_lazy(self) -> None:
        for apath in list(self.raw.lazy):
            read_lazy(self.raw, apath)

    @property
    def checksum(self) -> str:
        return str(self.raw.root_attrs.get("checksum", ""))

    @property
    def provenance(self) -> dict[str, Any]:
        return dict(self.raw.root_attrs.get("provenance", {}))

    # ---- architectures ----------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return int(self.raw.arrays["archs/choices"].shape[0])

    def __len__(self) -> int:
        return self.n_rows

    @property
    def choices(self) -> np.ndarray:
        return self.raw.arrays["archs/choices"]

    @property
    def arch_index(self) -> np.ndarray:
        """Our index in the space for every row."""
        return self.raw.arrays["archs/index"]

    @property
    def iso_class(self) -> np.ndarray:
        """Our index of each row's isomorphism-class representative."""
        return self.raw.arrays["archs/iso_class"]

    @property
    def degenerate(self) -> np.ndarray:
        return self.raw.arrays["archs/degenerate"]

    @cached_property
    def strings(self) -> list[str]:
        return [s.decode() for s in self.raw.arrays["archs/string"]]

    def id_names(self) -> list[str]:
        return sorted(p.split(":", 1)[1] for p in self.raw.arrays if p.startswith("archs/id:"))

    def ids(self, name: str) -> np.ndarray:
        """An external id column, e.g. ``ids("nb201")`` (-1 where unknown)."""
        try:
            return self.raw.arrays[f"archs/id:{name}"]
        except KeyError:
            raise UnknownNameError("id column", name, self.id_names()) from None

    def arch(self, row: int) -> tuple[int, ...]:
        return tuple(int(v) for v in self.choices[row])

    # ---- row lookup -------------------------------------------------------------------
    def rows(self, keys: ArchKeys, by: str = "index") -> np.ndarray:
        """Rows for ``keys``: ``by="index"`` (ours), ``"row"``, ``"string"`` or an id name.

        Vectorised; raises :class:`ArchNotInTableError` naming the first missing key.
        """
        if by == "string" or isinstance(keys, str):
            strings = [keys] if isinstance(keys, str) else [str(k) for k in keys]  # type: ignore[union-attr]
            return self._rows_by_string(strings)
        values = np.atleast_1d(np.asarray(keys, dtype=np.int64))
        if by == "row":
            bad = (values < 0) | (values >= self.n_rows)
            if bad.any():
                raise ArchNotInTableError(f"row {int(values[bad][0])} is outside 0..{self.n_rows - 1}")
            return values
        column = self.arch_index if by == "index" else self.ids(by)
        order, sorted_col = self._sorted(by, column)
        if sorted_col.size == 0 and values.size:  # a sample table that has no rows yet
            raise ArchNotInTableError(f"no row with {by} {int(values[0])} in this table (it is empty)")
        pos = np.clip(np.searchsorted(sorted_col, values), 0, len(sorted_col) - 1)
        found = sorted_col[pos] == values
        if not found.all():
            raise ArchNotInTableError(f"no row with {by} {int(values[~found][0])} in this table")
        return order[pos]

    def row(self, key: int | str, by: str = "index") -> int:
        return int(self.rows(key, by=by)[0])

    def _sorted(self, by: str, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cached = self._cache.get(("sorted", by))
        if cached is None:
            order = np.argsort(column, kind="stable")
            cached = np.stack([order, column[order]])
            self._cache[("sorted", by)] = cached
        return cached[0], cached[1]

    @cached_property
    def _row_of_string(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.strings)}

    def _rows_by_string(self, keys: list[str]) -> np.ndarray:
        out = np.empty(len(keys), dtype=np.int64)
        for i, key in enumerate(keys):
            row = self._row_of_string.get(key)
            if row is None:
                self.space.from_str(key)  # a malformed string gets the parser's error
                raise ArchNotInTableError(f"architecture {key!r} has no row in this table")
            out[i] = row
        return out

    # ---- datasets and metrics ---------------------------------------------------------
    @property
    def datasets(self) -> list[str]:
        return sorted({p.split("/")[1] for p in self.raw.arrays if p.startswith("metrics/")})

    def _dataset_attrs(self, dataset: str) -> dict[str, Any]:
        if dataset not in self.datasets:
            raise UnknownDatasetError(dataset, self.datasets)
        return self.raw.group_attrs.get(f"metrics/{dataset}", {})

    def seeds(self, dataset: str) -> list[int]:
        return [int(s) for s in self._dataset_attrs(dataset).get("seeds", [])]

    def epochs(self, dataset: str) -> list[int]:
        return [int(e) for e in self._dataset_attrs(dataset).get("epochs", [])]

    def quantities(self, dataset: str) -> list[str]:
        self._dataset_attrs(dataset)
        prefix = f"metrics/{dataset}/"
        names = [p[len(prefix) :] for p in self.raw.arrays if p.startswith(prefix)]
        return sorted(n for n in names if n != "status")

    def metric_names(self, dataset: str) -> list[str]:
        """Every ``quantity@epoch`` that holds at least one finite value."""
        names = []
        for quantity in self.quantities(dataset):
            array = self.raw.arrays[f"metrics/{dataset}/{quantity}"]
            has = np.isfinite(array).any(axis=(0, 1))
            names += [f"{quantity}@{e}" for e, ok in zip(self.epochs(dataset), has, strict=True) if ok]
        return names

    def metric_by_seed(self, dataset: str, name: str) -> tuple[list[int], np.ndarray]:
        """All seeds' values of ``name``: the seed list and an ``(n_rows, n_seeds)`` view."""
        metric = parse_metric(name)
        if metric.quantity not in self.quantities(dataset):
            raise UnknownMetricError(name, self.metric_names(dataset), where=dataset)
        epochs = self.epochs(dataset)
        if metric.epoch not in epochs:
            raise UnknownMetricError(name, self.metric_names(dataset), where=dataset)
        array = self.raw.arrays[f"metrics/{dataset}/{metric.quantity}"]
        return self.seeds(dataset), array[:, :, epochs.index(metric.epoch)]

    def metric(
        self, dataset: str, name: str, seed: int | None = None, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Values of ``name`` (e.g. ``test@200``) for every row (or ``rows``), as float64.

        ``seed=None`` gives the published seed mean where the table has one and otherwise the
        mean over the seeds it holds; NaN where nothing is recorded.
        """
        key = ("metric", dataset, name, seed)
        values = self._cache.get(key)
        if values is None:
            seeds, by_seed = self.metric_by_seed(dataset, name)
            values = self._select_seed(by_seed, seeds, seed, dataset, name)
            values.setflags(write=False)
            self._cache[key] = values
        return values if rows is None else values[rows]

    @staticmethod
    def _select_seed(
        by_seed: np.ndarray, seeds: list[int], seed: int | None, dataset: str, name: str
    ) -> np.ndarray:
        data = by_seed.astype(np.float64)
        if seed is not None:
            if seed not in seeds:
                raise UnknownNameError(f"seed of {dataset} {name}", seed, [str(s) for s in seeds])
            return data[:, seeds.index(seed)].copy()
        is_mean = np.asarray(seeds) == SEED_MEAN
        runs = data[:, ~is_mean]
        count = np.isfinite(runs).sum(axis=1)
        total = np.where(np.isfinite(runs), runs, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_of_runs = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        if is_mean.any():
            published = data[:, int(np.argmax(is_mean))]
            return np.where(np.isfinite(published), published, mean_of_runs)
        return mean_of_runs

    def status(self, dataset: str) -> np.ndarray:
        """``(n_rows, n_seeds)`` :class:`RunStatus` codes."""
        self._dataset_attrs(dataset)
        array = self.raw.arrays.get(f"metrics/{dataset}/status")
        if array is None:
            return np.full((self.n_rows, len(self.seeds(dataset))), RunStatus.MISSING, dtype=np.int8)
        return array

    def split_source(self, dataset: str) -> dict[str, str]:
        """Which split of the original data each of ``train/valid/test`` is."""
        return dict(self._dataset_attrs(dataset).get("split_source", {}))

    def optima(self, dataset: str, name: str, maximise: bool = True) -> tuple[list[int], float]:
        """All rows tied for the best value of ``name`` and that value (NaN rows ignored).

        Ties are real in published tables (NB201 CIFAR-10 has two cells at 94.3733); rows are
        listed by their first external id (e.g. the official NB201 index), then by row.
        """
        values = self.metric(dataset, name)
        if not np.isfinite(values).any():
            raise UnknownMetricError(name, self.metric_names(dataset), where=f"{dataset} (all NaN)")
        best = float(np.nanmax(values) if maximise else np.nanmin(values))
        rows = np.flatnonzero(values == best)
        ids = self.id_names()
        if ids:
            rows = rows[np.argsort(self.ids(ids[0])[rows], kind="stable")]
        return [int(r) for r in rows], best

    def optimum(self, dataset: str, name: str, maximise: bool = True) -> tuple[int, float]:
        """The best row (first of :meth:`optima`) and its value."""
        rows, best = self.optima(dataset, name, maximise)
        return rows[0], best

    # ---- hardware and zero-cost -------------------------------------------------------
    def hardware_names(self) -> list[str]:
        return sorted(p.split("/", 1)[1] for p in self.raw.arrays if p.startswith("hardware/"))

    def hardware(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        try:
            values = self.raw.arrays[f"hardware/{name}"]
        except KeyError:
            raise UnknownMetricError(name, self.hardware_names(), where="hardware") from None
        return values if rows is None else values[rows]

    def hardware_attrs(self, name: str) -> dict[str, Any]:
        self.hardware(name)
        return dict(self.raw.array_attrs.get(f"hardware/{name}", {}))

    def zero_cost_names(self, dataset: str) -> list[str]:
        prefix = f"zero_cost/{dataset}/"
        return sorted(p[len(prefix) :] for p in self.raw.arrays if p.startswith(prefix))

    def zero_cost(self, dataset: str, proxy: str, rows: np.ndarray | None = None) -> np.ndarray:
        try:
            values = self.raw.arrays[f"zero_cost/{dataset}/{proxy}"]
        except KeyError:
            raise UnknownMetricError(
                proxy, self.zero_cost_names(dataset), where=f"zero-cost on {dataset}"
            ) from None
        return values if rows is None else values[rows]

    # ---- curves (lazy) ----------------------------------------------------------------
    def curve_groups(self) -> list[str]:
        paths = set(self.raw.lazy) | {p for p in self.raw.arrays if p.startswith("curves/")}
        return sorted({"/".join(p.split("/")[1:3]) for p in paths})

    def curve(self, dataset: str, hp: int, row: int, quantity: str) -> tuple[list[int], np.ndarray]:
        """A row's full per-epoch curve from a run of ``hp`` epochs: seeds and ``(n_seeds, hp)``."""
        base = f"curves/{dataset}/hp{hp}"
        if f"{dataset}/hp{hp}" not in self.curve_groups():
            raise UnknownMetricError(f"{dataset}/hp{hp}", self.curve_groups(), where="curves")
        rows = read_lazy(self.raw, f"{base}/rows")
        where = np.flatnonzero(rows == row)
        if where.size == 0:
            raise ArchNotInTableError(f"row {row} has no {dataset} hp{hp} curve in this table")
        if f"{base}/{quantity}" not in self.raw.lazy and f"{base}/{quantity}" not in self.raw.arrays:
            known = [p.rsplit("/", 1)[1] for p in (*self.raw.lazy, *self.raw.arrays) if p.startswith(base)]
            raise UnknownMetricError(quantity, [k for k in known if k not in ("rows", "seeds")], where=base)
        seeds = [int(s) for s in read_lazy(self.raw, f"{base}/seeds")]
        return seeds, read_lazy(self.raw, f"{base}/{quantity}")[int(where[0])]

    @staticmethod
    def describe_quantity(quantity: str) -> str:
        return QUANTITIES.get(quantity, quantity)
