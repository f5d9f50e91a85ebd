"""Scores and their status arrays in a table: resume, select rows, store, record runs.

Beside ``zero_cost/<dataset>/<proxy>`` (float64, NaN where no score) a table holds
``zero_cost_status/<dataset>/<proxy>`` (int8, :class:`RowStatus`), so that a NaN a proxy
really gave is told apart from a row never computed. Both are plain arrays of the table, so
``Table.save``/``Table.open`` round-trip them and the content checksum covers them; the status
group sits outside ``zero_cost/`` so that ``Table.zero_cost_names`` lists only scores.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from surrogates.proxies.base import ProxyConfigError, ProxyWarning
from tabular.errors import ArchNotInTableError

if TYPE_CHECKING:
    import torch

    from tabular.table import Table

STATUS_GROUP = "zero_cost_status"


class RowStatus(IntEnum):
    """What ``zero_cost_status/<dataset>/<proxy>`` says about a row."""

    PENDING = 0  #: not computed yet
    OK = 1  #: a finite score is stored
    NONFINITE = 2  #: the proxy gave NaN/inf; NaN is stored
    ERROR = 3  #: the proxy raised; NaN is stored


def load_state(
    table: Table, key: str, sources: dict[str, str], overwrite: bool
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Stored scores and statuses to resume from, per proxy; fresh arrays where there are none.

    Refuses to resume scores made with other settings (``sources`` differ) or scores that
    came from elsewhere without a status array (e.g. imported), unless ``overwrite``.
    """
    n = table.n_rows
    values: dict[str, np.ndarray] = {}
    status: dict[str, np.ndarray] = {}
    for name, source in sources.items():
        vpath, spath = f"zero_cost/{key}/{name}", f"{STATUS_GROUP}/{key}/{name}"
        have_v, have_s = vpath in table.raw.arrays, spath in table.raw.arrays
        if overwrite or not (have_v or have_s):
            values[name], status[name] = np.full(n, np.nan), np.zeros(n, dtype=np.int8)
            continue
        old = table.raw.array_attrs.get(vpath, {}).get("source")
        if have_v and not have_s:
            raise ProxyConfigError(
                f"{vpath} already holds scores from elsewhere ({old}); they are kept. Pass overwrite "
                "(CLI: --overwrite) to replace them, or store under another dataset name"
            )
        st = np.asarray(table.raw.arrays[spath], dtype=np.int8).copy()
        if old != source and (st != RowStatus.PENDING).any():
            raise ProxyConfigError(
                f"{vpath} was computed with other settings:\n  stored: {old}\n  now:    {source}\n"
                "rerun with the same settings to resume, or pass overwrite (CLI: --overwrite) to start again"
            )
        v = table.raw.arrays[vpath] if have_v else np.full(n, np.nan)
        values[name], status[name] = np.asarray(v, dtype=np.float64).copy(), st
    return values, status


def select_rows(
    n: int, rows: int | Sequence[int] | np.ndarray | None, status: dict[str, np.ndarray], retry_failed: bool
) -> dict[str, np.ndarray]:
    """Rows still to score per proxy: of ``rows`` (all, the first N to do, or given row numbers)."""
    limit = None
    if rows is None:
        candidates = np.arange(n)
    elif isinstance(rows, int | np.integer) and not isinstance(rows, bool):
        if rows < 0:
            raise ProxyConfigError(f"rows must be >= 0, got {rows}")
        candidates, limit = np.arange(n), int(rows)
    else:
        candidates = np.unique(np.asarray(rows, dtype=np.int64))
        bad = candidates[(candidates < 0) | (candidates >= n)]
        if bad.size:
            raise ArchNotInTableError(f"row {int(bad[0])} is outside 0..{n - 1}")
    redo = (RowStatus.PENDING, RowStatus.NONFINITE, RowStatus.ERROR) if retry_failed else (RowStatus.PENDING,)
    todo = {name: candidates[np.isin(st[candidates], redo)] for name, st in status.items()}
    if limit is not None:
        first = np.unique(np.concatenate(list(todo.values())))[:limit]
        todo = {name: r[np.isin(r, first)] for name, r in todo.items()}
    return todo


def score_one(
    proxy: Any, model: Any, x: torch.Tensor, y: torch.Tensor, seed: int
) -> tuple[float, RowStatus, dict[str, Any]]:
    """One score; failures become NaN with their reason (the caller summarises them once)."""
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProxyWarning)  # summarised per proxy at the end
            value = proxy(model, x, y, seed=seed)
    except Exception as exc:  # a failing cell must not stop a 15,625-cell run; it is recorded
        return (
            math.nan,
            RowStatus.ERROR,
            {"seconds": time.perf_counter() - t0, "text": f"{type(exc).__name__}: {exc}"},
        )
    code = RowStatus.OK if math.isfinite(value) else RowStatus.NONFINITE
    return value, code, {"seconds": time.perf_counter() - t0, "text": "non-finite score"}


def store(
    table: Table,
    key: str,
    values: dict[str, np.ndarray],
    status: dict[str, np.ndarray],
    sources: dict[str, str],
) -> None:
    """Put scores and statuses into the in-memory table (``Table.save`` writes them)."""
    for name, v in values.items():
        table.set_zero_cost(key, name, v, source=sources[name])
        table.raw.put(
            f"{STATUS_GROUP}/{key}/{name}",
            status[name].astype(np.int8),
            source=sources[name],
            description="0 not computed, 1 score stored, 2 proxy gave NaN/inf (NaN stored), "
            "3 proxy raised (NaN stored)",
        )


def record_run(
    table: Table, key: str, counts: dict[str, dict[str, Any]], started_utc: str, seconds: float, dev: Any
) -> None:
    """Append this run to ``zero_cost_status/<dataset>``'s attributes: when, where, what."""
    import platform

    import torch

    runs = table.raw.group(f"{STATUS_GROUP}/{key}").setdefault("runs", [])
    runs.append(
        {
            "started_utc": started_utc,
            "wall_seconds": round(seconds, 1),
            "rows": {name: int(c["rows"]) for name, c in counts.items()},
            "device": str(dev),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
        }
    )
