"""The contract every registered strategy keeps, including one from another installed package.

Each strategy runs on the imported NB201 table (search on CIFAR-10 12-epoch accuracy, charged by
the train-time model) under a params constraint and with 4 simulated workers.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from suite.benchmarks import TabularBenchmark
from suite.costs import TrainTimeModel
from suite.runner import SearchSpec, build_setup, run_search
from suite.strategies import STRATEGIES, list_strategies, strategy_names
from suite.strategies.registry import load_entry_points
from tabular.table import Table

PLUGIN = "nasuite_contract_plugin"
PLUGIN_STRATEGY = "plugin-first-improvement"
BUILTIN = [*strategy_names(), "optuna:TPESampler"]
BUDGET = 2500.0
PARAMS_BOUND = 600_000


def _install_plugin(site: Path) -> None:
    """Lay out a distribution with a ``nasuite.strategies`` entry point, as pip would install it."""
    package = site / PLUGIN
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            '''
            """A strategy from outside nasuite: mutate the best cell seen so far."""
            import math
            from suite.strategies import Strategy


            class FirstImprovement(Strategy):
                """Mutates the best cell so far (a test plugin)."""

                def __init__(self, *, context, seed):
                    super().__init__(context=context, seed=seed)
                    self.best = None

                def ask(self):
                    if self.best is None:
                        return self._trial(self.context.sample(self.rng))
                    return self._trial(self.context.mutate(self.best[1], self.rng))

                def tell(self, trial, values):
                    score = self.utility(values)
                    if self.best is None or score > self.best[0]:
                        self.best = (score, trial.arch)
            '''
        )
    )
    info = site / f"{PLUGIN}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PLUGIN}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[nasuite.strategies]\n{PLUGIN_STRATEGY} = {PLUGIN}:FirstImprovement\n"
    )
    (info / "RECORD").write_text("")


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    site = tmp_path_factory.mktemp("site")
    _install_plugin(site)
    sys.path.insert(0, str(site))
    try:
        load_entry_points(reload=True)
        yield PLUGIN_STRATEGY
    finally:
        sys.path.remove(str(site))


@pytest.fixture(scope="module")
def bench(nb201_table: Table) -> TabularBenchmark:
    return TabularBenchmark(nb201_table, "cifar10", "test", time_dataset="cifar10-valid")


@pytest.fixture(scope="module")
def cost_model(nb201_table: Table) -> TrainTimeModel:
    return TrainTimeModel.fit(nb201_table, "cifar10-valid")


def _run(bench, cost_model, name: str, seed: int, workers: int = 4):  # type: ignore[no-untyped-def]
    spec = SearchSpec(
        name, budget_seconds=BUDGET, workers=workers, fidelity=12,
        constraints=(f"params<={PARAMS_BOUND}",), report="test@200",
    )  # fmt: skip
    result = run_search(bench, spec, seed, cost_model=cost_model, catch=False)
    return result, build_setup(bench, spec, cost_model)


def test_the_plugin_is_discovered_with_its_package(plugin: str) -> None:
    infos = {i.name: i for i in list_strategies()}
    assert plugin in infos
    assert infos[plugin].source == PLUGIN
    assert infos["evolution"].source == "nasuite"


@pytest.mark.parametrize("name", [*BUILTIN, PLUGIN_STRATEGY])
def test_strategy_contract(name: str, plugin: str, bench: TabularBenchmark, cost_model) -> None:  # type: ignore[no-untyped-def]
    result, setup = _run(bench, cost_model, name, seed=3)
    evaluations = result.evaluations
    assert len(evaluations) >= 8, f"{name} evaluated only {len(evaluations)} cells"
    # valid cells of the space, inside the constraint
    params = bench.hardware_by_index("params")
    for e in evaluations:
        arch = bench.space.from_str(e.arch)
        assert bench.space.index(arch) == e.index
        assert params[e.index] <= PARAMS_BOUND
        assert setup.context.is_feasible(arch)
        assert e.fidelity in (12,)
    # the budget is never exceeded, and time only moves forward
    times = np.array([e.time for e in evaluations])
    assert times.max() <= BUDGET
    assert np.all(np.diff(times) >= 0)
    # 4 workers overlap: the work charged exceeds the simulated time that passed
    assert sum(e.cost for e in evaluations) > 2.5 * times.max()
    # the same seed gives the identical trajectory
    again, _ = _run(bench, cost_model, name, seed=3)
    assert [(e.arch, e.time, e.values) for e in again.evaluations] == [
        (e.arch, e.time, e.values) for e in evaluations
    ]
    # the incumbent is the best cell seen so far, judged by the reported metric
    best = max(e.values[0] for e in evaluations)
    assert evaluations[-1].incumbent_value == best


@pytest.mark.parametrize("name", ["random", "evolution", "local-search", "bananas"])
def test_one_worker_runs_back_to_back(name: str, bench: TabularBenchmark, cost_model) -> None:  # type: ignore[no-untyped-def]
    result, _ = _run(bench, cost_model, name, seed=0, workers=1)
    times = np.array([e.time for e in result.evaluations])
    costs = np.array([e.cost for e in result.evaluations])
    np.testing.assert_allclose(times, np.cumsum(costs))


def test_a_strategy_that_raises_is_recorded_and_the_others_go_on(bench: TabularBenchmark, cost_model) -> None:  # type: ignore[no-untyped-def]
    from suite.strategies import Strategy

    class Broken(Strategy):
        """Proposes a cell outside the constraint."""

        def ask(self):  # type: ignore[no-untyped-def]
            heavy = int(np.nanargmax(bench.hardware_by_index("params")))
            return self._trial(bench.space.from_index(heavy))

        def tell(self, trial, values):  # type: ignore[no-untyped-def]
            raise AssertionError("never told")

    STRATEGIES.add("test-broken", Broken)
    try:
        spec = SearchSpec("test-broken", budget_seconds=BUDGET, fidelity=12, constraints=("params<=600000",))
        failed = run_search(bench, spec, 0, cost_model=cost_model)
        assert failed.failed and "StrategyProtocolError" in failed.error
        assert "violates the constraints" in failed.error
        ok = run_search(
            bench, SearchSpec("random", budget_seconds=BUDGET, fidelity=12), 0, cost_model=cost_model
        )
        assert not ok.failed and ok.evaluations
    finally:
        STRATEGIES._items.pop("test-broken")
