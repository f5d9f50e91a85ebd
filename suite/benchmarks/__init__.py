"""Benchmarks behind one protocol: tables, surrogates and live training."""

from suite.benchmarks.base import Benchmark, FidelityError, Objective, Observation
from suite.benchmarks.live import LiveBenchmark
from suite.benchmarks.surrogate import FittedMetric, SurrogateBenchmark
from suite.benchmarks.tabular import TabularBenchmark

__all__ = [
    "Benchmark",
    "FidelityError",
    "FittedMetric",
    "LiveBenchmark",
    "Objective",
    "Observation",
    "SurrogateBenchmark",
    "TabularBenchmark",
]
