"""What a strategy may know without training: the space, fidelities, objectives, feasibility.

A :class:`SearchContext` is handed to every strategy. Hardware constraints and the cells a
(partial) table actually holds are folded into one feasibility mask over the space's indices,
so every sampling and mutation helper here returns only cells the run may evaluate; strategies
that use these helpers honour constraints without knowing about them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from suite.benchmarks.base import Objective
from suite.errors import ConstraintError
from tabular.spaces import SearchSpace

Arch = tuple[int, ...]

_MAX_REJECTIONS = 10_000


@dataclass(frozen=True)
class SearchContext:
    """The space and what is free to know about its cells.

    ``feasible`` is a boolean mask over ``space.indices`` (enumerable spaces) or ``None``
    (every cell allowed, or ``accept`` decides); ``accept`` checks one cell of a space too
    large to enumerate. ``zero_cost`` maps a proxy name to scores over all indices, for
    strategies that rank cells before training them.
    """

    space: SearchSpace
    objectives: tuple[Objective, ...]
    fidelities: tuple[int, ...]
    feasible: np.ndarray | None = None
    accept: Callable[[Arch], bool] | None = None
    zero_cost: Callable[[str], np.ndarray] | None = None
    nested_fidelities: bool = False
    _feasible_indices: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.feasible is not None:
            mask = np.asarray(self.feasible, dtype=bool)
            if mask.shape != (self.space.size,):
                raise ConstraintError(
                    f"feasibility mask has shape {mask.shape}, expected ({self.space.size},)"
                )
            indices = np.flatnonzero(mask)
            if indices.size == 0:
                raise ConstraintError("no cell of the space satisfies the constraints")
            object.__setattr__(self, "feasible", mask)
            object.__setattr__(self, "_feasible_indices", indices)

    @property
    def max_fidelity(self) -> int:
        return max(self.fidelities)

    @property
    def n_feasible(self) -> int:
        if self._feasible_indices is not None:
            return int(self._feasible_indices.size)
        return int(self.space.size)

    def is_feasible(self, arch: Sequence[int]) -> bool:
        arch = self.space.validate(arch)
        if self.feasible is not None and not self.feasible[self.space.index(arch)]:
            return False
        return self.accept is None or bool(self.accept(arch))

    def sample(self, rng: np.random.Generator) -> Arch:
        """One feasible cell, uniformly over the feasible set."""
        return self.sample_many(rng, 1)[0]

    def sample_many(self, rng: np.random.Generator, n: int) -> list[Arch]:
        """``n`` feasible cells drawn uniformly with replacement."""
        if self._feasible_indices is not None:
            picks = rng.choice(self._feasible_indices, size=n)
            return [tuple(int(v) for v in row) for row in self.space.from_indices(picks)]
        return [self._rejection_sample(rng) for _ in range(n)]

    def _rejection_sample(self, rng: np.random.Generator) -> Arch:
        for _ in range(_MAX_REJECTIONS):
            arch = self.space.sample(rng)
            if self.is_feasible(arch):
                return arch
        raise ConstraintError(f"no feasible cell in {_MAX_REJECTIONS} uniform draws; loosen the constraints")

    def neighbors(self, arch: Sequence[int]) -> list[Arch]:
        """The feasible cells one decision away from ``arch``."""
        return [n for n in self.space.neighbors(self.space.validate(arch)) if self.is_feasible(n)]

    def mutate(self, arch: Sequence[int], rng: np.random.Generator) -> Arch:
        """A uniform single-decision mutation of ``arch`` that is feasible.

        Draws mutations until one is feasible; if none of the neighbours is, a fresh feasible
        cell (so evolution can always continue under a tight constraint).
        """
        arch = self.space.validate(arch)
        for _ in range(4 * self.space.n_decisions):
            child = self.space.mutate(arch, rng)
            if self.is_feasible(child):
                return child
        options = self.neighbors(arch)
        if options:
            return options[int(rng.integers(len(options)))]
        return self.sample(rng)

    def utility(self, values: Sequence[float]) -> float:
        """The first objective oriented so that larger is better (NaN stays NaN)."""
        value = float(values[0])
        return -value if self.objectives[0].minimise else value
