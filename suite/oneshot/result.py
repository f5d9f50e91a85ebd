"""The outcome of a one-shot search: the derived cell, its table accuracy, regret and real cost.

The derived cell is scored by the table (``report`` quantity at the table's last epoch, seed
mean). A partial table may lack it: then it is trained under the table's budget by
:class:`~suite.benchmarks.live.LiveBenchmark` when the strategy's ``train_missing`` is set (or
the benchmark is live), and otherwise reported as NaN with ``accuracy_source`` saying why.
The search cost is the clock's measured seconds, converted to GPU-days by
:mod:`suite.conversion` (a CPU's seconds are normalised by training throughput).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from suite.conversion import conversion_for
from tabular.errors import NasuiteError
from tabular.spaces.nb201 import SKIP

if TYPE_CHECKING:
    from suite.oneshot.base import OneShotStrategy
    from suite.oneshot.clock import OneShotClock
    from suite.oneshot.diagnostics import History
    from suite.oneshot.setup import OneShotSetup
    from tabular.table import Table

NAN = float("nan")


@dataclass(frozen=True)
class OneShotResult:
    """A derived cell, what the table says of it, and what finding it cost."""

    strategy: str
    seed: int
    arch: str
    index: int
    report: str
    accuracy: float
    accuracy_source: str
    optimum: float
    regret: float
    skip_share: float
    search_seconds: float
    phases: dict[str, float]
    device: str
    gpu_days: float
    gpu_days_assumption: str
    epochs_run: int
    stopped_early: bool
    paper: str
    settings: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def report_name(table: Table, dataset: str, quantity: str) -> str:
    """``quantity@E`` at the table's last epoch that records it (e.g. ``test@2``)."""
    from tabular.errors import UnknownMetricError
    from tabular.table import parse_metric

    names = table.metric_names(dataset)
    epochs = [parse_metric(n).epoch for n in names if parse_metric(n).quantity == quantity]
    if not epochs:
        raise UnknownMetricError(quantity, sorted({parse_metric(n).quantity for n in names}), where=dataset)
    return f"{quantity}@{max(epochs)}"


def score_cell(
    benchmark: Any, setup: OneShotSetup, arch: tuple[int, ...], quantity: str, train_missing: bool
) -> tuple[str, float, str]:
    """``(metric name, accuracy, where it came from)`` for ``arch``."""
    table, index = setup.table, setup.space.index(arch)
    name = f"{quantity}@{setup.budget.epochs}"
    with contextlib.suppress(NasuiteError):
        name = report_name(table, setup.dataset, quantity)
    if hasattr(benchmark, "metric_by_index"):
        with contextlib.suppress(NasuiteError):
            value = float(benchmark.metric_by_index(name)[index])
            if math.isfinite(value):
                return name, value, "table"
        if not train_missing:
            return name, NAN, "missing from the table (partial table; set train_missing to train it)"
    from suite.benchmarks.live import LiveBenchmark

    live = benchmark if isinstance(benchmark, LiveBenchmark) else LiveBenchmark(table, hardware=False)
    obs = live.query(arch)
    return name, float(obs.metrics.get(quantity, NAN)), obs.source


def gpu_days(setup: OneShotSetup, seconds: float) -> tuple[float, str]:
    """Measured seconds as GPU-days, with the assumption in words."""
    days = seconds / 86_400.0
    if setup.device.type == "cuda":
        return days, "measured on a GPU: its seconds are GPU seconds"
    conversion = None
    if setup.table.provenance.get("kind") == "built":
        with contextlib.suppress(NasuiteError, KeyError, ValueError, ZeroDivisionError):
            conversion = conversion_for(setup.table, setup.dataset)
    if conversion is None or not (math.isfinite(conversion.speedup) and conversion.speedup > 0):
        return days, "measured on a CPU with no known training rate: CPU seconds counted as GPU seconds"
    return days / conversion.speedup, (
        f"measured on a CPU; normalised as the table's CPU seconds are (same machine assumed): "
        f"{conversion.assumption}"
    )


def skip_share(arch: tuple[int, ...]) -> float:
    return float(np.mean([op == SKIP for op in arch]))


def finish(
    strategy: OneShotStrategy,
    benchmark: Any,
    setup: OneShotSetup,
    clock: OneShotClock,
    arch: tuple[int, ...],
    history: History,
    extra: dict[str, Any],
) -> OneShotResult:
    """Score the derived cell and put the cost and diagnostics together."""
    s = strategy.settings
    name, accuracy, source = score_cell(benchmark, setup, arch, s.report, s.train_missing)
    optimum = NAN
    with contextlib.suppress(NasuiteError):
        optimum = setup.table.optimum(setup.dataset, name)[1]
    days, assumption = gpu_days(setup, clock.seconds)
    epochs_run = sum(1 for r in history.epochs if "epoch" in r)
    return OneShotResult(
        strategy=strategy.name,
        seed=strategy.seed,
        arch=setup.space.to_str(arch),
        index=setup.space.index(arch),
        report=name,
        accuracy=accuracy,
        accuracy_source=source,
        optimum=optimum,
        regret=optimum - accuracy,
        skip_share=skip_share(arch),
        search_seconds=clock.seconds,
        phases=dict(clock.phases),
        device=clock.device,
        gpu_days=days,
        gpu_days_assumption=assumption,
        epochs_run=epochs_run,
        stopped_early=epochs_run < s.epochs,
        paper=strategy.paper,
        settings=asdict(s),
        history=history.to_list(),
        extra=extra,
    )
