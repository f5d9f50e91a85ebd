"""Settings of one surrogate-search workflow (a frozen dataclass, checked on creation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from suite.errors import SearchSettingsError


@dataclass(frozen=True)
class SurrogateSearchSettings:
    """What ``nasuite surrogate-search`` does.

    ``evaluations`` sizes each search's simulated budget: that many times the sample's median
    training time, so a strategy that picks cheap networks may evaluate more of them.
    ``holdout`` is the share of the sample kept out of a first fit to measure the surrogate;
    the surrogate that is searched is then refitted on the whole sample. ``verify_top`` of each
    strategy's distinct finds (best predicted first) are trained for real with each of
    ``verify_seeds`` into ``verify_table`` (default: a copy of the sample table in ``out``).
    ``constraints`` (e.g. ``latency_ms<=2``) need ``lut``, a latency lookup table.
    """

    table: str
    out: str
    strategies: tuple[str, ...] = ("random", "evolution", "local-search", "optuna-tpe")
    seeds: tuple[int, ...] = (0, 1, 2)
    evaluations: int = 200
    model: str = "ensemble"
    model_kwargs: Mapping[str, Any] = field(default_factory=lambda: {"base": "xgb", "bootstrap": True})
    search: str = "valid"
    report: str = "test"
    holdout: float = 0.2
    verify_top: int = 5
    verify_seeds: tuple[int, ...] = (0,)
    verify_table: str | None = None
    constraints: tuple[str, ...] = ()
    lut: str | None = None
    seed: int = 0
    data_root: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategies", tuple(self.strategies))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        object.__setattr__(self, "verify_seeds", tuple(int(s) for s in self.verify_seeds))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        object.__setattr__(self, "model_kwargs", dict(self.model_kwargs))
        if not self.strategies:
            raise SearchSettingsError("give at least one strategy")
        if not self.seeds or any(s < 0 for s in self.seeds):
            raise SearchSettingsError(f"seeds must be integers >= 0, got {self.seeds}")
        if any(s < 0 for s in self.verify_seeds):
            raise SearchSettingsError(f"verify seeds must be integers >= 0, got {self.verify_seeds}")
        for name, value, least in (("evaluations", self.evaluations, 1), ("verify_top", self.verify_top, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise SearchSettingsError(f"{name} must be an integer >= {least}, got {value!r}")
        if not 0 < self.holdout < 1:
            raise SearchSettingsError(f"holdout must be a fraction in (0, 1), got {self.holdout!r}")
        if self.constraints and not self.lut:
            raise SearchSettingsError(
                "constraints on a space too large to measure need a latency lookup table: give --lut FILE"
            )

    def describe(self) -> dict[str, Any]:
        return asdict(self)
