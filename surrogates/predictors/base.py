"""The predictor contract, its registry, safe save/load and the shared torch training loop.

A predictor follows scikit-learn: ``fit(X, y)`` returns ``self``, ``predict(X)`` gives one
float per row, and models with uncertainty add ``predict_std(X)``. Constructors are
keyword-only and take ``seed``; all randomness comes from it (no global RNG is read or left
changed). ``save(path)`` writes a directory holding ``meta.json`` (name, constructor
parameters, feature width) and the model in a format that cannot run code on load: XGBoost's
own JSON, or a flat dict of tensors read back with ``torch.load(..., weights_only=True)``.
Never pickle.

A new predictor is one file: subclass :class:`Predictor` (or :class:`TorchPredictor`),
decorate it with ``@register_predictor("name")`` and import the module in
``surrogates/predictors/__init__.py`` (or from a plugin).
"""

# ruff: noqa: N803, N806  (X for the feature matrix, as in the scikit-learn contract)
from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from surrogates.errors import (
    EmptyTrainingSetError,
    FeatureShapeError,
    LengthMismatchError,
    ModelFileError,
    NonFiniteFeatureError,
    NonFiniteTargetError,
    NotFittedError,
    PredictorSettingsError,
)
from tabular.registry import Registry
from tabular.spaces import SearchSpace

FORMAT = "nasuite.predictor"
FORMAT_VERSION = 1
META = "meta.json"

P = TypeVar("P", bound="Predictor")


