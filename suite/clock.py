"""The simulated clock and cost ledger, kept apart from every benchmark.

As in NATS-Bench's ``simulate_train_eval`` each evaluation is charged the training time the
table recorded for the queried cell and fidelity (or a cost model's estimate where the table
has none); as in syne-tune's simulator backend, W asynchronous workers are simulated with an
event queue over simulated time. Continuing a cell to more epochs of the same run charges only
the new epochs; evaluating a cell again at a fidelity it already reached is a new training run
and is charged in full (NATS-Bench's simulation has no cache either). Every evaluation costs at
least ``min_evaluation_seconds`` (a cell with no recorded time, such as a degenerate one, is not
free to look at, and so every run ends). A job that would finish after the budget is never
started, so a run never exceeds its budget.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from suite.benchmarks.base import Observation
from suite.errors import SearchSettingsError

#: seconds -> simulated GPU-days
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class ClockSettings:
    """Budget in simulated seconds, simulated workers, and whether strategy compute is charged."""

    budget_seconds: float
    workers: int = 1
    charge_strategy_time: bool = False
    min_evaluation_seconds: float = 0.01

    def __post_init__(self) -> None:
        if not (isinstance(self.budget_seconds, int | float) and math.isfinite(self.budget_seconds)):
            raise SearchSettingsError(
                f"budget must be a finite number of seconds, got {self.budget_seconds!r}"
            )
        if self.budget_seconds <= 0:
            raise SearchSettingsError(f"budget must be > 0 seconds, got {self.budget_seconds!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise SearchSettingsError(f"workers must be an integer >= 1, got {self.workers!r}")
        if not self.min_evaluation_seconds > 0:
            raise SearchSettingsError(
                f"min_evaluation_seconds must be > 0, got {self.min_evaluation_seconds!r}"
            )


TrainCost = Callable[[Observation], float]


@dataclass
class CostLedger:
    """What each evaluation costs: new training epochs, evaluation, and strategy compute.

    ``fallback`` estimates the training time of an observation whose ``train_seconds`` is NaN
    (NB201's published CSVs carry no train times; see :mod:`suite.costs`). ``nested`` says the
    fidelities are epochs of one training run, so continuing a cell is charged the difference.
    """

    fallback: TrainCost | None = None
    nested: bool = False
    min_seconds: float = 0.0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    strategy_seconds: float = 0.0
    evaluations: int = 0
    estimated: int = 0
    _trained: dict[tuple[tuple[int, ...], Any], float] = field(default_factory=dict)

    def charge(self, obs: Observation) -> float:
        """Seconds the evaluation ``obs`` costs; records it."""
        full = obs.train_seconds
        if not math.isfinite(full):
            if self.fallback is None:
                raise SearchSettingsError(
                    f"no train time for cell {obs.arch} at {obs.fidelity} epochs and no cost model"
                )
            full = float(self.fallback(obs))
            self.estimated += 1
        key = (obs.arch, obs.seed)
        already = self._trained.get(key) if self.nested else None
        # continuing the same run to more epochs pays the new ones; a first run or a repeat pays all
        continues = already is not None and full > already
        train = full - already if continues and already is not None else full
        if self.nested:
            self._trained[key] = max(full, already or 0.0)
        evaluate = float(obs.metrics.get("eval_seconds", 0.0) or 0.0)
        self.train_seconds += train
        self.eval_seconds += evaluate
        self.evaluations += 1
        return max(train + evaluate, self.min_seconds)

    def add_strategy_time(self, seconds: float) -> None:
        self.strategy_seconds += seconds

    def summary(self) -> dict[str, float]:
        return {
            "train_seconds": self.train_seconds,
            "eval_seconds": self.eval_seconds,
            "strategy_seconds": self.strategy_seconds,
            "evaluations": self.evaluations,
            "estimated_train_times": self.estimated,
        }


@dataclass(order=True)
class _Job:
    finish: float
    order: int
    worker: int = field(compare=False)
    start: float = field(compare=False)
    payload: Any = field(compare=False)


class SimulatedClock:
    """W simulated workers over simulated seconds; jobs finish in time order.

    ``submit`` starts a job on the worker that becomes free first; ``next_finished`` advances
    time to the earliest finishing job. Strategy compute time, when charged, delays the worker
    that is about to start (the strategy runs on it before the job).
    """

    def __init__(self, settings: ClockSettings) -> None:
        self.settings = settings
        self._free_at = [0.0] * settings.workers
        self._running: list[_Job] = []
        self._order = 0
        self.now = 0.0
        self.stopped = False

    @property
    def budget(self) -> float:
        return self.settings.budget_seconds

    def has_idle_worker(self) -> bool:
        return not self.stopped and len(self._running) < self.settings.workers

    def _next_worker(self) -> int:
        busy = {job.worker for job in self._running}
        idle = [w for w in range(self.settings.workers) if w not in busy]
        return min(idle, key=lambda w: (max(self._free_at[w], self.now), w))

    def delay_next(self, seconds: float) -> None:
        """Charge ``seconds`` of strategy compute to the worker that starts next."""
        if self.settings.charge_strategy_time and self.has_idle_worker():
            worker = self._next_worker()
            self._free_at[worker] = max(self._free_at[worker], self.now) + seconds

    def submit(self, seconds: float, payload: Any) -> bool:
        """Start a job of ``seconds``; ``False`` (and the clock stops) if it would end past the budget."""
        worker = self._next_worker()
        start = max(self._free_at[worker], self.now)
        finish = start + max(float(seconds), 0.0)
        if finish > self.budget:
            self.stopped = True
            return False
        heapq.heappush(self._running, _Job(finish, self._order, worker, start, payload))
        self._order += 1
        return True

    def next_finished(self) -> tuple[float, Any] | None:
        """Advance to the earliest finishing job and return ``(time, payload)``; ``None`` if idle."""
        if not self._running:
            return None
        job = heapq.heappop(self._running)
        self.now = job.finish
        self._free_at[job.worker] = job.finish
        return job.finish, job.payload


@dataclass(frozen=True)
class Baseline:
    """A published search cost to compare with."""

    name: str
    gpu_days: float
    source: str


#: Search costs quoted by the NAS literature (GPU-days).
BASELINES = (
    Baseline("NASNet (RL)", 2000.0, "Zoph et al. 2018, 500 GPUs x 4 days"),
    Baseline("AmoebaNet (evolution)", 3150.0, "Real et al. 2019, 450 GPUs x 7 days"),
    Baseline("ENAS", 0.5, "Pham et al. 2018"),
    Baseline("DARTS (1st order)", 1.5, "Liu et al. 2019"),
    Baseline("DARTS (2nd order)", 4.0, "Liu et al. 2019"),
)


def gpu_days(seconds: float, speedup: float = 1.0) -> float:
    """Simulated seconds as GPU-days; ``speedup`` converts another device's seconds to GPU seconds."""
    return seconds / speedup / SECONDS_PER_DAY


def times_cheaper(seconds: float, speedup: float = 1.0) -> dict[str, float]:
    """How many times cheaper than each baseline a search of ``seconds`` is."""
    days = gpu_days(seconds, speedup)
    return {b.name: (b.gpu_days / days if days > 0 else math.inf) for b in BASELINES}
