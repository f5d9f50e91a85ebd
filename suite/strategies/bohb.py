"""BOHB: Falkner, Klein & Hutter 2018, "BOHB: Robust and Efficient Hyperparameter Optimization
at Scale" (ICML), i.e. Hyperband (Li et al. 2018, JMLR) whose new configurations come from a
TPE-like model, here in numpy over categorical decisions.

Hyperband: the rungs are the benchmark's fidelities between ``min_fidelity`` and
``max_fidelity`` nearest (in log) to the geometric ladder ``max, max/eta, max/eta^2, ...``
continued down to ``min`` (duplicates merged): (1, 3, 9) for epochs 1..9 and eta 3, (12, 200)
for NB201, (1, 2) for a 2-epoch table. With ``S + 1`` rungs, brackets ``s = S, S-1, .., 0``
repeat; bracket ``s`` starts ``floor((S+1)/(s+1)) * eta^s`` cells on rung ``S-s`` and successive
halving promotes the best ``1/eta`` of each rung (failed runs are never promoted) once all of
the rung's results are in. When only one fidelity lies in range every bracket is a single cell
at that fidelity: the strategy degenerates to plain model-based sampling (BOHB's model with
``random_fraction`` random cells), e.g. under NB201's protocol of searching on 12 epochs.
Asynchronous workers: an ``ask`` while every open rung waits for results starts the next
bracket instead of blocking (as HpBandSter's master does); the oldest bracket goes first.

Model (as HpBandSter's ``BOHB`` config generator): on the highest fidelity that has enough
observations, the best ``top_n_percent`` (at least ``min_points_in_model``) form the good set
and the next ones (at least ``min_points_in_model``) the bad set; each gets a product of
Aitchison-Aitken kernels (keep the value with ``1 - bw``, any other with ``bw / (c - 1)``),
bandwidths by the normal-reference rule on the category codes (as statsmodels'
``KDEMultivariate``), clipped to ``[min_bandwidth, (c-1)/c]`` (the upper end is the uniform
kernel; HpBandSter lets it grow past it, where the kernel turns negative). ``num_samples``
candidates are drawn from the good density with bandwidths times ``bandwidth_factor`` (as in
the paper; HpBandSter widens only continuous parameters), infeasible ones are replaced by
feasible cells from the context, and the one maximising ``l(x) / g(x)`` is proposed. Defaults
follow the paper (``random_fraction`` 1/3, 64 samples, 15 %, bandwidth factor 3); NATS-Bench's
script used ``num_samples=4, random_fraction=0.0, min_bandwidth=0.3``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from suite.errors import SearchSettingsError, StrategyProtocolError
from suite.strategies.base import Strategy, Trial
from suite.strategies.context import Arch, SearchContext
from suite.strategies.registry import register_strategy


def hyperband_rungs(fidelities: Sequence[int], low: int, high: int, eta: float) -> tuple[int, ...]:
    """The available fidelities in ``[low, high]`` nearest (in log) to the geometric ladder."""
    available = np.array(sorted(f for f in set(fidelities) if low <= f <= high), dtype=float)
    ladder = [float(high)]
    while ladder[-1] > low * (1 + 1e-9):
        ladder.append(max(ladder[-1] / eta, float(low)))
    logs = np.log(available)
    return tuple(sorted({int(available[np.argmin(np.abs(logs - math.log(r)))]) for r in ladder}))


@dataclass
class _Bracket:
    """One successive-halving bracket: ``sizes[j]`` cells at ``fidelities[j]``."""

    sizes: list[int]
    fidelities: list[int]
    stage: int = 0
    to_sample: int = 0
    queue: list[Arch] = field(default_factory=list)
    expected: int = 0
    outstanding: set[int] = field(default_factory=set)
    results: list[tuple[Arch, float]] = field(default_factory=list)
    done: bool = False

    def __post_init__(self) -> None:
        self.to_sample = self.expected = self.sizes[0]

    @property
    def fidelity(self) -> int:
        return self.fidelities[self.stage]

    def advance(self) -> None:
        """Promote the best ``sizes[stage+1]`` finished cells (failed ones never) to the next rung."""
        self.stage += 1
        if self.stage >= len(self.sizes):
            self.done = True
            return
        order = sorted(range(len(self.results)), key=lambda i: -self.results[i][1])  # stable
        best = [self.results[i][0] for i in order if self.results[i][1] > -math.inf]
        self.queue = best[: self.sizes[self.stage]]
        self.expected = len(self.queue)
        self.results = []
        self.done = not self.queue


@dataclass(frozen=True)
class _Kde:
    """A product of Aitchison-Aitken kernels over categorical data (log densities)."""

    data: np.ndarray  # (n, d) int
    log_same: np.ndarray  # (d,) log(1 - bw)
    log_other: np.ndarray  # (d,) log(bw / (c - 1))
    bw: np.ndarray

    @classmethod
    def fit(cls, data: np.ndarray, card: np.ndarray, min_bw: float) -> _Kde:
        n, d = data.shape
        bw = 1.06 * data.std(axis=0) * n ** (-1.0 / (4 + d))  # normal reference, as statsmodels
        bw = np.clip(bw, min_bw, (card - 1) / card)
        other = np.where(card > 1, bw / np.maximum(card - 1, 1), 1.0)
        return cls(data, np.log1p(-bw), np.log(other), bw)

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        same = x[:, None, :] == self.data[None, :, :]
        terms = np.where(same, self.log_same, self.log_other).sum(axis=2)  # (m, n)
        top = terms.max(axis=1, keepdims=True)
        return top[:, 0] + np.log(np.exp(terms - top).mean(axis=1))


@register_strategy("bohb")
class BOHB(Strategy):
    """BOHB (Falkner et al. 2018): Hyperband brackets with a TPE-like density-ratio model."""

    def __init__(
        self,
        *,
        context: SearchContext,
        seed: int,
        eta: float = 3,
        min_fidelity: int | None = None,
        max_fidelity: int | None = None,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        min_points_in_model: int | None = None,
        top_n_percent: int = 15,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
    ) -> None:
        super().__init__(context=context, seed=seed)
        d = context.space.n_decisions
        low = min(context.fidelities) if min_fidelity is None else min_fidelity
        high = max(context.fidelities) if max_fidelity is None else max_fidelity
        for label, value in (("min_fidelity", low), ("max_fidelity", high)):
            if value not in context.fidelities:
                raise SearchSettingsError(
                    f"{label} {value!r} is not a fidelity of the benchmark {context.fidelities}"
                )
        if low > high:
            raise SearchSettingsError(f"min_fidelity {low} is above max_fidelity {high}")
        if not eta > 1:
            raise SearchSettingsError(f"eta must be > 1, got {eta!r}")
        if not (isinstance(num_samples, int) and num_samples >= 1):
            raise SearchSettingsError(f"num_samples must be an integer >= 1, got {num_samples!r}")
        if not 0.0 <= random_fraction <= 1.0:
            raise SearchSettingsError(f"random_fraction must be in [0, 1], got {random_fraction!r}")
        points = d + 1 if min_points_in_model is None else min_points_in_model
        if not (isinstance(points, int) and points >= 1):
            raise SearchSettingsError(f"min_points_in_model must be an integer >= 1, got {points!r}")
        if not (isinstance(top_n_percent, int) and 1 <= top_n_percent <= 99):
            raise SearchSettingsError(f"top_n_percent must be an integer in 1..99, got {top_n_percent!r}")
        if not bandwidth_factor > 0:
            raise SearchSettingsError(f"bandwidth_factor must be > 0, got {bandwidth_factor!r}")
        if not 0.0 < min_bandwidth < 1.0:
            raise SearchSettingsError(f"min_bandwidth must be in (0, 1), got {min_bandwidth!r}")
        self.eta = float(eta)
        self.rungs = hyperband_rungs(context.fidelities, low, high, self.eta)
        self.num_samples = num_samples
        self.random_fraction = float(random_fraction)
        self.min_points_in_model = points
        self.top_n_percent = top_n_percent
        self.bandwidth_factor = float(bandwidth_factor)
        self.min_bandwidth = float(min_bandwidth)
        self._card = np.asarray(context.space.cardinalities, dtype=np.int64)
        self._brackets: list[_Bracket] = []
        self._started = 0
        self._owner: dict[int, _Bracket] = {}
        self._observed: dict[int, tuple[list[Arch], list[float]]] = {}
        self._model: tuple[int, _Kde, _Kde] | None = None
        self._stale = False

    # ---- Hyperband -------------------------------------------------------------------
    def _new_bracket(self) -> _Bracket:
        top = len(self.rungs) - 1
        s = top - self._started % (top + 1)
        self._started += 1
        eta = int(self.eta) if float(self.eta).is_integer() else self.eta
        first = int((top + 1) // (s + 1) * eta**s)
        sizes = [max(int(first / eta**j), 1) for j in range(s + 1)]
        bracket = _Bracket(sizes, list(self.rungs[top - s :]))
        self._brackets.append(bracket)
        return bracket

    def ask(self) -> Trial:
        for bracket in self._brackets:
            if bracket.queue:
                return self._issue(bracket, bracket.queue.pop(0))
            if bracket.stage == 0 and bracket.to_sample:
                break
        else:
            bracket = self._new_bracket()
        bracket.to_sample -= 1
        return self._issue(bracket, self._propose())

    def _issue(self, bracket: _Bracket, arch: Arch) -> Trial:
        trial = self._trial(arch, bracket.fidelity)
        bracket.outstanding.add(trial.number)
        self._owner[trial.number] = bracket
        return trial

    def tell(self, trial: Trial, values: Sequence[float]) -> None:
        bracket = self._owner.pop(trial.number, None)
        if bracket is None:
            raise StrategyProtocolError(f"trial {trial.number} was not asked, or was told already")
        utility = self.utility(values)
        archs, utilities = self._observed.setdefault(
            int(trial.fidelity or self.context.max_fidelity), ([], [])
        )
        archs.append(trial.arch)
        utilities.append(utility)
        self._stale = True
        bracket.outstanding.discard(trial.number)
        bracket.results.append((trial.arch, utility))
        if len(bracket.results) == bracket.expected and not bracket.outstanding:
            bracket.advance()
            if bracket.done:
                self._brackets.remove(bracket)

    # ---- the model --------------------------------------------------------------------
    @property
    def model_fidelity(self) -> int | None:
        """The fidelity the density model is fitted on (``None`` while too few points)."""
        model = self._fitted()
        return None if model is None else model[0]

    def _fitted(self) -> tuple[int, _Kde, _Kde] | None:
        if not self._stale:
            return self._model
        self._stale = False
        points = self.min_points_in_model
        for fidelity in sorted(self._observed, reverse=True):
            archs, utilities = self._observed[fidelity]
            n = len(utilities)
            n_good = max(points, self.top_n_percent * n // 100)
            n_bad = max(points, (100 - self.top_n_percent) * n // 100)
            if n - n_good < points:
                continue
            order = np.argsort(-np.asarray(utilities), kind="stable")
            data = np.asarray(archs, dtype=np.int64)[order]
            good = _Kde.fit(data[:n_good], self._card, self.min_bandwidth)
            bad = _Kde.fit(data[n_good : n_good + n_bad], self._card, self.min_bandwidth)
            self._model = (fidelity, good, bad)
            return self._model
        return self._model

    def _propose(self) -> Arch:
        model = self._fitted()
        if model is None or self.rng.random() < self.random_fraction:
            return self.context.sample(self.rng)
        _, good, bad = model
        m, card = self.num_samples, self._card
        base = good.data[self.rng.integers(len(good.data), size=m)]
        wide = np.minimum(self.bandwidth_factor * good.bw, (card - 1) / card)
        change = self.rng.random(base.shape) < wide
        shift = 1 + (self.rng.random(base.shape) * np.maximum(card - 1, 1)).astype(np.int64)
        candidates = np.where(change, (base + shift) % card, base)
        infeasible = ~self._feasible_rows(candidates)
        if infeasible.any():
            candidates[infeasible] = np.asarray(self.context.sample_many(self.rng, int(infeasible.sum())))
        score = good.log_pdf(candidates) - bad.log_pdf(candidates)
        return tuple(int(v) for v in candidates[int(np.argmax(score))])

    def _feasible_rows(self, candidates: np.ndarray) -> np.ndarray:
        """Feasibility of each row, vectorised through the context's mask where it has one."""
        context = self.context
        if context.feasible is not None:
            ok = np.asarray(context.feasible)[context.space.indices(candidates)]
        else:
            ok = np.ones(len(candidates), dtype=bool)
        if context.accept is not None:
            ok &= np.array([context.accept(tuple(int(v) for v in row)) for row in candidates], dtype=bool)
        return ok
