"""Benchmarks behind one protocol: tables, surrogates (and live training, with the strategies issue)."""

from suite.benchmarks.base import Benchmark, FidelityError, Objective, Observation
from suite.benchmarks.surrogate import FittedMetric, SurrogateBenchmark
from suite.benchmarks.tabular import TabularBenchmark

__all__ = [
    "Benchmark",
    "FidelityError",
    "FittedMetric",
    "Objective",
    "Observation",
    "SurrogateBenchmark",
    "TabularBenchmark",
]
