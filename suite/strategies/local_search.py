"""Local search (hill climbing with restarts) as in White, Nolen, Savani & Hutter 2021,
"Exploring the Loss Landscape in Neural Architecture Search" (UAI), NASLib's ``LocalSearch``.

Start from the best of ``n_initial`` random cells; evaluate every feasible neighbour (one
decision changed) of the current cell, in a random order; move to the best neighbour if it beats
the current cell, otherwise the current cell is a local optimum and the search restarts from a
fresh random cell. A cell evaluated once in the run is never evaluated again: its value is
remembered and reused when it turns up in another neighbourhood.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from suite.errors import SearchSettingsError
from suite.strategies.base import Strategy, Trial
from suite.strategies.context import Arch, SearchContext
from suite.strategies.registry import register_strategy

#: uniform draws tried for an unevaluated cell before listing the feasible cells that are left
_FRESH_TRIES = 20
#: feasible sets up to this size may be listed (NB201 has 15,625 cells)
_MAX_LISTED = 2_000_000
#: bound on the internal moves of one ask (each is a decision on cells already evaluated)
_MAX_MOVES = 1_000


@register_strategy("local-search")
class LocalSearch(Strategy):
    """Local search: best-improvement hill climbing over neighbours, random restarts."""

    def __init__(self, *, context: SearchContext, seed: int, n_initial: int = 10) -> None:
        super().__init__(context=context, seed=seed)
        if isinstance(n_initial, bool) or not isinstance(n_initial, int) or n_initial < 1:
            raise SearchSettingsError(f"n_initial must be an int >= 1, got {n_initial!r}")
        self.n_initial = n_initial
        #: utility (larger is better, -inf = failed) of every cell evaluated in this run
        self.known: dict[Arch, float] = {}
        #: outstanding trials: number -> cell
        self.pending: dict[int, Arch] = {}
        #: the cell whose neighbourhood is being evaluated (None until the initial cells are in)
        self.current: Arch | None = None
        self.initial: list[Arch] = []
        self.restarts = 0
        self._neighbours: list[Arch] = []  # current's feasible neighbours, shuffled
        self._queue: list[Arch] = []  # cells of this round still to ask
        self.n_fillers = 0

    # ---- bookkeeping
    def _pending_cells(self) -> set[Arch]:
        return set(self.pending.values())

    def _is_new(self, arch: Arch) -> bool:
        return arch not in self.known and arch not in self._pending_cells()

    def _seen(self) -> set[Arch]:
        return set(self.known) | self._pending_cells()

    def _listable(self) -> bool:
        """True when the feasible cells can be listed (then exhaustion is detected exactly)."""
        ctx = self.context
        return ctx.accept is None and ctx.space.enumerable and ctx.n_feasible <= _MAX_LISTED

    def _exhausted(self) -> bool:
        return self._listable() and len(self._seen()) >= self.context.n_feasible

    def _fresh(self) -> Arch | None:
        """A uniform feasible cell neither evaluated nor outstanding (None when none is found)."""
        seen = self._seen()
        for _ in range(_FRESH_TRIES):
            arch = self.context.sample(self.rng)
            if arch not in seen:
                return arch
        if not self._listable():
            return None
        # most feasible cells are known: draw uniformly among the others, listed exactly
        space, mask = self.context.space, self.context.feasible
        cells = np.flatnonzero(mask) if mask is not None else np.arange(space.size)
        known = space.indices(np.asarray(sorted(seen), dtype=np.int64))
        rest = cells[~np.isin(cells, known)]
        if rest.size == 0:
            return None
        return space.from_index(int(self.rng.choice(rest)))

    def _ask(self, arch: Arch) -> Trial:
        trial = self._trial(arch)
        self.pending[trial.number] = trial.arch
        return trial

    def _round(self) -> list[Arch]:
        """Cells whose values the next decision needs."""
        if self.current is None:
            return self.initial
        return [self.current, *self._neighbours]

    def _start_round(self, arch: Arch) -> None:
        self.current = arch
        neighbours = self.context.neighbors(arch)
        order = self.rng.permutation(len(neighbours))
        self._neighbours = [neighbours[int(i)] for i in order]
        self._queue = [arch, *self._neighbours]

    def _decide(self) -> None:
        """Every value of the round is known: pick the start, move uphill, or restart."""
        if self.current is None:
            # first of the maxima in sampling order, so ties break the same way every run
            self._start_round(max(self.initial, key=lambda a: self.known[a]))
            return
        here = self.known[self.current]
        best = max(self._neighbours, key=lambda a: self.known[a], default=None)
        if best is not None and self.known[best] > here:
            self._start_round(best)
            return
        # a local optimum: restart from a fresh random cell (any cell once all are known)
        self.restarts += 1
        self._start_round(self._fresh() or self.context.sample(self.rng))

    # ---- ask / tell
    def ask(self) -> Trial:
        if len(self.initial) < self.n_initial:
            arch = self._fresh() or self.context.sample(self.rng)
            self.initial.append(arch)
            return self._ask(arch)
        for _ in range(0 if self._exhausted() else _MAX_MOVES):
            while self._queue:
                arch = self._queue.pop(0)
                if self._is_new(arch):
                    return self._ask(arch)
            waiting = self._pending_cells()
            if any(a in waiting for a in self._round()):
                # Asynchronous workers: the move waits for outstanding values of this round;
                # meanwhile a worker evaluates a random cell rather than stand idle.
                break
            self._decide()
        # waiting, or the feasible set is exhausted (a re-evaluation cannot then be avoided)
        self.n_fillers += 1
        return self._ask(self._fresh() or self.context.sample(self.rng))

    def tell(self, trial: Trial, values: Sequence[float]) -> None:
        arch = self.pending.pop(trial.number, trial.arch)
        self.known[arch] = self.utility(values)  # a failed run is -inf: never a move target
