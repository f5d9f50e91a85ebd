"""Typed errors of the surrogates package.

Each names the bad value and what was expected. They subclass :class:`NasuiteError` and the
natural builtin family (``ValueError`` for bad input, ``RuntimeError`` for a call in the wrong
state) so that generic handlers keep working. Unknown encoding or predictor names raise the
shared :class:`tabular.errors.UnknownNameError`, which lists the known names.
"""

from __future__ import annotations

from tabular.errors import NasuiteError, UnknownNameError

__all__ = [
    "EmptyTrainingSetError",
    "EncodingError",
    "FeatureShapeError",
    "LengthMismatchError",
    "ModelFileError",
    "NonFiniteFeatureError",
    "NonFiniteTargetError",
    "NotFittedError",
    "SurrogateError",
    "UnknownNameError",
]


class SurrogateError(NasuiteError):
    """Base class of the errors raised by :mod:`surrogates`."""


class NotFittedError(SurrogateError, RuntimeError):
    """``predict`` (or ``save``) called on a predictor that has not been fitted."""


class FeatureShapeError(SurrogateError, ValueError):
    """Features that are not a 2-D matrix of the width the predictor was fitted on."""

    def __init__(self, expected: int | str, given: int | str, what: str = "features") -> None:
        self.expected = expected
        self.given = given
        super().__init__(f"{what} have width {given}, expected width {expected}")


class EmptyTrainingSetError(SurrogateError, ValueError):
    """``fit`` called with no rows."""


class LengthMismatchError(SurrogateError, ValueError):
    """Two arrays that must have one entry per architecture have different lengths."""


class NonFiniteFeatureError(SurrogateError, ValueError):
    """NaN/inf where the model cannot take it (only XGBoost handles missing features)."""


class NonFiniteTargetError(SurrogateError, ValueError):
    """Training targets holding NaN/inf (drop the architectures without a recorded value)."""


class EncodingError(SurrogateError, ValueError):
    """An encoding that cannot be built for this space (e.g. a path encoding too large to list)."""


class ModelFileError(SurrogateError, ValueError):
    """A saved predictor directory that is missing, malformed or holds another predictor."""


class EvaluationSettingsError(SurrogateError, ValueError):
    """Evaluation settings that cannot work (a train fraction outside (0, 1), ...)."""


class PredictorSettingsError(SurrogateError, ValueError):
    """Predictor hyperparameters that cannot work (zero epochs, no hidden layers, ...)."""
