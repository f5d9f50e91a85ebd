"""The ask/tell ``Strategy`` contract shared by every multi-trial search.

A strategy proposes a :class:`Trial` (a cell and, for multi-fidelity methods, a number of
epochs) with :meth:`Strategy.ask` and learns the observed objective values with
:meth:`Strategy.tell`. It owns a seeded ``numpy.random.Generator`` and nothing else global, so a
run is reproducible from its seed; it never sees the clock or the benchmark, only the
:class:`~suite.strategies.context.SearchContext`. Several trials may be outstanding at once
(asynchronous simulated workers): ``tell`` may arrive in any order.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from suite.strategies.context import Arch, SearchContext


@dataclass(frozen=True)
class Trial:
    """One proposal: ``arch`` trained for ``fidelity`` epochs (``None`` = the highest)."""

    number: int
    arch: Arch
    fidelity: int | None = None


class Strategy(ABC):
    """Base class: keyword-only construction, a private generator, ask/tell."""

    name: ClassVar[str] = ""
    #: True for strategies that use every objective (they receive all values in ``tell``).
    multi_objective: ClassVar[bool] = False

    def __init__(self, *, context: SearchContext, seed: int) -> None:
        self.context = context
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self._asked = 0

    def _trial(self, arch: Sequence[int], fidelity: int | None = None) -> Trial:
        trial = Trial(self._asked, tuple(int(v) for v in arch), fidelity)
        self._asked += 1
        return trial

    @abstractmethod
    def ask(self) -> Trial:
        """The next cell to evaluate."""

    @abstractmethod
    def tell(self, trial: Trial, values: Sequence[float]) -> None:
        """The objective values of ``trial`` (in ``context.objectives`` order; NaN = failed)."""

    def utility(self, values: Sequence[float]) -> float:
        """Larger-is-better score of the first objective; a failed run counts as ``-inf``."""
        value = self.context.utility(values)
        return -math.inf if math.isnan(value) else value
