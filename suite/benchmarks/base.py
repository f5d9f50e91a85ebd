"""The ``Benchmark`` protocol: one interface over tables, surrogates and live training.

A benchmark answers "what would training ``arch`` for ``fidelity`` epochs with ``seed`` have
given, and what would it have cost?" with an :class:`Observation`. It holds no clock: the
clock (see the strategies' runner) decides what a query costs and when time runs out, so the
same benchmark can serve many strategies and many simulated workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from tabular.errors import NasuiteError
from tabular.spaces import SearchSpace


class FidelityError(NasuiteError, ValueError):
    """A fidelity (number of epochs) the benchmark does not have."""


@dataclass(frozen=True)
class Objective:
    """A metric a search optimises; accuracies are maximised, costs minimised."""

    name: str
    minimise: bool = False


@dataclass(frozen=True)
class Observation:
    """What one query returns.

    ``metrics`` are the values after ``fidelity`` epochs (accuracies in %, e.g. ``valid``,
    ``test``); ``train_seconds`` is the cumulative training time to reach ``fidelity`` (NaN
    where unknown); ``hardware`` holds the cell's cost metrics (params, FLOPs, latency).
    """

    arch: tuple[int, ...]
    fidelity: int
    seed: int | None
    metrics: Mapping[str, float]
    train_seconds: float
    hardware: Mapping[str, float] = field(default_factory=dict)
    source: str = ""


@runtime_checkable
class Benchmark(Protocol):
    """Anything with a space, objectives, fidelities and ``query`` (DESIGN.md)."""

    space: SearchSpace
    dataset: str
    objectives: tuple[Objective, ...]

    @property
    def fidelities(self) -> tuple[int, ...]: ...

    def query(
        self, arch: Sequence[int], fidelity: int | None = None, seed: int | None = None
    ) -> Observation: ...


def check_fidelity(fidelities: Sequence[int], fidelity: int | None) -> int:
    """``fidelity`` if the benchmark has it (``None`` = the highest), else a typed error."""
    if fidelity is None:
        return max(fidelities)
    if fidelity not in fidelities:
        raise FidelityError(
            f"fidelity {fidelity!r} epochs is not available; expected one of {sorted(fidelities)}"
        )
    return int(fidelity)
