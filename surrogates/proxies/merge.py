"""Fold zero-cost scores computed in a copy of a table back into the table.

Scoring every cell takes hours; it can run on copies of a table (another core, another machine,
or while a builder holds the table's lock) and be merged afterwards. A row is taken from the
copy only where the copy finished it and the table has not; scores made with other settings
(another network, batch or seed, as recorded in each array's ``source``) are refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from surrogates.proxies.base import ProxyConfigError
from surrogates.proxies.table_state import STATUS_GROUP, RowStatus, store


@dataclass(frozen=True)
class MergeReport:
    """Rows taken per ``<dataset>/<proxy>``, and where they went."""

    source: str
    target: str
    rows: dict[str, int]


def _status_paths(arrays: dict[str, np.ndarray]) -> list[str]:
    prefix = STATUS_GROUP + "/"
    return sorted(p[len(prefix) :] for p in arrays if p.startswith(prefix))


def merge_scores(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> MergeReport:
    """Copy finished rows of every scored proxy in ``source`` into ``target`` (saved atomically)."""
    from tabular.builder.journal import BuildLock
    from tabular.table import Table

    with BuildLock(Path(target)):
        src, dst = Table.open(source), Table.open(target)
        if src.space.name != dst.space.name or not np.array_equal(src.arch_index, dst.arch_index):
            raise ProxyConfigError(
                f"{source} and {target} do not hold the same cells (space {src.space.name} with "
                f"{src.n_rows} rows vs {dst.space.name} with {dst.n_rows}); merge only copies of one table"
            )
        taken: dict[str, int] = {}
        for name in _status_paths(src.raw.arrays):
            key, proxy = name.rsplit("/", 1)
            vpath, spath = f"zero_cost/{key}/{proxy}", f"{STATUS_GROUP}/{name}"
            source_text = src.raw.array_attrs.get(vpath, {}).get("source")
            s_status = np.asarray(src.raw.arrays[spath], dtype=np.int8)
            s_values = np.asarray(src.raw.arrays[vpath], dtype=np.float64)
            if spath in dst.raw.arrays:
                d_status = np.asarray(dst.raw.arrays[spath], dtype=np.int8).copy()
                d_values = np.asarray(dst.raw.arrays[vpath], dtype=np.float64).copy()
                d_source = dst.raw.array_attrs.get(vpath, {}).get("source")
                if d_source != source_text and (d_status != RowStatus.PENDING).any():
                    raise ProxyConfigError(
                        f"{vpath} was computed with other settings:\n  {target}: {d_source}\n"
                        f"  {source}: {source_text}\nnothing was merged"
                    )
            elif vpath in dst.raw.arrays:
                raise ProxyConfigError(
                    f"{target} holds {vpath} from elsewhere (no status array); nothing was merged"
                )
            else:
                d_status = np.zeros(dst.n_rows, dtype=np.int8)
                d_values = np.full(dst.n_rows, np.nan)
            take = (s_status != RowStatus.PENDING) & (d_status == RowStatus.PENDING)
            d_values[take], d_status[take] = s_values[take], s_status[take]
            store(dst, key, {proxy: d_values}, {proxy: d_status}, {proxy: str(source_text)})
            taken[name] = int(take.sum())
        if any(taken.values()):
            dst.save(target)
    return MergeReport(str(source), str(target), taken)
