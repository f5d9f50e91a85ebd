"""Regularized (aging) evolution, Real et al. 2019, "Regularized Evolution for Image
Classifier Architecture Search" (AmoebaNet), as run on NAS-Bench-201 (population 10, sample 3).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from suite.errors import SearchSettingsError
from suite.strategies.base import Strategy, Trial
from suite.strategies.context import Arch, SearchContext
from suite.strategies.registry import register_strategy


@register_strategy("evolution")
class RegularizedEvolution(Strategy):
    """Regularized evolution: tournament selection, single mutation, the oldest dies."""

    def __init__(
        self, *, context: SearchContext, seed: int, population_size: int = 10, sample_size: int = 3
    ) -> None:
        super().__init__(context=context, seed=seed)
        if population_size < 2:
            raise SearchSettingsError(f"population_size must be >= 2, got {population_size}")
        if not 1 <= sample_size <= population_size:
            raise SearchSettingsError(
                f"sample_size must be in 1..population_size={population_size}, got {sample_size}"
            )
        self.population_size = population_size
        self.sample_size = sample_size
        #: (arch, utility) in order of birth; ``maxlen`` makes the oldest die (aging).
        self.population: deque[tuple[Arch, float]] = deque(maxlen=population_size)
        self._initial_asked = 0

    def initial_cells(self) -> Arch:
        """A cell of the random initial population (subclasses warm-start here)."""
        return self.context.sample(self.rng)

    def ask(self) -> Trial:
        if self._initial_asked < self.population_size or not self.population:
            self._initial_asked += 1
            return self._trial(self.initial_cells())
        picks = self.rng.choice(len(self.population), size=min(self.sample_size, len(self.population)))
        parent = max((self.population[int(i)] for i in picks), key=lambda member: member[1])
        return self._trial(self.context.mutate(parent[0], self.rng))

    def tell(self, trial: Trial, values: Sequence[float]) -> None:
        self.population.append((trial.arch, self.utility(values)))
