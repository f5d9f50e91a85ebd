"""Optuna-backed strategies and BOHB, on the real NB201 table and real Optuna studies."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from suite.benchmarks import TabularBenchmark
from suite.benchmarks.base import Objective
from suite.costs import TrainTimeModel
from suite.errors import SearchSettingsError, UnknownStrategyError
from suite.runner.loop import run_search
from suite.runner.setup import build_setup
from suite.runner.spec import SearchSpec
from suite.strategies import SearchContext, get_strategy, make_strategy
from suite.strategies.bohb import BOHB, hyperband_rungs
from suite.strategies.optuna_search import OptunaSearch, available_samplers
from tabular.spaces.nb201 import OP_INDEX, NB201Space
from tabular.table import Table

PIXEL3 = "latency_ms:pixel3"
CONVS = (OP_INDEX["nor_conv_1x1"], OP_INDEX["nor_conv_3x3"])


@pytest.fixture(scope="module")
def tight_bound(bench: TabularBenchmark) -> float:
    """A pixel3 latency bound that about 5 % of the cells meet."""
    return float(np.nanquantile(bench.hardware_by_index(PIXEL3), 0.05))


def protocol(strategy: str, **kwargs: object) -> SearchSpec:
    """NB201's protocol: search on 12-epoch accuracy, 12,000 simulated seconds, report test@200."""
    settings: dict = {"budget_seconds": 12000, "fidelity": 12, "report": "test@200", **kwargs}
    return SearchSpec(strategy, **settings)


def n_conv(arch: tuple[int, ...]) -> int:
    return sum(op in CONVS for op in arch)


def drive(strategy, steps: int, value) -> list:  # type: ignore[no-untyped-def]
    """Ask/tell ``steps`` times, telling ``value(trial)``; the asked trials."""
    trials = []
    for _ in range(steps):
        trial = strategy.ask()
        strategy.tell(trial, value(trial))
        trials.append(trial)
    return trials


# ---- Optuna ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["optuna:TPESampler", "optuna:RandomSampler", "optuna-tpe", "bohb"])
def test_same_seed_same_trajectory(name: str, bench: TabularBenchmark, cost_model: TrainTimeModel) -> None:
    runs = [run_search(bench, protocol(name), seed=s, cost_model=cost_model, catch=False) for s in (3, 3, 4)]
    trajectories = [[(e.arch, e.fidelity, e.time) for e in r.evaluations] for r in runs]
    assert len(trajectories[0]) > 30
    assert trajectories[0] == trajectories[1]
    assert trajectories[0] != trajectories[2]
    assert math.isfinite(runs[0].final)


@pytest.mark.parametrize("name", ["optuna:TPESampler", "bohb"])
def test_constraints_honoured_end_to_end(
    name: str, bench: TabularBenchmark, cost_model: TrainTimeModel, tight_bound: float
) -> None:
    spec = protocol(name, constraints=(f"{PIXEL3}<={tight_bound}",), workers=3, max_evaluations=60)
    result = run_search(bench, spec, seed=0, cost_model=cost_model, catch=False)
    latency = bench.hardware_by_index(PIXEL3)
    assert len(result.evaluations) == 60
    assert all(latency[e.index] <= tight_bound for e in result.evaluations)