class Predictor:
    """Base class: input checks, the fitted state and the save/load format.

    Subclasses implement ``_fit``, ``_predict``, ``_save_state`` and ``_load_state`` and
    set ``encoding`` (the feature encoding they expect by default) and ``allows_nan``.
    """

    name: str = ""
    encoding: str = "onehot"
    allows_nan: bool = False

    def __init__(self, *, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int, got {seed!r}")
        self.seed = int(seed)
        self.n_features_in_: int | None = None

    # ---- parameters -------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The keyword-only constructor arguments (JSON-able), read back from attributes."""
        sig = inspect.signature(type(self).__init__)
        return {
            name: _jsonable(getattr(self, name))
            for name, par in sig.parameters.items()
            if par.kind is inspect.Parameter.KEYWORD_ONLY
        }

    @classmethod
    def space_kwargs(cls, space: SearchSpace, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor arguments that depend on the space (e.g. a GIN's graph shape)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ---- the contract -----------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return self.n_features_in_ is not None

    def fit(self: P, X: Any, y: Any) -> P:
        """Train on features ``X`` (n, d) and targets ``y`` (n,); returns ``self``."""
        X = self._check_features(X)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1:
            y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
        if y.ndim != 1:
            raise LengthMismatchError(f"targets must be 1-D, got shape {y.shape}")
        if X.shape[0] == 0:
            raise EmptyTrainingSetError(f"{self.name or type(self).__name__}: fit called with no rows")
        if y.shape[0] != X.shape[0]:
            raise LengthMismatchError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
        if not np.isfinite(y).all():
            bad = int((~np.isfinite(y)).sum())
            raise NonFiniteTargetError(f"{bad} of {y.size} targets are NaN/inf; drop those rows first")
        self._fit(X, y)
        self.n_features_in_ = int(X.shape[1])
        return self

    def predict(self, X: Any) -> np.ndarray:
        """One prediction per row of ``X``, as float64."""
        X = self._check_predict(X)
        return np.asarray(self._predict(X), dtype=np.float64).reshape(-1)

    # ---- checks -----------------------------------------------------------------------
    def _check_features(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise FeatureShapeError("(n, d) matrix", f"{X.ndim}-D shape {X.shape}")
        if X.shape[1] == 0:
            raise FeatureShapeError("at least 1", 0)
        if np.isinf(X).any() or (not self.allows_nan and np.isnan(X).any()):
            raise NonFiniteFeatureError(
                f"{self.name or type(self).__name__} features hold NaN/inf; "
                "only 'xgb' accepts NaN (missing) features, and no predictor accepts inf"
            )
        return X

    def _check_predict(self, X: Any) -> np.ndarray:
        if self.n_features_in_ is None:
            raise NotFittedError(f"{self.name or type(self).__name__} is not fitted; call fit(X, y) first")
        X = self._check_features(X)
        if X.shape[1] != self.n_features_in_:
            raise FeatureShapeError(self.n_features_in_, X.shape[1])
        return X

    # ---- save / load ------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to the directory ``path`` (created); returns it."""
        if self.n_features_in_ is None:
            raise NotFittedError(f"{self.name or type(self).__name__} is not fitted; nothing to save")
        directory = Path(path)
        if directory.exists() and not directory.is_dir():
            raise ModelFileError(f"{directory} exists and is not a directory")
        directory.mkdir(parents=True, exist_ok=True)
        state = self._save_state(directory)
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "predictor": self.name,
            "params": self.get_params(),
            "n_features_in": self.n_features_in_,
            "state": state,
        }
        tmp = directory / (META + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
        tmp.replace(directory / META)  # meta.json last: a directory without it is incomplete
        return directory

    @classmethod
    def load(cls: type[P], path: str | os.PathLike[str]) -> P:
        """Read a directory written by :meth:`save` (on the base class: any predictor)."""
        import surrogates.predictors  # noqa: F401  (registers the built-in predictors)

        directory = Path(path)
        try:
            meta = json.loads((directory / META).read_text())
        except FileNotFoundError:
            raise ModelFileError(f"{directory} holds no {META}; not a saved predictor") from None
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"cannot read {directory / META}: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ModelFileError(f"{directory / META} is not a nasuite predictor file")
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelFileError(
                f"{directory} has format version {meta.get('format_version')!r}; "
                f"this nasuite reads {FORMAT_VERSION}"
            )
        target = PREDICTORS.get(str(meta.get("predictor")))
        if not issubclass(target, cls):
            raise ModelFileError(f"{directory} holds a {meta.get('predictor')!r} predictor, not {cls.name!r}")
        try:
            obj = target(**meta["params"])
            obj.n_features_in_ = int(meta["n_features_in"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"{directory / META} has bad parameters for {target.name!r}: {exc}"
            ) from None
        obj._load_state(directory, meta.get("state", {}))
        return obj  # type: ignore[return-value]

    # ---- for subclasses ---------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _save_state(self, directory: Path) -> dict[str, Any]:
        """Write model files into ``directory``; return JSON-able extras for meta.json."""
        raise NotImplementedError

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        raise NotImplementedError


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---- registry ---------------------------------------------------------------------------
PREDICTORS: Registry[type[Predictor]] = Registry("predictor")


def register_predictor(name: str) -> Callable[[type[P]], type[P]]:
    """Class decorator: register a :class:`Predictor` under ``name`` (duplicates rejected)."""

    def decorate(cls: type[P]) -> type[P]:
        PREDICTORS.add(name, cls)
        cls.name = name
        return cls

    return decorate


def get_predictor(name: str, **kwargs: Any) -> Predictor:
    """A new ``name`` predictor; unknown names raise UnknownNameError listing the known ones."""
    import surrogates.predictors  # noqa: F401  (registers the built-in predictors)

    return PREDICTORS.get(name)(**kwargs)


def predictor_for(name: str, space: SearchSpace, **kwargs: Any) -> Predictor:
    """Like :func:`get_predictor`, filling in what the space determines (e.g. graph shape)."""
    import surrogates.predictors  # noqa: F401

    cls = PREDICTORS.get(name)
    return cls(**{**cls.space_kwargs(space, kwargs), **kwargs})


def load_predictor(path: str | os.PathLike[str]) -> Predictor:
    """Any saved predictor (dispatch on the name in its meta.json)."""
    return Predictor.load(path)


# ---- neural predictors ------------------------------------------------------------------
class TorchPredictor(Predictor):
    """Shared training for torch predictors: standardised inputs and targets, Adam with a
    cosine schedule, mini-batches shuffled by a seeded ``torch.Generator``; the weights are
    initialised inside ``torch.random.fork_rng`` so the global RNG is left as it was.
    """

    def __init__(
        self,
        *,
        seed: int,
        epochs: int = 200,
        batch_size: int = 32,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        loss: str = "mse",
    ) -> None:
        super().__init__(seed=seed)
        if loss not in _LOSSES:
            from surrogates.errors import UnknownNameError

            raise UnknownNameError("loss", loss, list(_LOSSES))
        if epochs < 1 or batch_size < 1:
            raise PredictorSettingsError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
        self.epochs, self.batch_size = int(epochs), int(batch_size)
        self.lr, self.weight_decay, self.loss = float(lr), float(weight_decay), loss
        self._net: Any = None
        self._scale: dict[str, np.ndarray] = {}

    def _build(self, n_features: int) -> Any:
        """A fresh ``torch.nn.Module`` mapping (batch, n_features) float32 to (batch,)."""
        raise NotImplementedError

    def _scaled_columns(self, n_features: int) -> np.ndarray:
        """Boolean mask of the columns to standardise (all, by default)."""
        return np.ones(n_features, dtype=bool)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import torch

        mask = self._scaled_columns(X.shape[1])
        mean = np.where(mask, X.mean(axis=0), 0.0)
        std = X.std(axis=0)
        std = np.where(mask & (std > 0), std, 1.0)
        y_std = float(y.std()) or 1.0
        self._scale = {
            "x_mean": mean,
            "x_std": std,
            "y_mean": np.array([y.mean()]),
            "y_std": np.array([y_std]),
        }
        inputs = torch.as_tensor(self._transform(X))
        targets = torch.as_tensor((y - y.mean()) / y_std, dtype=torch.float32)
        loss_fn = _LOSSES[self.loss]()
        gen = torch.Generator().manual_seed(self.seed)
        n = inputs.shape[0]
        steps = self.epochs * -(-n // self.batch_size)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)  # weight init and dropout, restored on exit
            net = self._build(X.shape[1])
            opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
            net.train()
            for _ in range(self.epochs):
                order = torch.randperm(n, generator=gen)
                for start in range(0, n, self.batch_size):
                    batch = order[start : start + self.batch_size]
                    opt.zero_grad()
                    loss_fn(net(inputs[batch]), targets[batch]).backward()
                    opt.step()
                    sched.step()
        net.eval()
        self._net = net

    def _transform(self, X: np.ndarray) -> np.ndarray:
        # standardise in float64 first so that huge zero-cost scores do not overflow float32
        return ((X - self._scale["x_mean"]) / self._scale["x_std"]).astype(np.float32)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = self._net(torch.as_tensor(self._transform(X))).double().numpy()
        return out * self._scale["y_std"][0] + self._scale["y_mean"][0]

    def _save_state(self, directory: Path) -> dict[str, Any]:
        import torch

        state = {f"net.{k}": v.detach().clone() for k, v in self._net.state_dict().items()}
        state.update({f"scale.{k}": torch.as_tensor(v, dtype=torch.float64) for k, v in self._scale.items()})
        torch.save(state, directory / "model.pt")
        return {"weights": "model.pt"}

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        import torch

        try:
            tensors = torch.load(directory / "model.pt", map_location="cpu", weights_only=True)
        except (OSError, RuntimeError) as exc:
            raise ModelFileError(f"cannot read {directory / 'model.pt'}: {exc}") from None
        assert self.n_features_in_ is not None
        with torch.random.fork_rng(devices=[]):  # building draws initial weights; keep the global RNG
            net = self._build(self.n_features_in_)
        try:
            net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        except RuntimeError as exc:
            raise ModelFileError(f"{directory / 'model.pt'} does not fit this {self.name}: {exc}") from None
        net.eval()
        self._net = net
        self._scale = {k[6:]: v.numpy() for k, v in tensors.items() if k.startswith("scale.")}


def _mse() -> Any:
    import torch

    return torch.nn.MSELoss()


def _l1() -> Any:
    import torch

    return torch.nn.L1Loss()


def _huber() -> Any:
    import torch

    return torch.nn.HuberLoss(delta=1.0)


_LOSSES: dict[str, Callable[[], Any]] = {"mse": _mse, "l1": _l1, "huber": _huber}
