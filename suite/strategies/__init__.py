"""Multi-trial search strategies behind one ask/tell contract, registered by name."""

from suite.strategies.base import Strategy, Trial
from suite.strategies.context import SearchContext
from suite.strategies.registry import (
    ENTRY_POINT_GROUP,
    STRATEGIES,
    get_strategy,
    list_strategies,
    make_strategy,
    register_strategy,
    strategy_names,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "STRATEGIES",
    "SearchContext",
    "Strategy",
    "Trial",
    "get_strategy",
    "list_strategies",
    "make_strategy",
    "register_strategy",
    "strategy_names",
]
