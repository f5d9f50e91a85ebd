"""Typed errors of the search suite; each names the bad value and what was expected."""

from __future__ import annotations

from tabular.errors import NasuiteError, UnknownNameError


class SearchSettingsError(NasuiteError, ValueError):
    """A search setting out of range: a budget <= 0, no workers, a bad strategy option."""


class ConstraintError(NasuiteError, ValueError):
    """A constraint that does not parse, names a metric the benchmark lacks, or admits no cell."""


class UnknownStrategyError(UnknownNameError):
    """A strategy name that no package registered; the message lists the registered ones."""

    def __init__(self, name: object, known: list[str] | tuple[str, ...]) -> None:
        super().__init__("strategy", name, known)


class StrategyProtocolError(NasuiteError, RuntimeError):
    """A strategy broke the ask/tell contract (an invalid or infeasible cell, a foreign trial)."""


class OneShotError(NasuiteError, ValueError):
    """A one-shot search that cannot run: a space without a supernet, data without a valid split,
    a table without build settings, or a latency target no cell can meet."""


class SearchExhaustedError(NasuiteError, RuntimeError):
    """A strategy that never repeats a cell has asked every feasible one: the search is complete.

    The runner ends such a run normally (it is not a failure); outside a run it is an error.
    """
