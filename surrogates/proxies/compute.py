"""Zero-cost scores for every row of a table, stored in the table, resumable and crash-safe.

``compute_proxies("table.h5", ["synflow", "naswot"])`` scores each row's network and writes
``zero_cost/<dataset>/<proxy>`` (one float64 per row, NaN where no score). Every cell is
scored on its own, not once per isomorphism class: dead edges change a network's parameters
and so its scores.

What is scored, on what:

* a table built by nasuite (provenance ``kind == "built"``) fixes the network (the budget's
  C and N; the dataset's channels, classes and resolution) and the data (the dataset it was
  built on, split as the build split it); ``<dataset>`` is that dataset's name;
* any other table (e.g. the imported NB201 table) needs an explicit ``network``; data-using
  proxies also need ``dataset`` (loaded at the network's resolution). Data-free proxies run
  without one and are stored under ``zero_cost/data-free/<proxy>``, or under ``dataset`` if
  given.

Every network is built with weights initialised from ``seed`` and scored on one fixed batch
of ``batch_size`` training images drawn with ``seed``; proxies get ``seed`` too. The stored
``source`` names the proxy, batch, seed, data and network.

Resuming: beside each score array, ``zero_cost_status/<dataset>/<proxy>`` (int8, see
:class:`RowStatus`) records which rows were computed, so a NaN that a proxy really gave is not
recomputed on every run (``retry_failed`` recomputes those). The table is saved atomically
every ``flush_seconds``, at the end and when interrupted; a later run with the same settings
skips the rows already done, and one with other settings is refused rather than mixing them.
"""

from __future__ import annotations

import datetime as _dt
import math
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from surrogates.proxies.base import PROXIES, ProxyConfigError, ProxyWarning, seeded
from surrogates.proxies.settings import (
    DATA_FREE_KEY,
    NETWORK_FIELDS,
    describe_network,
    draw_batch,
    resolve_setup,
)
from surrogates.proxies.table_state import (
    STATUS_GROUP,
    RowStatus,
    load_state,
    record_run,
    score_one,
    select_rows,
    store,
)
from tabular.interrupt import raise_if_stop_requested

if TYPE_CHECKING:
    from tabular.models.nb201 import NetworkConfig

__all__ = ["DATA_FREE_KEY", "STATUS_GROUP", "ComputeReport", "ProxyReport", "RowStatus", "compute_proxies"]


@dataclass(frozen=True)
class ProxyReport:
    """One proxy's share of a run: rows scored now, failures, time, and the table's totals.

    ``seconds`` is the time spent inside the proxy (private copy and scoring); building the
    networks, shared by all proxies of a run, is ``ComputeReport.build_seconds``.
    """

    proxy: str
    rows_computed: int
    nans: int
    errors: int
    seconds: float
    rows_done: int
    rows_total: int
    source: str

    @property
    def cells_per_second(self) -> float:
        return self.rows_computed / self.seconds if self.seconds > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cells_per_second": self.cells_per_second}


@dataclass(frozen=True)
class ComputeReport:
    """What :func:`compute_proxies` did."""

    path: str
    dataset: str
    batch_size: int
    seed: int
    network: dict[str, int]
    data: str | None
    device: str
    threads: int
    proxies: tuple[ProxyReport, ...]
    build_seconds: float
    wall_seconds: float
    saves: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["proxies"] = {p.proxy: p.to_dict() for p in self.proxies}
        out["notes"] = list(self.notes)
        return out


