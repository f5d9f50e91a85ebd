"""The one-shot part of ``nasuite run``: every registered one-shot strategy at a short budget.

DARTS v1/v2 (Liu et al., ICLR 2019), GDAS (Dong & Yang, CVPR 2019), SPOS (Guo et al., ECCV 2020)
and latency-aware DARTS (FBNet, Wu et al., CVPR 2019; ProxylessNAS, Cai et al., ICLR 2019) each
train a weight-sharing supernet for real on the table's own data and derive one cell
(:mod:`suite.oneshot`). The job reports each :class:`~suite.oneshot.result.OneShotResult` as it
is: the cell's accuracy looked up in the table (a cell the partial table lacks is reported as
missing, never estimated), regret to the table's optimum, the share of skip connections, and the
measured wall time on its device converted to GPU-days as the table's CPU seconds are.

The default budget is short (:data:`SHORT_BUDGET`) so that all of them together take well under
a minute on one CPU core: it shows what each method costs and derives at that budget, not what it
finds after the papers' 50-250 epochs (``nasuite oneshot`` runs longer searches).
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from suite.report.exports import times_cheaper_columns

if TYPE_CHECKING:
    from suite.oneshot.result import OneShotResult

#: every one-shot strategy in ``nasuite run``: 2 supernet epochs of 256 training images each
SHORT_BUDGET: dict[str, Any] = {"epochs": 2, "images_per_epoch": 256, "batch_size": 64}
#: cuts of the same kind for one strategy (SPOS's evolution scores fewer cells on fewer images)
SHORT_EXTRA: dict[str, dict[str, Any]] = {
    "spos": {"population": 8, "generations": 2, "parents": 4, "eval_images": 500},
    "darts-latency": {"latency_repeats": 10},
}

#: the columns of ``oneshot.csv`` / ``oneshot.parquet`` (times_cheaper_* follow ``gpu_days``)
COLUMNS: dict[str, str] = {
    "strategy": "string", "seed": "int64", "arch": "string", "index": "int64", "report": "string",
    "accuracy": "float64", "accuracy_source": "string", "in_table": "bool", "optimum": "float64",
    "regret": "float64", "skip_share": "float64", "search_seconds": "float64", "device": "string",
    "gpu_days": "float64",
    **dict.fromkeys(times_cheaper_columns(1.0), "float64"),
    "epochs_run": "int64", "stopped_early": "bool",
}  # fmt: skip


def short_settings(name: str) -> dict[str, Any]:
    """The settings ``nasuite run`` gives one-shot strategy ``name``."""
    return {**SHORT_BUDGET, **SHORT_EXTRA.get(name, {})}


@dataclass
class OneShotSection:
    """What the one-shot searches found; ``skipped`` says why none ran (e.g. a published table)."""

    results: list[OneShotResult] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per run: the CSV/Parquet export and the report's table."""
        return [
            {
                **{k: getattr(r, k) for k in COLUMNS if hasattr(r, k)},
                "in_table": r.accuracy_source == "table",
                **times_cheaper_columns(r.gpu_days),
            }
            for r in self.results
        ]

    def as_dict(self) -> dict[str, Any]:
        """The ``oneshot`` part of ``--json``: the settings and every result in full."""
        from suite.clock import BASELINES

        runs = []
        for r in self.results:
            days = r.gpu_days
            cheaper = {b.name: (b.gpu_days / days if days > 0 else None) for b in BASELINES}
            runs.append({**r.to_dict(), "times_cheaper": cheaper})
        return {
            "budget": SHORT_BUDGET,
            "extra": SHORT_EXTRA,
            "runs": runs,
            "failures": self.failures,
            "skipped": self.skipped,
        }


def run_oneshot_searches(
    benchmark: Any, names: Sequence[str], seeds: Sequence[int], device: str | None = None
) -> OneShotSection:
    """Each strategy of ``names`` once per seed on ``benchmark``'s table data, loaded once.

    A table that records no data to train on (a published one) skips them all with the reason;
    a run that raises is recorded with its traceback and the others go on, as multi-trial runs do.
    """
    from suite.oneshot import OneShotClock, get_oneshot
    from suite.oneshot.setup import prepare
    from tabular.errors import NasuiteError

    section = OneShotSection()
    try:
        data = prepare(benchmark, device).data
    except (NasuiteError, OSError) as exc:
        section.skipped = f"{type(exc).__name__}: {exc}"
        return section
    for name in names:
        for seed in seeds:
            try:
                searcher = get_oneshot(name)(seed=seed, device=device, **short_settings(name))
                section.results.append(searcher.search(benchmark, OneShotClock(), data=data))
            except Exception:
                section.failures.append({"strategy": name, "seed": seed, "error": traceback.format_exc()})
    return section
