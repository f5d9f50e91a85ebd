"""BANANAS: predictor-guided search, White, Neiswanger & Savani 2021, "BANANAS: Bayesian
Optimization with Neural Architectures for Neural Architecture Search" (AAAI).

The loop of the paper: evaluate ``n_initial`` random cells; then repeatedly fit an ensemble
of neural predictors on every evaluated (cell, value) pair over the path encoding, mutate the
best evaluated cells into a pool of unevaluated candidates, score the pool with an acquisition
function over the ensemble's mean and spread (independent Thompson sampling by default, one
draw from N(mean, std) per candidate), and evaluate the ``batch_size`` best-scored candidates.

Here the batch is a queue handed out one cell per :meth:`ask`; the predictor is refitted when
the queue runs dry, inside ``ask``, so its fit time is charged as the strategy's own compute.
Cells already asked (evaluated or still running on another simulated worker) are never
proposed again.

Default predictor. The paper's meta network is an ensemble of 5 MLPs trained 200 epochs. On
this project's CPU baseline (NB201 CIFAR-10 test@200, 100 training cells, 2,000 held out,
3 seeds, ``OMP_NUM_THREADS=1``) the ``mlp`` predictor's own defaults (3 x 128 units,
200 epochs) took 5.5 s per 5-member fit; 2 x 32 units, 50 epochs at lr 3e-3 took 0.45 s and
ranked as well (Kendall tau 0.67 vs 0.68). An ensemble of XGBoost models fitted in 0.05 s but
ranked worse (tau 0.46), so the default stays a (smaller) MLP ensemble, as in BANANAS.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from suite.errors import SearchExhaustedError, SearchSettingsError, StrategyProtocolError
from suite.strategies.base import Strategy, Trial
from suite.strategies.context import Arch, SearchContext
from suite.strategies.registry import register_strategy
from surrogates.encodings import ENCODINGS, make_features
from surrogates.predictors.base import Predictor, predictor_for

ACQUISITIONS = ("its", "ucb")

#: Options of the default ``ensemble`` predictor (see the module docstring for the measurement).
DEFAULT_ENSEMBLE: dict[str, Any] = {
    "base": "mlp",
    "n_members": 5,
    "base_params": {"hidden": (32, 32), "epochs": 50, "lr": 3e-3},
}

_DRAW_ROUNDS = 20  # rounds of random draws before enumerating what is left of the space
_MAX_ENUMERATED = 1_000_000  # an enumerable space up to this size can be listed when exhausted
_MIN_TRAIN = 2  # a predictor needs at least two finite observations to rank anything


class SpaceExhaustedError(SearchExhaustedError):
    """Every feasible cell has been asked; BANANAS never proposes a cell twice."""


@dataclass(frozen=True)
class Acquisition:
    """One refit: the candidate pool, the predictor's mean and spread, the cells chosen."""

    candidates: tuple[Arch, ...]
    mean: np.ndarray
    std: np.ndarray
    chosen: tuple[Arch, ...]


