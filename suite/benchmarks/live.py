"""``LiveBenchmark``: train cells on demand under a built table's budget, and cache them there.

A query of a cell the table already holds is answered from the table by a
:class:`TabularBenchmark`; any other cell is trained as the table builder trains one run: the
isomorphism-class representative (``space.canonical``) with the NAS-Bench-201 recipe (Dong &
Yang, ICLR 2020; :func:`tabular.training.train_cell`) under the budget, dataset and split the
table records, and the whole curve is written to every member of the class with the builder's
:func:`~tabular.builder.merge.apply_entry`. Cells with no path from input to output are not
trained (chance accuracy, as the builder records them). A table grown this way is the table
``nasuite table build`` would have made, and either can continue the other.

Which optional benchmark methods exist matters to the runner (``suite.runner.setup``):

* ``available_by_index`` is absent: every cell can be trained, so proposals are not limited to
  the cells already in the table;
* ``metric_by_index`` is absent: the runner reads it once before the search, when the cells a
  search will train are still empty, so the incumbent is judged by ``query`` instead (a cache
  hit: the incumbent has been trained at the top fidelity);
* ``hardware_by_index`` is absent: untrained cells have no measured hardware metrics, so a
  constraint cannot be checked before training; ``hardware_names`` lists what each trained
  cell's observation carries, so hardware objectives (multi-objective search) work;
* ``zero_cost_by_index`` and ``nested_fidelities`` come from the table, as for a table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from suite.benchmarks.base import Objective, Observation, check_fidelity
from suite.benchmarks.tabular import TabularBenchmark
from suite.errors import SearchSettingsError
from tabular.budget import TrainBudget, get_budget
from tabular.builder.build import table_memory_format
from tabular.builder.journal import BuildLock, Journal, journal_path
from tabular.builder.merge import HARDWARE, QUANTITY_OF, apply_entry, mark_degenerate
from tabular.builder.plan import BuildSpec, is_sampled
from tabular.errors import (
    ArchNotInTableError,
    BuildError,
    NasuiteError,
    OutputPathError,
    UnknownDatasetError,
    UnknownMetricError,
)
from tabular.hardware import torch_threads
from tabular.table import RunStatus, Table
from tabular.training import check_memory_format

#: quantities a training run records (the search quantity must be one of them)
TRAINED = tuple(QUANTITY_OF.values())


class LiveBenchmark:
    """Queries of the table's dataset, training the cells it lacks (see the module docstring).

    ``table_or_path`` is a table built by ``nasuite table build`` or :meth:`create` (its build
    settings say what to train). ``seed=None`` trains seed 0 and reads the mean of the seeds
    the table holds; a seed trains and reads that run. ``save_every`` saves the table after
    that many new runs (0: only on :meth:`save`); each run is also appended to the builder's
    journal beside the file, so a crash loses none (they are replayed on the next open).
    ``hardware`` measures the trained class's params, FLOPs, CPU latency and memory as the
    builder does (seconds per class on a CPU; off for quick experiments). An exception while
    training (e.g. out of memory) propagates and records nothing; a run whose loss diverges is
    recorded as failed, as the builder records it, and is not retried. ``memory_format``
    (``channels_last`` or ``contiguous``) defaults to the one the table was built with.
    """

    def __init__(
        self,
        table_or_path: Table | str | os.PathLike[str],
        dataset: str | None = None,
        search: str = "valid",
        data_root: str | None = None,
        device: str | None = None,
        threads: int = 1,
        save_every: int = 10,
        hardware: bool = True,
        memory_format: str | None = None,
    ) -> None:
        if isinstance(table_or_path, Table):
            table, path = table_or_path, table_or_path.raw.path
        else:
            path = Path(table_or_path)
            table = Table.open(path)
        build = table.raw.root_attrs.get("build")
        if not build:
            raise BuildError(
                f"table {str(path or '(in memory)')!r} records no build settings (budget, dataset); "
                "only a table made by `nasuite table build` or LiveBenchmark.create can be trained into"
            )
        if dataset is not None and dataset != build["dataset"]:
            raise UnknownDatasetError(dataset, [build["dataset"]])
        if search not in TRAINED:
            raise UnknownMetricError(search, list(TRAINED), where="quantities a training run records")
        for name, value, least in (("threads", threads, 1), ("save_every", save_every, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise SearchSettingsError(f"{name} must be an integer >= {least}, got {value!r}")
        self.spec = BuildSpec(
            space=str(build["space"]),
            dataset=str(build["dataset"]),
            budget=TrainBudget.from_dict(dict(build["budget"])),
            order_seed=int(build.get("order_seed", 0)),
            split_seed=int(build.get("split_seed", 0)),
            data_root=data_root,
        )
        self.table, self.path = table, path
        self.space = table.space
        self.dataset = self.spec.dataset
        self.search = search
        self.objectives: tuple[Objective, ...] = (Objective(search),)
        self.device, self.threads, self.save_every = device, threads, save_every
        self.memory_format = check_memory_format(memory_format or table_memory_format(table), table.space)
        self.measure_hardware = hardware
        epochs = self.spec.budget.epochs
        # the test split is evaluated after the last epoch only, unless the budget says otherwise
        every = search not in ("test", "test_loss") or self.spec.budget.test_every_epoch
        self._fidelities = tuple(range(1, epochs + 1)) if every else (epochs,)
        self.n_trained = 0  #: cells (class x seed) this object trained
        self._unsaved = 0
        self._dirty = False
        self._reader: TabularBenchmark | None = None
        self._data: Any = None
        self._session: dict[str, Any] | None = None
        if path is not None:  # runs a crashed builder or live benchmark left in the journal
            for entry in Journal(journal_path(path)).read():
                apply_entry(table, entry, self.dataset, epochs)
                self._dirty = True

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        space: str = "nb201",
        dataset: str = "synthetic",
        budget: str | TrainBudget = "tiny",
        *,
        split_seed: int = 0,
        **kwargs: Any,
    ) -> LiveBenchmark:
        """A new empty table at ``path`` (the builder's, with no run yet), opened live.

        The builder makes it: every cell, chance for the degenerate ones, the budget and the
        data's provenance. An existing file built with the same settings is reopened as it is;
        one built otherwise raises :class:`BuildError`. ``kwargs`` go to the constructor.
        """
        from tabular.builder import BuildOptions, build_table

        plan = budget if isinstance(budget, TrainBudget) else get_budget(budget)
        from tabular.spaces import get_space

        spec = BuildSpec(
            space=space,
            dataset=dataset,
            budget=plan,
            archs=0 if is_sampled(get_space(space)) else None,  # a sample table starts empty
            split_seed=split_seed,
            data_root=kwargs.get("data_root"),
        )
        options = BuildOptions(workers=0, progress=False, max_runs=0)
        build_table(
            spec, path, options, command=f"LiveBenchmark.create(space={space!r}, budget={plan.name!r})"
        )
        return cls(path, dataset=dataset, **kwargs)

    # ---- the Benchmark protocol ---------------------------------------------------------
    @property
    def fidelities(self) -> tuple[int, ...]:
        return self._fidelities

    @property
    def nested_fidelities(self) -> bool:
        """Epochs 1..E of one run: every run records its whole curve, so continuing costs the rest."""
        return self._fidelities == tuple(range(1, max(self._fidelities) + 1))

    def query(self, arch: Sequence[int], fidelity: int | None = None, seed: int | None = None) -> Observation:
        epoch = check_fidelity(self._fidelities, fidelity)
        arch_tuple = self.space.validate(arch)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise SearchSettingsError(f"seed must be an integer >= 0 or None, got {seed!r}")
        row = self._row_of(arch_tuple)
        trained = False
        if not self._recorded(row, seed):
            run_seed = 0 if seed is None else seed
            if self.table.degenerate[row]:
                num_classes = int(self.table.provenance["dataset"]["num_classes"])
                mark_degenerate(
                    self.table,
                    self.dataset,
                    range(run_seed, run_seed + 1),
                    self.spec.budget.epochs,
                    num_classes,
                )
                self._changed()
            else:
                self._train(self.space.index(self.space.canonical(arch_tuple)), run_seed)
                trained = True
        obs = self._read(arch_tuple, row, epoch, seed)
        where = "trained now" if trained else "from the table"
        return dataclasses.replace(obs, source=f"live ({where}): {self.path or 'table in memory'}")

    # ---- what the runner may use ------------------------------------------------------
    def hardware_names(self) -> list[str]:
        """The hardware metrics each trained cell carries (none without ``hardware``)."""
        return sorted(name for name, _, _ in HARDWARE.values()) if self.measure_hardware else []

    def zero_cost_by_index(self, proxy: str) -> np.ndarray:
        """Zero-cost scores the table holds (computed without training, e.g. ``nasuite proxies``)."""
        reader = self._tabular()
        if reader is None:
            raise UnknownMetricError(proxy, [], where=f"zero-cost on {self.dataset} (nothing recorded yet)")
        return reader.zero_cost_by_index(proxy)

    # ---- saving -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the table atomically to ``path`` (default: where it was opened); returns its checksum.

        Refused while a builder holds the file's lock: one writer at a time.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise OutputPathError("this LiveBenchmark's table has no file yet; call save(path)")
        from tabular.builder.build import _update_session

        with BuildLock(target):
            if self._session is not None:
                _update_session(self.table, self._session, self.n_trained)
            checksum = self.table.save(target)
            if self.path is not None and Path(self.path) == target:
                Journal(journal_path(target)).clear()
        self.path, self._unsaved, self._dirty = target, 0, False
        return checksum

    def __enter__(self) -> LiveBenchmark:
        return self

    def __exit__(self, *exc: object) -> None:
        if (self._dirty or self._unsaved) and self.path is not None:
            self.save()

    # ---- internals ----------------------------------------------------------------------
    def _row_of(self, arch: tuple[int, ...]) -> int:
        """The table's row of ``arch``; a sample table gains a row for an architecture it lacks."""
        try:
            return self.table.row(self.space.index(arch))
        except ArchNotInTableError:
            if not is_sampled(self.space):
                raise
        self._reader = None
        return int(self.table.append_archs(np.asarray([arch]))[0])

    def _recorded(self, row: int, seed: int | None) -> bool:
        """Whether the table holds ``row`` for ``seed`` (any seed for ``None``): trained, failed or chance."""
        if self.dataset not in self.table.datasets:
            return False
        status = self.table.status(self.dataset)[row]
        if seed is None:
            return bool((status != RunStatus.MISSING).any())
        seeds = self.table.seeds(self.dataset)
        return seed in seeds and status[seeds.index(seed)] != RunStatus.MISSING

    def _train(self, index: int, seed: int) -> None:
        """Train the class representative ``index`` with ``seed`` and fold the run into the table."""
        from tabular.builder.worker import measure_members
        from tabular.training import train_cell

        data = self._load_data()
        with torch_threads(self.threads):
            result = train_cell(
                self.space,
                self.space.from_index(index),
                data,
                self.spec.budget,
                seed,
                self.device,
                self.memory_format,
            )
            hardware = {}
            if self.measure_hardware and not np.isfinite(self._params(index)):
                hardware = measure_members(self.space, index, self.spec, data)
        entry = {
            "kind": "run",
            "index": index,
            "seed": seed,
            "result": result.to_dict(),
            "hardware": hardware,
        }
        if self.path is not None:  # the builder's write-ahead journal: a crash loses no run
            Journal(journal_path(self.path)).append(entry)
        self._start_session()
        apply_entry(self.table, entry, self.dataset, self.spec.budget.epochs)
        self.n_trained += 1
        self._unsaved += 1
        self._changed()
        if self.save_every and self._unsaved >= self.save_every and self.path is not None:
            self.save()

    def _params(self, index: int) -> float:
        if "params" not in self.table.hardware_names():
            return math.nan
        return float(self.table.hardware("params")[self.table.row(index)])

    def _load_data(self) -> Any:
        """The table's dataset as its budget wants it; refuses data that differ from the table's."""
        if self._data is None:
            from tabular.builder.worker import load_build_data

            data = load_build_data(self.spec)
            want = self.table.raw.root_attrs["build"].get("data_fingerprint")
            if want and data.fingerprint != want:
                raise BuildError(
                    f"the {self.dataset} data found (fingerprint {data.fingerprint[:16]}) differ from "
                    f"the data this table was built on ({str(want)[:16]}); point data_root at those"
                )
            self._data = data
        return self._data

    def _start_session(self) -> None:
        """Record this object's training in the table's provenance, as a builder sitting."""
        if self._session is None:
            from tabular.builder import BuildOptions
            from tabular.builder.build import _now, _start_session

            options = BuildOptions(
                workers=0, threads=self.threads, device=self.device, memory_format=self.memory_format
            )
            self._session = _start_session(
                self.table, options, "LiveBenchmark (suite.benchmarks.live)", _now()
            )

    def _changed(self) -> None:
        self._reader = None  # its metric names and fidelities were read before this write
        self._dirty = True

    def _tabular(self) -> TabularBenchmark | None:
        """A table reader over the current content (``None`` while nothing is recorded)."""
        if self._reader is None:
            # train_seconds is recorded at every epoch of every run, chance cells included, so
            # the reader's fidelities are all epochs as soon as one cell is in the table
            with contextlib.suppress(NasuiteError):
                self._reader = TabularBenchmark(self.table, self.dataset, search="train_seconds")
        return self._reader

    def _read(self, arch: tuple[int, ...], row: int, epoch: int, seed: int | None) -> Observation:
        reader = self._tabular()
        if reader is not None and epoch in reader.fidelities:
            obs = reader.query(arch, epoch, seed)
        else:  # only a run that failed in its first epoch, with nothing else recorded
            obs = Observation(arch, epoch, seed, {self.search: math.nan}, math.nan)
        if not math.isfinite(obs.train_seconds):
            obs = dataclasses.replace(obs, train_seconds=self._spent_before_failing(row, epoch, seed))
        return obs

    def _spent_before_failing(self, row: int, epoch: int, seed: int | None) -> float:
        """A failed run's recorded training time up to ``epoch`` (0 if it failed in its first epoch)."""
        for e in range(epoch, 0, -1):
            with contextlib.suppress(NasuiteError):
                value = float(self.table.metric(self.dataset, f"train_seconds@{e}", seed=seed)[row])
                if math.isfinite(value):
                    return value
        return 0.0
