"""Search a space too large to tabulate: fit a surrogate on a sample table, search it, verify.

The loop NAS-Bench-301 (Siems et al. 2020) made standard: train a sample of architectures
under a fixed budget (``nasuite table build --archs N``), fit a surrogate with uncertainty on
it, run the search strategies on the surrogate under the simulated clock, then train the
best finds for real and compare predicted with measured accuracy, which shows whether a
strategy exploited the surrogate's errors. ``nasuite surrogate-search`` runs it.
"""

from suite.surrogate_search.settings import SurrogateSearchSettings
from suite.surrogate_search.workflow import run_surrogate_search

__all__ = ["SurrogateSearchSettings", "run_surrogate_search"]
