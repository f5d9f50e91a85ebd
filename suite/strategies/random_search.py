"""Random search (Bergstra & Bengio 2012; the NAS baseline of Li & Talwalkar 2019)."""

from __future__ import annotations

from collections.abc import Sequence

from suite.strategies.base import Strategy, Trial
from suite.strategies.registry import register_strategy


@register_strategy("random")
class RandomSearch(Strategy):
    """Random search: uniform feasible cells at the highest fidelity."""

    def ask(self) -> Trial:
        return self._trial(self.context.sample(self.rng))

    def tell(self, trial: Trial, values: Sequence[float]) -> None:
        """Random search learns nothing."""
