"""The built-in reproductions; importing this module registers them."""

from reproduce.entries import latency_constrained, nb201_search, search_cost, surrogate_quality, zero_cost

__all__ = ["latency_constrained", "nb201_search", "search_cost", "surrogate_quality", "zero_cost"]
