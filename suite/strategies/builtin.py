"""Imports the modules of nasuite's own strategies so that they register."""

from suite.strategies import evolution, random_search  # noqa: F401