@register_strategy("bananas")
class Bananas(Strategy):
    """BANANAS (White et al. 2021): ensemble predictor + mutation pool + Thompson sampling."""

    def __init__(
        self,
        *,
        context: SearchContext,
        seed: int,
        n_initial: int = 10,
        n_parents: int = 10,
        n_candidates: int = 100,
        batch_size: int = 10,
        acquisition: str = "its",
        ucb_beta: float = 0.5,
        predictor: str = "ensemble",
        predictor_options: Mapping[str, Any] | None = None,
        encoding: str | None = None,
    ) -> None:
        super().__init__(context=context, seed=seed)
        if n_initial < _MIN_TRAIN:
            raise SearchSettingsError(f"n_initial must be >= {_MIN_TRAIN}, got {n_initial}")
        if n_parents < 1:
            raise SearchSettingsError(f"n_parents must be >= 1, got {n_parents}")
        if batch_size < 1:
            raise SearchSettingsError(f"batch_size must be >= 1, got {batch_size}")
        if n_candidates < batch_size:
            raise SearchSettingsError(f"n_candidates must be >= batch_size={batch_size}, got {n_candidates}")
        if acquisition not in ACQUISITIONS:
            raise SearchSettingsError(f"acquisition must be one of {list(ACQUISITIONS)}, got {acquisition!r}")
        if not (math.isfinite(ucb_beta) and ucb_beta >= 0):
            raise SearchSettingsError(f"ucb_beta must be a finite number >= 0, got {ucb_beta}")
        self.n_initial, self.n_parents = int(n_initial), int(n_parents)
        self.n_candidates, self.batch_size = int(n_candidates), int(batch_size)
        self.acquisition, self.ucb_beta = acquisition, float(ucb_beta)
        self.predictor = predictor
        if predictor_options is None:
            predictor_options = DEFAULT_ENSEMBLE if predictor == "ensemble" else {}
        self.predictor_options = dict(predictor_options)
        self.encoding = self._check_predictor(encoding)
        self._seen: set[Arch] = set()
        self._pending: set[Arch] = set()
        self._values: dict[Arch, float] = {}  # told cells -> utility (-inf when failed)
        self._queue: deque[Arch] = deque()
        self._random_asked = 0
        self.fits = 0
        self.last_acquisition: Acquisition | None = None

    def _new_predictor(self, seed: int) -> Predictor:
        return predictor_for(self.predictor, self.context.space, seed=seed, **self.predictor_options)

    def _check_predictor(self, encoding: str | None) -> str:
        """Build the predictor once and encode one cell, so bad options fail here, typed."""
        what = f"predictor {self.predictor!r} with options {self.predictor_options!r}"
        try:
            model = self._new_predictor(seed=0)
        except (KeyError, TypeError, ValueError) as error:  # unknown names, bad kwargs, bad values
            raise SearchSettingsError(f"bananas: {what}: {error}") from error
        if not callable(getattr(model, "predict_std", None)):
            raise SearchSettingsError(
                f"bananas: {what} gives no predict_std, which acquisition {self.acquisition!r} "
                "needs; use predictor 'ensemble' (e.g. with base 'xgb')"
            )
        encoding = model.encoding if encoding is None else encoding
        if encoding not in ENCODINGS:
            raise SearchSettingsError(f"bananas: encoding {encoding!r} is not one of {ENCODINGS.names()}")
        try:  # a local generator: validation must not move the strategy's own
            probe = self.context.space.sample(np.random.default_rng(0))
            make_features(self.context.space, np.asarray([probe]), encoding)
        except ValueError as error:  # e.g. a path encoding too large for the space
            raise SearchSettingsError(f"bananas: encoding {encoding!r}: {error}") from error
        return encoding

    # ---- ask / tell --------------------------------------------------------------------
    def ask(self) -> Trial:
        if not self._queue:
            if self._random_asked < self.n_initial or len(self._training_archs()) < _MIN_TRAIN:
                self._random_asked += 1
                self._queue.extend(self._fresh_random(1, exclude=set()))
            else:
                self._queue.extend(self._acquire())
        arch = self._queue.popleft()
        self._seen.add(arch)
        self._pending.add(arch)
        return self._trial(arch)

    def tell(self, trial: Trial, values: Sequence[float]) -> None:
        if trial.arch not in self._pending:
            raise StrategyProtocolError(
                f"bananas was told {self.context.space.to_str(trial.arch)}, which it did not ask "
                "or was already told"
            )
        self._pending.discard(trial.arch)
        self._values[trial.arch] = self.utility(values)

    # ---- one BANANAS iteration -----------------------------------------------------------
    def _training_archs(self) -> list[Arch]:
        return [arch for arch, value in self._values.items() if math.isfinite(value)]

    def _features(self, archs: Sequence[Arch]) -> np.ndarray:
        return make_features(self.context.space, np.asarray(archs, dtype=np.int64), self.encoding)

    def _acquire(self) -> list[Arch]:
        """Fit, build the candidate pool, score it, return the ``batch_size`` best cells."""
        archs = self._training_archs()
        y = np.array([self._values[a] for a in archs])
        model = self._new_predictor(seed=int(self.rng.integers(0, 2**31 - 1)))
        model.fit(self._features(archs), y)
        self.fits += 1
        ranked = sorted(archs, key=lambda a: -self._values[a])  # stable: ties keep tell order
        pool = self._candidates(ranked[: self.n_parents])
        features = self._features(pool)
        mean = model.predict(features)
        std = np.maximum(model.predict_std(features), 0.0)  # type: ignore[attr-defined]
        # ITS: one independent posterior draw per candidate; UCB: an optimistic bound
        its = self.acquisition == "its"
        score = self.rng.normal(mean, std) if its else mean + self.ucb_beta * std
        order = np.argsort(-score, kind="stable")[: self.batch_size]
        chosen = [pool[int(i)] for i in order]
        self.last_acquisition = Acquisition(tuple(pool), mean, std, tuple(chosen))
        return chosen

    def _candidates(self, parents: list[Arch]) -> list[Arch]:
        """About ``n_candidates`` distinct, unasked, feasible cells near the best ``parents``.

        Mutations first (as in the paper), then the parents' unasked neighbours in a random
        order, then random cells, so the pool fills even when mutations keep colliding.
        """
        pool: dict[Arch, None] = {}  # insertion-ordered set, for a reproducible order
        per_parent = -(-self.n_candidates // len(parents))
        for parent in parents:
            for _ in range(per_parent):
                child = self.context.mutate(parent, self.rng)
                if child not in self._seen:
                    pool[child] = None
        short = self.n_candidates - len(pool)
        if short > 0:
            near = {n: None for p in parents for n in self.context.neighbors(p)}
            fresh = [n for n in near if n not in self._seen and n not in pool]
            for i in self.rng.permutation(len(fresh))[:short]:
                pool[fresh[int(i)]] = None
        short = self.n_candidates - len(pool)
        if short > 0:
            pool.update(dict.fromkeys(self._fresh_random(short, exclude=set(pool), allow_fewer=True)))
        if not pool:
            raise SpaceExhaustedError(self._exhausted_message())
        return list(pool)[: self.n_candidates]

    # ---- fresh cells ---------------------------------------------------------------------
    def _fresh_random(self, n: int, exclude: set[Arch], allow_fewer: bool = False) -> list[Arch]:
        """Up to ``n`` distinct feasible cells never asked and not in ``exclude``."""
        found: dict[Arch, None] = {}
        for _ in range(_DRAW_ROUNDS):
            need = n - len(found)
            if need <= 0:
                break
            for cell in self.context.sample_many(self.rng, need):
                if cell not in self._seen and cell not in exclude:
                    found[cell] = None
        if len(found) < n:  # draws keep hitting asked cells: list what is left, if we can
            left = [c for c in self._unasked_feasible() if c not in exclude and c not in found]
            for i in self.rng.permutation(len(left))[: n - len(found)]:
                found[left[int(i)]] = None
        if len(found) < n and not allow_fewer:
            raise SpaceExhaustedError(self._exhausted_message())
        return list(found)[:n]

    def _unasked_feasible(self) -> list[Arch]:
        space = self.context.space
        if self.context.feasible is not None:
            indices = np.flatnonzero(self.context.feasible)
        elif space.enumerable and space.size <= _MAX_ENUMERATED:
            indices = np.arange(space.size)
        else:
            return []
        cells = (tuple(int(v) for v in row) for row in space.from_indices(indices))
        accept = self.context.accept
        return [c for c in cells if c not in self._seen and (accept is None or accept(c))]

    def _exhausted_message(self) -> str:
        return (
            f"bananas has asked {len(self._seen)} cells and finds no feasible cell it has not "
            f"asked (the constraints admit {self.context.n_feasible}); it never repeats a cell"
        )
