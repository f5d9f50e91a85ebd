"""Run one one-shot search on a table file and save its result and diagnostics."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from suite.jsonable import to_jsonable
from suite.oneshot.base import get_oneshot
from suite.oneshot.clock import OneShotClock
from suite.oneshot.result import OneShotResult


def open_benchmark(path: str | os.PathLike[str], search: str = "valid") -> Any:
    """A :class:`TabularBenchmark` over the table's dataset; a table with no run yet opens live.

    A live table trains the derived cell under the table's budget (and journals it beside the
    file); a tabular one only reads, so a partial table still being built is never written.
    """
    from suite.benchmarks.live import LiveBenchmark
    from suite.benchmarks.tabular import TabularBenchmark
    from tabular.errors import NasuiteError
    from tabular.table import Table

    table = Table.open(path)
    build = table.raw.root_attrs.get("build") or {}
    dataset = str(build.get("dataset") or table.datasets[0])
    try:
        return TabularBenchmark(table, dataset, search)
    except NasuiteError:
        if not build:
            raise
        return LiveBenchmark(table, hardware=False, save_every=0)


def run_oneshot(
    benchmark: Any,
    strategy: str,
    seed: int = 0,
    *,
    device: str | None = None,
    budget_seconds: float | None = None,
    out: str | os.PathLike[str] | None = None,
    data_root: str | None = None,
    **settings: Any,
) -> OneShotResult:
    """Search ``benchmark`` (a benchmark or a table path) with ``strategy``; save to ``out`` if given.

    ``out`` receives ``<strategy>-seed<seed>-result.json`` and the diagnostics (history JSON,
    alpha npz and plot) from :func:`suite.oneshot.diagnostics.save_diagnostics`.
    """
    if isinstance(benchmark, str | os.PathLike):
        benchmark = open_benchmark(benchmark)
    searcher = get_oneshot(strategy)(seed=seed, device=device, **settings)
    clock = OneShotClock(budget_seconds=budget_seconds)
    result = searcher.search(benchmark, clock, data_root=data_root)
    if out is not None:
        save_result(result, out)
    return result


def save_result(result: OneShotResult, out: str | os.PathLike[str]) -> Path:
    """Write ``<strategy>-seed<seed>-result.json`` and the run's diagnostics (history JSON, alpha
    npz and plot, from :func:`suite.oneshot.diagnostics.save_diagnostics`) into ``out``."""
    from suite.oneshot.diagnostics import History, save_diagnostics

    stem = f"{result.strategy}-seed{result.seed}"
    files = save_diagnostics(History(list(result.history)), Path(out), stem)
    path = Path(out) / f"{stem}-result.json"
    path.write_text(json.dumps(to_jsonable({**result.to_dict(), "files": files}), indent=1, allow_nan=False))
    return path
