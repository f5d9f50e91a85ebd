"""Imports the modules of nasuite's own strategies so that they register."""

from suite.strategies import (  # noqa: F401
    bananas,
    bohb,
    evolution,
    local_search,
    optuna_search,
    random_search,
    reinforce,
    zc_evolution,
)
