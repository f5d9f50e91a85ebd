"""Performance predictors: ``get_predictor(name, seed=...)`` for any name in :data:`PREDICTORS`.

Importing this package registers the built-ins (``xgb``, ``mlp``, ``gin``, ``ensemble``);
torch and xgboost are imported only when a model is fitted or loaded.
"""

from surrogates.predictors import ensemble, gin, mlp, xgb  # noqa: F401  (registration)
from surrogates.predictors.base import (
    PREDICTORS,
    Predictor,
    TorchPredictor,
    get_predictor,
    load_predictor,
    predictor_for,
    register_predictor,
)
from surrogates.predictors.ensemble import EnsemblePredictor
from surrogates.predictors.gin import GINPredictor
from surrogates.predictors.mlp import MLPPredictor
from surrogates.predictors.xgb import XGBPredictor

__all__ = [
    "PREDICTORS",
    "EnsemblePredictor",
    "GINPredictor",
    "MLPPredictor",
    "Predictor",
    "TorchPredictor",
    "XGBPredictor",
    "get_predictor",
    "load_predictor",
    "predictor_for",
    "register_predictor",
]
