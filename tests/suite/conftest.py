"""Fixtures shared by the strategy tests: the NB201 table as a CIFAR-10 benchmark and its cost model."""

from __future__ import annotations

import pytest

from suite.benchmarks import TabularBenchmark
from suite.costs import TrainTimeModel
from tabular.table import Table


@pytest.fixture(scope="session")
def bench(nb201_table: Table) -> TabularBenchmark:
    """Searches on CIFAR-10's 12-epoch test accuracy (fidelities 12 and 200)."""
    return TabularBenchmark(nb201_table, "cifar10", "test")


@pytest.fixture(scope="session")
def cost_model(nb201_table: Table) -> TrainTimeModel:
    return TrainTimeModel.fit(nb201_table, "cifar10")
