"""Building and filling a table in memory; ``Table.save`` writes it atomically."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import numpy as np

from tabular.errors import ArchIndexError, TableError
from tabular.spaces import SearchSpace
from tabular.table.schema import QUANTITIES, RunStatus
from tabular.table.store import RawTable

if TYPE_CHECKING:
    from tabular.table.table import Table


class TableWriterMixin:
    """Mutation methods of :class:`Table` (kept apart so queries stay readable)."""

    raw: RawTable
    space: SearchSpace
    _cache: dict[tuple[Any, ...], np.ndarray]

    @classmethod
    def new(
        cls,
        space: SearchSpace,
        choices: np.ndarray,
        provenance: dict[str, Any],
        ids: dict[str, np.ndarray] | None = None,
    ) -> Table:
        """An empty table over the given architectures (rows), with external id columns."""
        from tabular.table.table import Table

        choices = space._check_array(np.asarray(choices)).astype(np.int8)
        n = choices.shape[0]
        raw = RawTable()
        raw.root_attrs.update(
            space=space.name,
            space_hash=space.space_hash(),
            space_description=space.describe(),
            provenance=provenance,
            created_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        )
        archs = [tuple(int(v) for v in row) for row in choices]
        raw.put("archs/choices", choices)
        raw.put("archs/string", np.array([space.to_str(a).encode() for a in archs], dtype="S"))
        index = space.indices(choices) if space.enumerable else np.full(n, -1, dtype=np.int64)
        raw.put("archs/index", index)
        raw.put("archs/iso_class", np.array([space.index(space.canonical(a)) for a in archs], dtype=np.int64))
        raw.put("archs/degenerate", np.array([space.is_degenerate(a) for a in archs], dtype=bool))
        for name, column in (ids or {}).items():
            column = np.asarray(column, dtype=np.int64)
            if column.shape != (n,):
                raise ArchIndexError(f"id column {name!r} has shape {column.shape}, expected ({n},)")
            raw.put(f"archs/id:{name}", column)
        return Table(raw)

    def append_archs(self, choices: np.ndarray) -> np.ndarray:
        """Add rows for new architectures (a growing sample table); returns the new rows.

        Every per-row array grows: metrics and hardware with NaN, statuses with 0 (missing /
        not computed), external ids with -1. Architectures already in the table are refused.
        """
        choices = self.space._check_array(np.asarray(choices)).astype(np.int8)
        self.load_lazy()  # type: ignore[attr-defined]
        old = int(self.raw.arrays["archs/choices"].shape[0])
        fresh = type(self).new(self.space, choices, provenance={})  # type: ignore[attr-defined]
        if self.space.enumerable:
            clash = np.intersect1d(self.raw.arrays["archs/index"], fresh.raw.arrays["archs/index"])
            if clash.size:
                raise ArchIndexError(f"architecture with index {int(clash[0])} is already in the table")
        for path, array in list(self.raw.arrays.items()):
            if not path.startswith(_ROW_GROUPS) or array.shape[:1] != (old,):
                continue
            if path in fresh.raw.arrays:
                tail = fresh.raw.arrays[path]  # strings may be longer: let numpy widen them
                tail = tail if array.dtype.kind == "S" else tail.astype(array.dtype)
            else:
                tail = np.full((len(choices), *array.shape[1:]), _fill_value(path, array), dtype=array.dtype)
            self.raw.arrays[path] = np.ascontiguousarray(np.concatenate([array, tail]))
        self._cache.clear()
        self.__dict__.pop("strings", None)
        self.__dict__.pop("_row_of_string", None)
        return np.arange(old, old + len(choices))

    # ---- metrics ------------------------------------------------------------------------
    def ensure_dataset(
        self, dataset: str, split_source: dict[str, str] | None = None, description: str | None = None
    ) -> None:
        attrs = self.raw.group(f"metrics/{dataset}")
        attrs.setdefault("seeds", [])
        attrs.setdefault("epochs", [])
        attrs.setdefault("schedule", [])
        attrs.setdefault("sources", {})
        if split_source:
            attrs.setdefault("split_source", {}).update(split_source)
        if description:
            attrs["description"] = description

    def set_metric(
        self,
        dataset: str,
        quantity: str,
        epoch: int,
        seed: int,
        values: np.ndarray,
        rows: np.ndarray | None = None,
        schedule: int | None = None,
        source: str | None = None,
        status: RunStatus | None = None,
    ) -> None:
        """Store ``quantity@epoch`` for ``seed`` (``SEED_MEAN`` for a published mean).

        ``schedule`` is the length of the run the value comes from (defaults to ``epoch``):
        ``test@12`` of a 12-epoch run differs from epoch 12 of a 200-epoch run, and a column
        never mixes the two.
        """
        if quantity not in QUANTITIES:
            raise TableError(f"unknown quantity {quantity!r}; expected one of {', '.join(QUANTITIES)}")
        self.ensure_dataset(dataset)
        attrs = self.raw.group(f"metrics/{dataset}")
        schedule = epoch if schedule is None else schedule
        seed_col = self._axis_position(dataset, "seeds", int(seed))
        epoch_col = self._axis_position(dataset, "epochs", int(epoch), schedule=schedule)
        if attrs["schedule"][epoch_col] != schedule:
            raise TableError(
                f"{dataset} {quantity}@{epoch}: the table's epoch-{epoch} column comes from a "
                f"{attrs['schedule'][epoch_col]}-epoch run, not a {schedule}-epoch one"
            )
        array = self._quantity_array(dataset, quantity)
        target = slice(None) if rows is None else np.asarray(rows)
        array[target, seed_col, epoch_col] = np.asarray(values, dtype=np.float32)
        if source:
            attrs["sources"][f"{quantity}@{epoch}/{seed}"] = source
        if status is not None:
            self._status_array(dataset)[target, seed_col] = int(status)
        self._cache.clear()

    def set_status(self, dataset: str, seed: int, status: RunStatus, rows: np.ndarray | None = None) -> None:
        self.ensure_dataset(dataset)
        seed_col = self._axis_position(dataset, "seeds", int(seed))
        self._status_array(dataset)[slice(None) if rows is None else rows, seed_col] = int(status)

    def _axis_position(self, dataset: str, axis: str, value: int, schedule: int | None = None) -> int:
        attrs = self.raw.group(f"metrics/{dataset}")
        values: list[int] = attrs[axis]
        if value in values:
            return values.index(value)
        position = int(np.searchsorted(values, value))  # both axes stay sorted; SEED_MEAN (-1) first
        values.insert(position, value)
        if axis == "epochs":
            attrs["schedule"].insert(position, schedule)
        dim = 1 if axis == "seeds" else 2
        prefix = f"metrics/{dataset}/"
        for path in [p for p in self.raw.arrays if p.startswith(prefix)]:
            array = self.raw.arrays[path]
            if path.endswith("/status"):
                if dim == 1:
                    self.raw.arrays[path] = np.insert(array, position, RunStatus.MISSING, axis=1)
                continue
            self.raw.arrays[path] = np.insert(array, position, np.nan, axis=dim).astype(np.float32)
        return position

    def _quantity_array(self, dataset: str, quantity: str) -> np.ndarray:
        path = f"metrics/{dataset}/{quantity}"
        if path not in self.raw.arrays:
            attrs = self.raw.group(f"metrics/{dataset}")
            shape = (self._n(), len(attrs["seeds"]), len(attrs["epochs"]))
            self.raw.put(path, np.full(shape, np.nan, dtype=np.float32), description=QUANTITIES[quantity])
        return self.raw.arrays[path]

    def _status_array(self, dataset: str) -> np.ndarray:
        path = f"metrics/{dataset}/status"
        if path not in self.raw.arrays:
            n_seeds = len(self.raw.group(f"metrics/{dataset}")["seeds"])
            self.raw.put(path, np.zeros((self._n(), n_seeds), dtype=np.int8))
        return self.raw.arrays[path]

    def _n(self) -> int:
        return int(self.raw.arrays["archs/choices"].shape[0])

    # ---- hardware, zero-cost, curves ----------------------------------------------------
    def set_hardware(
        self, name: str, values: np.ndarray, unit: str, source: str, description: str = ""
    ) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (self._n(),):
            raise TableError(f"hardware {name!r} has shape {values.shape}, expected ({self._n()},)")
        self.raw.put(f"hardware/{name}", values, unit=unit, source=source, description=description)
        self._cache.clear()

    def update_hardware(
        self, name: str, rows: np.ndarray, values: np.ndarray, unit: str, source: str, description: str = ""
    ) -> None:
        """Set ``name`` for some rows, keeping the others (NaN where never set)."""
        path = f"hardware/{name}"
        if path not in self.raw.arrays:
            self.raw.put(path, np.full(self._n(), np.nan), unit=unit, source=source, description=description)
        self.raw.arrays[path][rows] = values
        self._cache.clear()

    def set_zero_cost(self, dataset: str, proxy: str, values: np.ndarray, source: str) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (self._n(),):
            raise TableError(f"zero-cost {proxy!r} has shape {values.shape}, expected ({self._n()},)")
        self.raw.put(f"zero_cost/{dataset}/{proxy}", values, source=source)
        self._cache.clear()

    def set_curves(
        self,
        dataset: str,
        hp: int,
        rows: np.ndarray,
        seeds: list[int],
        curves: dict[str, np.ndarray],
        source: str,
    ) -> None:
        """Full per-epoch curves of some rows from ``hp``-epoch runs: ``(n_rows, n_seeds, hp)``."""
        base = f"curves/{dataset}/hp{hp}"
        rows = np.asarray(rows, dtype=np.int64)
        for quantity, array in curves.items():
            if quantity not in QUANTITIES:
                raise TableError(
                    f"unknown curve quantity {quantity!r}; expected one of {', '.join(QUANTITIES)}"
                )
            if array.shape != (len(rows), len(seeds), hp):
                raise TableError(
                    f"curve {base}/{quantity} has shape {array.shape}, expected {(len(rows), len(seeds), hp)}"
                )
            self.raw.put(f"{base}/{quantity}", array.astype(np.float32))
        self.raw.put(f"{base}/rows", rows)
        self.raw.put(f"{base}/seeds", np.asarray(seeds, dtype=np.int64))
        self.raw.group(base)["source"] = source


#: groups whose arrays have one row per architecture (``curves/`` index rows explicitly)
_ROW_GROUPS = ("archs/", "metrics/", "hardware/", "zero_cost/", "zero_cost_status/")


def _fill_value(path: str, array: np.ndarray) -> object:
    """What a new row holds before anything is measured for it."""
    if array.dtype.kind == "f":
        return np.nan
    if path.startswith("archs/id:"):
        return -1
    return 0
