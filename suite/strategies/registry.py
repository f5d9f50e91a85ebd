"""Strategies by name: ``@register_strategy`` here, and the ``nasuite.strategies`` entry points.

Another installed package adds a strategy with no change to nasuite by declaring, in its
``pyproject.toml``::

    [project.entry-points."nasuite.strategies"]
    my-search = "my_package.search:MySearch"

The entry point's name is the strategy's name; its object is a :class:`Strategy` subclass.
Names of the form ``optuna:SamplerName`` build a strategy around that Optuna sampler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any, TypeVar

from suite.errors import SearchSettingsError, UnknownStrategyError
from suite.strategies.base import Strategy
from tabular.errors import DuplicateRegistrationError
from tabular.registry import Registry

ENTRY_POINT_GROUP = "nasuite.strategies"
OPTUNA_PREFIX = "optuna:"

STRATEGIES: Registry[type[Strategy]] = Registry("strategy")
_SOURCES: dict[str, str] = {}
_loaded_entry_points = False

S = TypeVar("S", bound=type[Strategy])


def register_strategy(name: str) -> Callable[[S], S]:
    """Class decorator: register a :class:`Strategy` under ``name`` (duplicates are refused)."""

    def decorate(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise TypeError(f"strategy {name!r} must be a Strategy subclass, got {cls!r}")
        STRATEGIES.add(name, cls)
        cls.name = name
        _SOURCES.setdefault(name, _package_of(cls))
        return cls

    return decorate


def _package_of(obj: Any) -> str:
    """The installed distribution that provides ``obj``'s top-level module (else the module)."""
    top = str(getattr(obj, "__module__", "?")).split(".")[0]
    return ", ".join(dict.fromkeys(_distributions().get(top, [top])))


@cache
def _distributions() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()


def load_entry_points(reload: bool = False) -> None:
    """Import every strategy another package declared under ``nasuite.strategies``."""
    global _loaded_entry_points
    if _loaded_entry_points and not reload:
        return
    _loaded_entry_points = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in STRATEGIES:
            existing = STRATEGIES.get(entry.name)
            if f"{existing.__module__}:{existing.__qualname__}" == entry.value:
                continue
            raise DuplicateRegistrationError(
                f"strategy {entry.name!r} from entry point {entry.value!r} is already registered "
                f"by {existing!r}"
            )
        cls = entry.load()
        register_strategy(entry.name)(cls)
        if entry.dist is not None:
            _SOURCES[entry.name] = entry.dist.name


def _load_builtin() -> None:
    import suite.strategies.builtin  # noqa: F401  (registers the built-in strategies)


@dataclass(frozen=True)
class StrategyInfo:
    """A registered strategy, where it comes from and its one-line description."""

    name: str
    source: str
    summary: str
    multi_objective: bool


def strategy_names() -> list[str]:
    _load_builtin()
    load_entry_points()
    return STRATEGIES.names()


def list_strategies() -> list[StrategyInfo]:
    infos = []
    for name in strategy_names():
        cls = STRATEGIES.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()
        infos.append(StrategyInfo(name, _SOURCES.get(name, "?"), doc[0] if doc else "", cls.multi_objective))
    return infos


def get_strategy(name: str) -> Callable[..., Strategy]:
    """The factory of strategy ``name``: a registered class or ``optuna:<Sampler>``."""
    known = strategy_names()
    if name.startswith(OPTUNA_PREFIX):
        from suite.strategies.optuna_search import optuna_strategy

        return optuna_strategy(name[len(OPTUNA_PREFIX) :])
    if name not in known:
        raise UnknownStrategyError(name, [*known, f"{OPTUNA_PREFIX}<any Optuna sampler>"])
    return STRATEGIES.get(name)


def make_strategy(name: str, *, context: Any, seed: int, options: dict[str, Any] | None = None) -> Strategy:
    """Build strategy ``name`` with its keyword options; a bad option is a typed error."""
    factory = get_strategy(name)
    try:
        return factory(context=context, seed=seed, **(options or {}))
    except TypeError as error:
        raise SearchSettingsError(f"strategy {name!r}: {error}") from error
