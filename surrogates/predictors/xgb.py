"""Gradient-boosted trees (XGBoost; Chen & Guestrin 2016), the NAS-Bench-301 workhorse.

NAS-Bench-301 (Siems et al. 2020) found XGBoost among the best surrogates for the DARTS space
and White et al. (2021) among the best predictors once a few hundred architectures are
trained. The defaults follow NAS-Bench-301's tuned tree booster (shallow-ish trees, column
subsampling by tree and by level, strong L2 regularisation, learning rate about 0.06) with a
fixed number of rounds instead of early stopping, since we hold no validation split here.
XGBoost treats NaN as missing and learns a default branch, so this is the one predictor that
accepts NaN features (e.g. a zero-cost score not computed for every cell).
"""

# ruff: noqa: N803  (X for the feature matrix, as in the scikit-learn contract)
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from surrogates.errors import ModelFileError
from surrogates.predictors.base import Predictor, register_predictor


@register_predictor("xgb")
class XGBPredictor(Predictor):
    """XGBoost regression trees with NAS-Bench-301-style hyperparameters; ``n_jobs=1`` by default.

    Uses ``xgboost.train`` rather than ``XGBRegressor``: the same booster and parameters, but
    the scikit-learn wrapper needs scikit-learn, which nasuite does not depend on.
    """

    encoding = "onehot"
    allows_nan = True

    def __init__(
        self,
        *,
        seed: int,
        n_estimators: int = 500,
        learning_rate: float = 0.064,
        max_depth: int = 6,
        min_child_weight: float = 1.0,
        subsample: float = 0.9,
        colsample_bytree: float = 0.54,
        colsample_bylevel: float = 0.70,
        reg_lambda: float = 22.7,
        reg_alpha: float = 0.089,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(seed=seed)
        self.n_estimators, self.learning_rate = int(n_estimators), float(learning_rate)
        self.max_depth = int(max_depth)
        self.min_child_weight, self.subsample = float(min_child_weight), float(subsample)
        self.colsample_bytree, self.colsample_bylevel = float(colsample_bytree), float(colsample_bylevel)
        self.reg_lambda, self.reg_alpha, self.n_jobs = float(reg_lambda), float(reg_alpha), int(n_jobs)
        self._model: Any = None

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "reg:squarederror",
            "tree_method": "hist",
            "eta": self.learning_rate,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "colsample_bylevel": self.colsample_bylevel,
            "lambda": self.reg_lambda,
            "alpha": self.reg_alpha,
            "nthread": self.n_jobs,
            "seed": self.seed,
        }

    def _matrix(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        import xgboost

        return xgboost.DMatrix(X, label=y, missing=np.nan, nthread=self.n_jobs)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import xgboost

        self._model = xgboost.train(self._params(), self._matrix(X, y), num_boost_round=self.n_estimators)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self._model.predict(self._matrix(X)), dtype=np.float64)

    def _save_state(self, directory: Path) -> dict[str, Any]:
        self._model.save_model(str(directory / "model.json"))  # XGBoost's own JSON: data, not code
        return {"model": "model.json"}

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        import xgboost

        try:
            model = xgboost.Booster(model_file=str(directory / "model.json"))
        except xgboost.core.XGBoostError as exc:
            raise ModelFileError(f"cannot read {directory / 'model.json'}: {exc}") from None
        model.set_param({"nthread": self.n_jobs})
        self._model = model