def compute_proxies(
    table_path: str | Path,
    proxies: Sequence[str],
    *,
    batch_size: int = 64,
    dataset: str | None = None,
    network: NetworkConfig | Mapping[str, int] | None = None,
    seed: int = 0,
    rows: int | Sequence[int] | np.ndarray | None = None,
    progress: bool = True,
    flush_seconds: float = 60.0,
    overwrite: bool = False,
    retry_failed: bool = False,
    device: str | None = None,
    data_root: str | None = None,
) -> ComputeReport:
    """Score the table's rows with ``proxies`` and save the scores into the table.

    ``rows``: ``None`` for every row, an int N for at most N rows still to do (in row order),
    or row numbers. ``network`` overrides (or, for tables without a build budget, supplies)
    the network: a ``NetworkConfig`` or a mapping of its fields. ``overwrite`` discards
    stored scores of these proxies (also scores that came from elsewhere, e.g. an import);
    ``retry_failed`` recomputes rows whose stored score is NaN. ``data_root`` is the folder
    with the dataset's files (default: where the build found them, or the system copy). Raises
    :class:`ProxyConfigError` when the table, settings and proxies do not fit together and
    :class:`~tabular.errors.UnknownNameError` for an unknown proxy.
    """
    import torch
    from tqdm import tqdm

    from tabular.builder.journal import BuildLock
    from tabular.models import build_network
    from tabular.table import Table

    chosen = [PROXIES.get(name) for name in dict.fromkeys(proxies)]  # unknown name: lists the known
    if not chosen:
        raise ProxyConfigError(f"no proxies given; expected some of: {', '.join(PROXIES.names())}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ProxyConfigError(f"batch_size must be a positive int, got {batch_size!r}")
    started = time.monotonic()
    started_utc = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    dev = torch.device(device or "cpu")
    path = Path(table_path)
    with BuildLock(path):  # one writer at a time: a builder or another compute would clobber the file
        table = Table.open(path)
        setup = resolve_setup(table, chosen, dataset, network, data_root)
        needs_data = any(not p.data_free for p in chosen)
        x, y, data_desc = draw_batch(setup, batch_size, seed, needs_data)
        x, y = x.to(dev), y.to(dev)
        net_desc = describe_network(table.space.name, setup.network)
        sources = {
            p.name: (
                f"nasuite proxies compute: {p.name}, "
                f"{'input shape only (data-free)' if p.data_free else data_desc}, batch {batch_size}, "
                f"seed {seed}, network {net_desc}"
            )
            for p in chosen
        }
        values, status = load_state(table, setup.key, sources, overwrite)
        todo = select_rows(table.n_rows, rows, status, retry_failed)
        work = sorted(set().union(*(set(r.tolist()) for r in todo.values())))
        counts = {p.name: {"rows": 0, "nans": 0, "errors": 0, "seconds": 0.0} for p in chosen}
        first_fail: dict[str, list[str]] = {p.name: [] for p in chosen}
        build_seconds, saves, dirty, last_save = 0.0, 0, False, time.monotonic()
        pending = {name: set(r.tolist()) for name, r in todo.items()}

        def save() -> None:
            nonlocal saves, dirty, last_save
            store(table, setup.key, values, status, sources)
            table.save(path)
            saves, dirty, last_save = saves + 1, False, time.monotonic()

        bar = tqdm(
            total=len(work), file=sys.stderr, disable=not progress, unit="cell", desc=f"proxies {setup.key}"
        )
        try:
            for row in work:
                t0 = time.perf_counter()
                with seeded(seed):  # every cell starts from the same seed, and the caller's RNG stays put
                    model = build_network(table.space, table.arch(row), setup.network)
                model.to(dev)
                build_seconds += time.perf_counter() - t0
                for proxy in chosen:
                    if row not in pending[proxy.name]:
                        continue
                    value, code, why = score_one(proxy, model, x, y, seed)
                    c = counts[proxy.name]
                    c["seconds"] += why.pop("seconds")
                    values[proxy.name][row], status[proxy.name][row] = value, code
                    c["rows"] += 1
                    if code == RowStatus.NONFINITE:
                        c["nans"] += 1
                    elif code == RowStatus.ERROR:
                        c["errors"] += 1
                    if code != RowStatus.OK and len(first_fail[proxy.name]) < 3:
                        first_fail[proxy.name].append(f"row {row} ({table.strings[row]}): {why['text']}")
                dirty = True
                bar.update(1)
                if time.monotonic() - last_save >= flush_seconds:
                    save()
                raise_if_stop_requested()
        finally:
            bar.close()
            if any(c["rows"] for c in counts.values()):
                record_run(table, setup.key, counts, started_utc, time.monotonic() - started, dev)
                dirty = True
            if dirty:
                save()
    for name, c in counts.items():
        if c["nans"] or c["errors"]:
            warnings.warn(
                f"zero-cost proxy {name!r} gave no score for {c['nans'] + c['errors']} of {c['rows']} rows "
                f"({c['nans']} NaN/inf, {c['errors']} raised), stored as NaN; first: "
                + "; ".join(first_fail[name]),
                ProxyWarning,
                stacklevel=2,
            )
    reports = tuple(
        ProxyReport(
            proxy=p.name,
            rows_computed=int(counts[p.name]["rows"]),
            nans=int(counts[p.name]["nans"]),
            errors=int(counts[p.name]["errors"]),
            seconds=round(float(counts[p.name]["seconds"]), 4),
            rows_done=int((status[p.name] != RowStatus.PENDING).sum()),
            rows_total=table.n_rows,
            source=sources[p.name],
        )
        for p in chosen
    )
    return ComputeReport(
        path=str(path),
        dataset=setup.key,
        batch_size=batch_size,
        seed=seed,
        network={f: int(getattr(setup.network, f)) for f in NETWORK_FIELDS},
        data=setup.data_name if needs_data else None,
        device=str(dev),
        threads=torch.get_num_threads(),
        proxies=reports,
        build_seconds=round(build_seconds, 4),
        wall_seconds=round(time.monotonic() - started, 3),
        saves=saves,
        notes=tuple(setup.notes),
    )
