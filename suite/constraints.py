"""Hardware constraints such as ``latency_ms<=5`` or ``params<=0.5`` over a benchmark's metrics.

A constraint names a hardware metric the benchmark knows for every cell without training it
(params, FLOPs, a measured latency, or any of HELP's device latencies in an imported NB201
table, e.g. ``latency_ms:pixel3<=20``). Constraints combine into one feasibility mask that the
:class:`~suite.strategies.SearchContext` applies to every proposal.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from suite.errors import ConstraintError

_OPERATORS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}
_PATTERN = re.compile(r"^\s*([A-Za-z0-9_:.\-]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``metric op bound``, e.g. ``Constraint("latency_ms", "<=", 5.0)``."""

    metric: str
    op: str
    bound: float

    def __post_init__(self) -> None:
        if self.op not in _OPERATORS:
            raise ConstraintError(f"constraint operator {self.op!r} is not one of {sorted(_OPERATORS)}")

    @classmethod
    def parse(cls, text: str) -> Constraint:
        match = _PATTERN.match(text)
        if not match:
            raise ConstraintError(
                f"constraint {text!r} does not parse; expected METRIC<=NUMBER (or <, >=, >), "
                "e.g. 'latency_ms<=5' or 'params<=0.5'"
            )
        metric, op, bound = match.groups()
        try:
            return cls(metric, op, float(bound))
        except ValueError:
            raise ConstraintError(f"constraint {text!r}: {bound!r} is not a number") from None

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Elementwise; a NaN value (metric unknown for a cell) never satisfies it."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.isfinite(values) & _OPERATORS[self.op](values, self.bound)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"


def parse_constraints(texts: Sequence[str | Constraint]) -> tuple[Constraint, ...]:
    return tuple(t if isinstance(t, Constraint) else Constraint.parse(t) for t in texts)


def feasibility_mask(
    constraints: Sequence[Constraint], metric_values: Callable[[str], np.ndarray], known: Sequence[str]
) -> np.ndarray | None:
    """AND of every constraint over ``metric_values(name)``; ``None`` when there are none."""
    mask: np.ndarray | None = None
    for constraint in constraints:
        if constraint.metric not in known:
            raise ConstraintError(
                f"constraint {constraint} is on {constraint.metric!r}, which this benchmark lacks; "
                f"known hardware metrics: {', '.join(sorted(known)) or '(none)'}"
            )
        holds = constraint.holds(metric_values(constraint.metric))
        mask = holds if mask is None else mask & holds
    if mask is not None and not mask.any():
        raise ConstraintError(
            f"no cell satisfies {' and '.join(str(c) for c in constraints)}; loosen the bounds"
        )
    return mask


def constraint_predicate(
    constraints: Sequence[Constraint],
    metrics_of: Callable[[tuple[int, ...]], Mapping[str, float]],
    known: Sequence[str],
) -> Callable[[tuple[int, ...]], bool]:
    """One architecture at a time, for spaces too large for a mask: does it meet every constraint?"""
    for constraint in constraints:
        if constraint.metric not in known:
            raise ConstraintError(
                f"constraint {constraint} is on {constraint.metric!r}, which this benchmark lacks; "
                f"known hardware metrics: {', '.join(sorted(known)) or '(none)'}"
            )

    def accept(arch: tuple[int, ...]) -> bool:
        values = metrics_of(arch)
        return all(bool(c.holds(np.asarray([values.get(c.metric, np.nan)]))[0]) for c in constraints)

    return accept