def test_optuna_infeasible_proposals_are_pruned_then_fall_back(
    bench: TabularBenchmark, tight_bound: float
) -> None:
    import optuna

    setup = build_setup(bench, protocol("optuna:TPESampler", constraints=(f"{PIXEL3}<={tight_bound}",)))
    context = setup.context

    def value(trial):  # type: ignore[no-untyped-def]
        return (bench.query(trial.arch, 12).metrics["test"],)

    patient = make_strategy("optuna:TPESampler", context=context, seed=0)
    assert isinstance(patient, OptunaSearch)
    asked = drive(patient, 30, value)
    assert all(context.is_feasible(t.arch) for t in asked)
    states = [t.state for t in patient.study.trials]
    assert patient.stats["pruned_infeasible"] == states.count(optuna.trial.TrialState.PRUNED) > 30
    assert states.count(optuna.trial.TrialState.COMPLETE) == 30

    impatient = make_strategy("optuna:TPESampler", context=context, seed=0, options={"max_retries": 0})
    asked = drive(impatient, 20, value)
    assert all(context.is_feasible(t.arch) for t in asked)
    assert impatient.stats["fallbacks"] > 10  # ~95 % of first proposals are infeasible
    complete = [t for t in impatient.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # the enqueued fallback cells are what the study recorded, with their values
    assert [tuple(t.params[f"x{i}"] for i in range(6)) for t in complete] == [t.arch for t in asked]


def test_nan_is_told_as_failed(bench: TabularBenchmark) -> None:
    import optuna

    strategy = make_strategy("optuna:TPESampler", context=build_setup(bench, protocol("x")).context, seed=0)
    drive(strategy, 4, lambda trial: (math.nan,) if trial.number % 2 else (50.0,))
    assert [t.state for t in strategy.study.trials] == [
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.FAIL,
    ] * 2


def test_nsga2_gets_both_objectives(bench: TabularBenchmark, cost_model: TrainTimeModel) -> None:
    import optuna

    spec = protocol("optuna:NSGAIISampler", objectives=(PIXEL3,), options={"population_size": 10})
    result = run_search(bench, spec, seed=0, cost_model=cost_model, catch=False)
    assert len(result.evaluations) > 30
    assert all(len(e.values) == 2 and all(map(math.isfinite, e.values)) for e in result.evaluations)
    assert result.pareto

    strategy = make_strategy("optuna:NSGAIISampler", context=build_setup(bench, spec).context, seed=0)
    assert strategy.multi_objective
    study = strategy.study  # type: ignore[attr-defined]
    assert study.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    drive(strategy, 3, lambda trial: (90.0, 1.0 + trial.number))
    assert [t.values for t in study.trials] == [[90.0, 1.0], [90.0, 2.0], [90.0, 3.0]]


def test_unknown_sampler_and_bad_options(bench: TabularBenchmark) -> None:
    assert {"TPESampler", "NSGAIISampler", "GPSampler", "CmaEsSampler", "RandomSampler"} <= set(
        available_samplers()
    )
    for name in ("optuna:NoSuchSampler", "optuna:BaseSampler"):
        with pytest.raises(UnknownStrategyError, match="optuna:TPESampler") as error:
            get_strategy(name)
        assert "optuna:NSGAIISampler" in str(error.value)
    context = build_setup(bench, protocol("x", objectives=(PIXEL3,))).context
    with pytest.raises(SearchSettingsError, match="n_startup_trialz"):
        make_strategy("optuna:TPESampler", context=context, seed=0, options={"n_startup_trialz": 3})
    with pytest.raises(SearchSettingsError, match="seed"):
        make_strategy("optuna:TPESampler", context=context, seed=0, options={"seed": 3})
    with pytest.raises(SearchSettingsError, match="2 objective"):
        make_strategy("optuna:CmaEsSampler", context=context, seed=0)  # CMA-ES is single-objective


def test_optuna_logging_silenced_only_in_our_calls(bench: TabularBenchmark) -> None:
    import optuna

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        strategy = make_strategy("optuna-tpe", context=build_setup(bench, protocol("x")).context, seed=0)
        drive(strategy, 3, lambda trial: (math.nan,))  # a failed trial is a warning in some versions
        assert records == []
        optuna.create_study()  # outside our calls Optuna logs as configured
        assert any("A new study created" in r.getMessage() for r in records)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# ---- BOHB --------------------------------------------------------------------------------


def test_hyperband_rungs() -> None:
    assert hyperband_rungs((1, 3, 9), 1, 9, 3) == (1, 3, 9)
    assert hyperband_rungs(range(1, 10), 1, 9, 3) == (1, 3, 9)
    assert hyperband_rungs((12, 200), 12, 200, 3) == (12, 200)
    assert hyperband_rungs((1, 2), 1, 2, 3) == (1, 2)
    assert hyperband_rungs(range(1, 201), 1, 200, 3) == (1, 3, 7, 22, 67, 200)
    assert hyperband_rungs((12, 200), 12, 12, 3) == (12,)


def nb201_context(fidelities: tuple[int, ...]) -> SearchContext:
    return SearchContext(
        space=NB201Space(), objectives=(Objective("valid"),), fidelities=fidelities, nested_fidelities=True
    )


def test_bohb_successive_halving_promotes_the_best_third() -> None:
    bohb = BOHB(context=nb201_context((1, 3, 9)), seed=0)
    assert bohb.rungs == (1, 3, 9)
    first = [bohb.ask() for _ in range(9)]  # bracket s=2: 9 cells on 1 epoch
    assert [t.fidelity for t in first] == [1] * 9
    score = {t.number: float(v) for t, v in zip(first, [5, 80, 30, 70, 10, 60, 20, 50, 90], strict=True)}
    for trial in first[:8]:
        bohb.tell(trial, (score[trial.number],))
    # the rung waits for one result: the next bracket (s=1, 3 cells on 3 epochs) starts meanwhile
    other = bohb.ask()
    assert other.fidelity == 3 and other.arch not in {t.arch for t in first}
    bohb.tell(first[8], (score[first[8].number],))
    promoted = [bohb.ask() for _ in range(3)]  # the oldest bracket goes first
    best3 = sorted(first, key=lambda t: -score[t.number])[:3]
    assert [(t.arch, t.fidelity) for t in promoted] == [(t.arch, 3) for t in best3]
    for trial, value in zip(promoted, [math.nan, 40.0, 45.0], strict=True):  # the best one fails
        bohb.tell(trial, (value,))
    last = bohb.ask()
    assert (last.arch, last.fidelity) == (promoted[2].arch, 9)  # the best finished one, never a failed one


def test_bohb_promotion_charges_only_new_epochs_end_to_end(nb201_table: Table) -> None:
    """NB201's (12, 200) are two schedules: BOHB searches both; evaluations are all feasible."""
    bench = TabularBenchmark(nb201_table, "cifar10", "test")
    spec = SearchSpec("bohb", budget_seconds=1e9, max_evaluations=40, report="test@200", workers=2)
    result = run_search(
        bench, spec, seed=1, cost_model=TrainTimeModel.fit(nb201_table, "cifar10"), catch=False
    )
    fidelities = [e.fidelity for e in result.evaluations]
    assert set(fidelities) == {12, 200} and len(fidelities) == 40
    assert math.isfinite(result.final)


def test_bohb_model_proposes_cells_near_the_good_ones() -> None:
    """Synthetic objective: the number of convolutions (uniform cells average 2.4 of 6)."""
    context = nb201_context((12,))

    def value(trial):  # type: ignore[no-untyped-def]
        return (float(n_conv(trial.arch)),)

    model = BOHB(context=context, seed=0, random_fraction=0.0)
    random = BOHB(context=context, seed=0, random_fraction=1.0)
    modelled = [n_conv(t.arch) for t in drive(model, 120, value)[60:]]
    uniform = [n_conv(t.arch) for t in drive(random, 120, value)[60:]]
    assert model.model_fidelity == 12 and random.model_fidelity == 12
    assert np.mean(modelled) > np.mean(uniform) + 1.5, (np.mean(modelled), np.mean(uniform))


def test_bohb_model_uses_the_highest_fidelity_with_enough_points() -> None:
    bohb = BOHB(context=nb201_context((1, 3, 9)), seed=0, min_points_in_model=2)
    assert bohb.model_fidelity is None
    drive(bohb, 9, lambda trial: (float(n_conv(trial.arch)),))  # bracket s=2: 9 cells on rung 1
    assert bohb.model_fidelity == 1
    drive(bohb, 3, lambda trial: (float(n_conv(trial.arch)),))  # its best 3 on rung 3
    assert bohb.model_fidelity == 1  # 3 points are not enough for 2 good + 2 bad
    drive(bohb, 2, lambda trial: (float(n_conv(trial.arch)),))  # its best on 9; bracket s=1 starts on 3
    assert bohb.model_fidelity == 3


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"eta": 1}, "eta"),
        ({"max_fidelity": 50}, "50"),
        ({"min_fidelity": 200, "max_fidelity": 12}, "above"),
        ({"random_fraction": 2.0}, "random_fraction"),
        ({"num_samples": 0}, "num_samples"),
        ({"top_n_percent": 100}, "top_n_percent"),
        ({"min_bandwidth": 0.0}, "min_bandwidth"),
        ({"bandwidth_factor": -1}, "bandwidth_factor"),
    ],
)
def test_bohb_bad_settings(options: dict, match: str, bench: TabularBenchmark) -> None:
    context = build_setup(bench, SearchSpec("bohb", budget_seconds=1)).context
    with pytest.raises(SearchSettingsError, match=match):
        make_strategy("bohb", context=context, seed=0, options=options)
