"""Regularized evolution with a zero-cost warm start: Abdelfattah, Mehrotra, Dudziak & Lane
2021, "Zero-Cost Proxies for Lightweight NAS" (ICLR), section "warmup".

Before any training, score ``n_candidates`` random feasible cells with a zero-cost proxy
(synflow in the paper) and seed the population of regularized evolution (Real et al. 2019)
with the ``population_size`` best of them; the search then runs as plain aging evolution.
The proxy scores are read from the benchmark (``context.zero_cost``); the time a GPU would
spend computing them is not charged to the simulated clock.
"""

from __future__ import annotations

import numpy as np

from suite.errors import SearchSettingsError
from suite.strategies.context import Arch, SearchContext
from suite.strategies.evolution import RegularizedEvolution
from suite.strategies.registry import register_strategy

#: tried in this order when no proxy is named: the paper's synflow, then tables' names for it
DEFAULT_PROXIES = ("synflow", "naslib_synflow", "naswot")


@register_strategy("zc-evolution")
class ZeroCostEvolution(RegularizedEvolution):
    """Regularized evolution whose initial population is the proxy's top cells (warm start)."""

    def __init__(
        self,
        *,
        context: SearchContext,
        seed: int,
        population_size: int = 10,
        sample_size: int = 3,
        n_candidates: int = 3000,
        proxy: str | None = None,
    ) -> None:
        super().__init__(context=context, seed=seed, population_size=population_size, sample_size=sample_size)
        if (
            isinstance(n_candidates, bool)
            or not isinstance(n_candidates, int)
            or n_candidates < population_size
        ):
            raise SearchSettingsError(
                f"n_candidates must be an int >= population_size={population_size}, got {n_candidates!r}"
            )
        if not context.space.enumerable:
            raise SearchSettingsError(
                f"zc-evolution needs proxy scores by cell index; space {context.space.name!r} "
                "is not enumerable"
            )
        self.n_candidates = n_candidates
        self.proxy, scores = self._resolve_proxy(context, proxy)
        self.scores = scores
        self.ranked = self._rank_candidates(scores)
        self._next_ranked = 0

    @staticmethod
    def _resolve_proxy(context: SearchContext, proxy: str | None) -> tuple[str, np.ndarray]:
        """The proxy's name and scores over every index; a missing proxy lists the available ones."""
        if context.zero_cost is None:
            raise SearchSettingsError("zc-evolution needs zero-cost proxy scores; this benchmark has none")
        names = DEFAULT_PROXIES if proxy is None else (proxy,)
        available: list[str] = []
        for name in names:
            try:
                scores = np.asarray(context.zero_cost(name), dtype=float)
            except KeyError as error:  # UnknownNameError (a KeyError) lists the known names
                available = list(getattr(error, "known", available))
                continue
            if scores.shape != (context.space.size,):
                raise SearchSettingsError(
                    f"proxy {name!r}: scores of shape {scores.shape}, expected ({context.space.size},)"
                )
            if not np.isfinite(scores).any():
                raise SearchSettingsError(f"proxy {name!r} has no finite score on any cell")
            return name, scores
        wanted = (
            f"proxy {proxy!r}" if proxy is not None else f"any of the default proxies {list(DEFAULT_PROXIES)}"
        )
        raise SearchSettingsError(
            f"zc-evolution: the benchmark has no scores for {wanted}; available: "
            f"{', '.join(available) or '(none)'}"
        )

    def _rank_candidates(self, scores: np.ndarray) -> list[Arch]:
        """Distinct random feasible candidates, best proxy score first (NaN last, ties by draw order)."""
        space = self.context.space
        cells = self.context.sample_many(self.rng, self.n_candidates)
        # sampling is with replacement: keep each cell once, in the order it was first drawn
        unique = list(dict.fromkeys(cells))
        values = scores[space.indices(np.asarray(unique, dtype=np.int64))]
        keyed = np.where(np.isnan(values), -np.inf, values)
        order = np.argsort(-keyed, kind="stable")
        return [unique[int(i)] for i in order]

    def initial_cells(self) -> Arch:
        """The next cell of the proxy ranking (a random one if the ranking is used up)."""
        if self._next_ranked < len(self.ranked):
            self._next_ranked += 1
            return self.ranked[self._next_ranked - 1]
        return self.context.sample(self.rng)
