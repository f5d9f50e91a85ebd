"""The Benchmark protocol: tabular and surrogate benchmarks answer the same queries."""

from __future__ import annotations

import numpy as np
import pytest

from suite.benchmarks import Benchmark, FidelityError, SurrogateBenchmark, TabularBenchmark
from tabular.errors import ArchIndexError, UnknownDatasetError, UnknownMetricError, UnknownNameError
from tabular.table import Table

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_tabular_benchmark_on_nb201(nb201_table: Table) -> None:
    bench = TabularBenchmark(nb201_table, "cifar10", search="test")
    assert isinstance(bench, Benchmark)
    assert bench.fidelities == (12, 200)
    arch = bench.space.from_str(BEST_C10)
    final = bench.query(arch)
    assert final.fidelity == 200 and final.metrics["test"] == pytest.approx(94.3733, abs=1e-4)
    assert final.hardware["params"] == 1_073_466 and "latency_ms:pixel3" in final.hardware
    short = bench.query(arch, fidelity=12, seed=111)
    assert short.metrics["test"] == pytest.approx(88.79, abs=1e-4) and short.seed == 111


def test_tabular_benchmark_errors(nb201_table: Table) -> None:
    with pytest.raises(UnknownDatasetError):
        TabularBenchmark(nb201_table, "cifar11")
    with pytest.raises(UnknownMetricError, match="valid"):
        TabularBenchmark(nb201_table, "cifar10", search="valid")  # cifar10 has no validation split
    bench = TabularBenchmark(nb201_table, "cifar10", search="test")
    with pytest.raises(FidelityError, match="12, 200"):
        bench.query((0, 1, 2, 3, 4, 0), fidelity=50)
    with pytest.raises(UnknownNameError, match="seed"):
        bench.query((0, 1, 2, 3, 4, 0), seed=12345)
    with pytest.raises(ArchIndexError):
        bench.query((0, 1, 2))


def test_surrogate_benchmark_fitted_on_nb201(nb201_table: Table) -> None:
    bench = SurrogateBenchmark.fit_from_table(
        nb201_table, "cifar100", fidelity=200, quantities=("test",), model="xgb", search="test"
    )
    assert isinstance(bench, Benchmark) and bench.fidelities == (200,)
    archs = bench.space.sample_many(np.random.default_rng(0), 300)
    predicted = bench.predict(archs)["test"]
    truth = nb201_table.metric("cifar100", "test@200", rows=nb201_table.rows(bench.space.indices(archs)))
    assert np.corrcoef(predicted, truth)[0, 1] > 0.9  # trained on every cell: a sanity check, not quality
    obs = bench.query(tuple(archs[0]))
    assert obs.metrics["test"] == pytest.approx(predicted[0]) and np.isnan(obs.train_seconds)


def test_surrogate_noise_is_seeded(nb201_table: Table) -> None:
    bench = SurrogateBenchmark.fit_from_table(
        nb201_table,
        "cifar10-valid",
        fidelity=200,
        quantities=("valid",),
        model="ensemble",
        noise=True,
        model_kwargs={"base": "xgb", "n_members": 3, "bootstrap": True},
    )
    arch = bench.space.from_str(BEST_C10)
    a, b, c = (bench.query(arch, seed=s).metrics["valid"] for s in (1, 1, 2))
    assert a == b and a != c
    assert bench.query(arch).metrics["valid"] != a  # no seed: the mean, no noise


def test_surrogate_benchmark_needs_the_search_metric(nb201_table: Table) -> None:
    with pytest.raises(UnknownMetricError, match="valid@200"):
        SurrogateBenchmark.fit_from_table(nb201_table, "cifar10", quantities=("test",), model="xgb")


def test_tabular_benchmark_keeps_only_the_fidelities_asked(nb201_table: Table) -> None:
    """cifar10-valid has valid@200 for every cell but valid@12 for few: a search on it uses 200 only."""
    both = TabularBenchmark(nb201_table, "cifar10-valid", "valid")
    only = TabularBenchmark(nb201_table, "cifar10-valid", "valid", fidelities=(200,))
    assert both.fidelities == (12, 200) and only.fidelities == (200,)
    assert both.available_by_index().sum() < 0.1 * 15_625  # the partial 12-epoch figure limits it
    assert only.available_by_index().all()
    assert only.query(nb201_table.arch(6111)).fidelity == 200
    with pytest.raises(UnknownMetricError, match="valid@50"):
        TabularBenchmark(nb201_table, "cifar10-valid", "valid", fidelities=(50,))
