"""BANANAS (White et al. 2021) on the real NB201 table: valid, reproducible, guided by its model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from suite.benchmarks import TabularBenchmark
from suite.costs import TrainTimeModel
from suite.errors import SearchSettingsError, StrategyProtocolError
from suite.runner.loop import run_search
from suite.runner.setup import build_setup
from suite.runner.spec import RunResult, SearchSpec
from suite.strategies import SearchContext, get_strategy, make_strategy, strategy_names
from suite.strategies.bananas import Bananas

BIG_BUDGET = 1e12  # simulated seconds: the evaluation cap, not the clock, ends these runs
#: a quick model for tests of bookkeeping rather than guidance
CHEAP = {"predictor_options": {"base": "xgb", "n_members": 3, "base_params": {"n_estimators": 20}}}


def _run(
    bench: TabularBenchmark, cost_model: TrainTimeModel, seed: int, n: int = 40, **spec: Any
) -> RunResult:
    spec = {"budget_seconds": BIG_BUDGET, "max_evaluations": n, **spec}
    return run_search(bench, SearchSpec("bananas", **spec), seed=seed, cost_model=cost_model)


@pytest.fixture(scope="module")
def seed0_run(bench: TabularBenchmark, cost_model: TrainTimeModel) -> RunResult:
    """40 evaluations with seed 0 (shared by two tests: a run costs about a second)."""
    return _run(bench, cost_model, seed=0)


def _context(bench: TabularBenchmark) -> SearchContext:
    return build_setup(bench, SearchSpec("bananas", budget_seconds=1.0)).context


def _accuracy(bench: TabularBenchmark, cells: Any) -> float:
    return float(np.mean([bench.query(cell).metrics["test"] for cell in cells]))


def test_registered() -> None:
    assert "bananas" in strategy_names() and get_strategy("bananas") is Bananas


def test_same_seed_same_trajectory(
    bench: TabularBenchmark, cost_model: TrainTimeModel, seed0_run: RunResult
) -> None:
    again, other = _run(bench, cost_model, seed=0), _run(bench, cost_model, seed=1, n=15)
    assert seed0_run.error is None and len(seed0_run.evaluations) == 40
    trajectory = [(e.arch, e.values) for e in seed0_run.evaluations]
    assert trajectory == [(e.arch, e.values) for e in again.evaluations]
    assert trajectory[:15] != [(e.arch, e.values) for e in other.evaluations]


def test_distinct_feasible_cells_under_a_constraint(
    bench: TabularBenchmark, cost_model: TrainTimeModel
) -> None:
    constraint = "params<=300000"
    result = _run(bench, cost_model, seed=0, constraints=(constraint,))
    assert result.error is None and len(result.evaluations) == 40
    indices = [e.index for e in result.evaluations]
    assert len(set(indices)) == 40  # never the same cell twice
    params = bench.hardware_by_index("params")
    assert (params[indices] <= 300_000).all()


def test_proposals_beat_the_random_initial_cells(seed0_run: RunResult) -> None:
    values = np.array([e.values[0] for e in seed0_run.evaluations])  # test@200, ask order (1 worker)
    assert values[10:].mean() > values[:10].mean() + 3.0


def test_the_predictor_picks_better_cells_than_its_pool(bench: TabularBenchmark) -> None:
    """Guidance itself: the chosen batch beats the average candidate it was chosen from.

    Mutating good parents alone would raise the pool's accuracy too, so compare with the pool.
    """
    strategy = make_strategy("bananas", context=_context(bench), seed=0)
    assert isinstance(strategy, Bananas)
    gaps, last = [], None
    for _ in range(40):
        trial = strategy.ask()
        got = strategy.last_acquisition
        if got is not None and got is not last:
            last = got
            assert len(got.candidates) == strategy.n_candidates and len(set(got.candidates)) == 100
            assert len(got.chosen) == 10 and set(got.chosen) <= set(got.candidates)
            gaps.append(_accuracy(bench, got.chosen) - _accuracy(bench, got.candidates))
        strategy.tell(trial, (bench.query(trial.arch).metrics["test"],))
    assert strategy.fits == len(gaps) == 3
    assert min(gaps) > 0 and np.mean(gaps) > 1.0


def test_asynchronous_tells(bench: TabularBenchmark, cost_model: TrainTimeModel) -> None:
    strategy = make_strategy("bananas", context=_context(bench), seed=1, options={"n_initial": 5})
    first = [strategy.ask() for _ in range(5)]
    for trial in reversed(first[1:]):  # out of order, one still outstanding
        strategy.tell(trial, (bench.query(trial.arch).metrics["test"],))
    outstanding = [strategy.ask() for _ in range(15)]  # a refit while 16 trials are running
    cells = [t.arch for t in first + outstanding]
    assert len(set(cells)) == 20 and all(strategy.context.is_feasible(c) for c in cells)
    with pytest.raises(StrategyProtocolError):
        strategy.tell(first[1], (90.0,))  # told twice
    strategy.tell(first[0], (float("nan"),))  # a failed run is fine
    result = _run(bench, cost_model, seed=2, workers=4)
    assert result.error is None and len({e.arch for e in result.evaluations}) == 40


def test_ucb_with_an_xgb_ensemble(bench: TabularBenchmark, cost_model: TrainTimeModel) -> None:
    options = {
        "acquisition": "ucb",
        "predictor_options": {"base": "xgb", "n_members": 3, "bootstrap": True},
        "encoding": "path",
    }
    result = _run(bench, cost_model, seed=0, n=30, options=options)
    assert result.error is None and len({e.arch for e in result.evaluations}) == 30


def test_exhausting_a_tiny_feasible_set(bench: TabularBenchmark, cost_model: TrainTimeModel) -> None:
    spec: dict[str, Any] = {
        "constraints": ("params>=1300000",),  # 7 NB201 cells
        "options": {"n_initial": 2, "n_parents": 2, "n_candidates": 4, "batch_size": 2, **CHEAP},
    }
    full = _run(bench, cost_model, seed=0, n=7, **spec)
    assert full.error is None and len({e.arch for e in full.evaluations}) == 7
    over = _run(bench, cost_model, seed=0, n=8, **spec)  # the run ends complete, not failed
    assert over.error is None and len(over.evaluations) == 7


@pytest.mark.parametrize(
    "options",
    [
        {"n_initial": 1},
        {"n_parents": 0},
        {"batch_size": 0},
        {"n_candidates": 5},
        {"acquisition": "ei"},
        {"ucb_beta": -1.0},
        {"ucb_beta": float("nan")},
        {"predictor": "nope"},
        {"predictor": "xgb"},  # no predict_std
        {"predictor_options": {"n_members": 0}},
        {"predictor_options": {"bogus": 1}},
        {"predictor_options": {"base": "nope"}},
        {"encoding": "nope"},
        {"colour": "yellow"},
    ],
)
def test_bad_options(bench: TabularBenchmark, options: dict[str, Any]) -> None:
    with pytest.raises(SearchSettingsError):
        make_strategy("bananas", context=_context(bench), seed=0, options=options)
