"""An ensemble of any registered predictor, for uncertainty (BANANAS, White et al. 2021).

BANANAS trains several copies of its neural predictor from different initialisations and
uses their spread as the uncertainty of an acquisition function; NAS-Bench-301 (Siems et al.
2020) likewise ensembles surrogates and reports their mean and spread. Members differ by seed
(derived from the ensemble's seed) and, with ``bootstrap=True``, by a bootstrap resample of
the training set. ``predict`` is the members' mean and ``predict_std`` their standard
deviation (ddof 0).
"""

# ruff: noqa: N803, N806  (X for the feature matrix, as in the scikit-learn contract)
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from surrogates.errors import ModelFileError, PredictorSettingsError
from surrogates.predictors.base import PREDICTORS, Predictor, register_predictor
from tabular.spaces import SearchSpace


@register_predictor("ensemble")
class EnsemblePredictor(Predictor):
    """``n_members`` copies of the ``base`` predictor, built with ``base_params``."""

    encoding = "path"  # per instance: the base predictor's encoding

    def __init__(
        self,
        *,
        seed: int,
        base: str = "mlp",
        n_members: int = 5,
        bootstrap: bool = False,
        base_params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(seed=seed)
        if base == "ensemble":
            raise PredictorSettingsError(
                "an ensemble of ensembles is not supported; pick another base predictor"
            )
        base_cls = PREDICTORS.get(base)  # unknown names list the known ones
        if n_members < 1:
            raise PredictorSettingsError(f"n_members must be >= 1, got {n_members}")
        self.base, self.n_members, self.bootstrap = base, int(n_members), bool(bootstrap)
        self.base_params = dict(base_params or {})
        if "seed" in self.base_params:
            raise PredictorSettingsError(
                "base_params must not hold 'seed': member seeds derive from the ensemble's seed"
            )
        self.encoding = base_cls.encoding
        self.allows_nan = base_cls.allows_nan
        self.members: list[Predictor] = []

    @classmethod
    def space_kwargs(cls, space: SearchSpace, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        base_cls = PREDICTORS.get(str(kwargs.get("base", "mlp")))
        given = dict(kwargs.get("base_params") or {})
        return {"base_params": {**base_cls.space_kwargs(space, given), **given}}

    def member_seeds(self) -> list[int]:
        """Independent member seeds derived from ``seed`` (``SeedSequence``, not a global RNG)."""
        return [int(s) for s in np.random.SeedSequence(self.seed).generate_state(self.n_members)]

    def _member(self, seed: int) -> Predictor:
        return PREDICTORS.get(self.base)(seed=seed, **self.base_params)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        members = []
        for seed in self.member_seeds():
            rows = np.arange(len(y))
            if self.bootstrap:
                rows = np.random.default_rng(seed).integers(0, len(y), size=len(y))
            members.append(self._member(seed).fit(X[rows], y[rows]))
        self.members = members

    def _all(self, X: np.ndarray) -> np.ndarray:
        return np.stack([m.predict(X) for m in self.members])

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self._all(X).mean(axis=0)

    def predict_std(self, X: Any) -> np.ndarray:
        """Standard deviation of the members' predictions, one per row (>= 0)."""
        X = self._check_predict(X)
        return self._all(X).std(axis=0)

    def _save_state(self, directory: Path) -> dict[str, Any]:
        names = []
        for k, member in enumerate(self.members):
            member.save(directory / f"member_{k}")
            names.append(f"member_{k}")
        return {"members": names}

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        names = state.get("members", [])
        if len(names) != self.n_members:
            raise ModelFileError(f"{directory} lists {len(names)} members, expected {self.n_members}")
        base_cls = PREDICTORS.get(self.base)
        self.members = [base_cls.load(directory / str(name)) for name in names]
