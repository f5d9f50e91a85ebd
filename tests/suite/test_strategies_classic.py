"""REINFORCE, local search and the zero-cost warm-started evolution on the real NB201 table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from suite.benchmarks import TabularBenchmark
from suite.costs import TrainTimeModel
from suite.errors import SearchSettingsError
from suite.runner.loop import run_search
from suite.runner.spec import SearchSpec
from suite.strategies import SearchContext, make_strategy
from suite.strategies.local_search import LocalSearch
from suite.strategies.reinforce import Adam, Reinforce
from suite.strategies.zc_evolution import ZeroCostEvolution
from tabular.table import Table

CLASSIC = ("reinforce", "local-search", "zc-evolution")
PARAMS_BOUND = 150_000  # about a fifth of NB201's cells have at most this many parameters


def context_of(bench: TabularBenchmark, feasible: np.ndarray | None = None) -> SearchContext:
    return SearchContext(
        space=bench.space,
        objectives=bench.objectives,
        fidelities=bench.fidelities,
        feasible=feasible,
        zero_cost=bench.zero_cost_by_index,
    )


def hamming(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))


# ---- every classic strategy, end to end under the simulated clock


@pytest.mark.parametrize("name", CLASSIC)
def test_constrained_runs_are_feasible_and_reproducible(
    name: str, bench: TabularBenchmark, cost_model: TrainTimeModel
) -> None:
    spec = SearchSpec(
        name,
        budget_seconds=1e9,
        workers=3,  # asynchronous tells
        constraints=(f"params<={PARAMS_BOUND}",),
        report="test@200",
        max_evaluations=60,
    )
    runs = [run_search(bench, spec, seed=s, cost_model=cost_model, catch=False) for s in (0, 0, 1)]
    params = bench.hardware_by_index("params")
    trajectories = [[(e.arch, e.time, e.values) for e in r.evaluations] for r in runs]
    assert len(trajectories[0]) == 60
    assert all(params[e.index] <= PARAMS_BOUND for e in runs[0].evaluations)
    assert trajectories[0] == trajectories[1]  # same seed, same run
    assert trajectories[0] != trajectories[2]
    assert math.isfinite(runs[0].final)


def test_local_search_never_re_evaluates_a_cell(bench: TabularBenchmark, cost_model: TrainTimeModel) -> None:
    spec = SearchSpec("local-search", budget_seconds=1e9, workers=4, max_evaluations=300)
    result = run_search(bench, spec, seed=3, cost_model=cost_model, catch=False)
    archs = [e.arch for e in result.evaluations]
    assert len(archs) == 300 and len(set(archs)) == 300


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("reinforce", {"learning_rate": 0.0}, "learning_rate"),
        ("reinforce", {"learning_rate": math.nan}, "learning_rate"),
        ("reinforce", {"ema_momentum": 1.0}, "ema_momentum"),
        ("reinforce", {"max_resamples": -1}, "max_resamples"),
        ("local-search", {"n_initial": 0}, "n_initial"),
        ("local-search", {"n_initial": 2.5}, "n_initial"),
        ("zc-evolution", {"n_candidates": 5}, "n_candidates"),
        ("zc-evolution", {"population_size": 1}, "population_size"),
        ("zc-evolution", {"proxy": "nope"}, "naswot"),  # the message lists the available proxies
        ("zc-evolution", {"temperature": 1.0}, "temperature"),
    ],
)
def test_bad_settings_raise(name: str, options: dict, match: str, bench: TabularBenchmark) -> None:
    with pytest.raises(SearchSettingsError, match=match):
        make_strategy(name, context=context_of(bench), seed=0, options=options)


# ---- REINFORCE


def test_adam_first_step_is_learning_rate_times_sign() -> None:
    params = np.zeros(3)
    Adam(3, lr=0.5).step(params, np.array([1.0, -2.0, 0.0]))
    np.testing.assert_allclose(params, [-0.5, 0.5, 0.0], atol=1e-6)


def test_reinforce_rewarded_op_gains_probability(bench: TabularBenchmark) -> None:
    for lr in (0.5, 0.05):
        strategy = Reinforce(context=context_of(bench), seed=0, learning_rate=lr)
        start = strategy.probabilities()[2][3]
        entropy = strategy.entropy()
        assert start == pytest.approx(0.2, abs=0.01) and entropy == pytest.approx(math.log(5**6), abs=1e-3)
        for _ in range(60):
            trial = strategy.ask()
            strategy.tell(trial, (90.0 if trial.arch[2] == 3 else 50.0,))
        probs = strategy.probabilities()[2]
        assert probs[3] == probs.max() and probs[3] > start + 0.1
        assert strategy.entropy() < entropy
    assert probs[3] < 0.9  # the smaller step moves it less than the NB201 default (0.5) would
    assert Reinforce(context=context_of(bench), seed=0).learning_rate == 0.5


def test_reinforce_baseline_and_failed_runs(bench: TabularBenchmark) -> None:
    strategy = Reinforce(context=context_of(bench), seed=1)
    logits = strategy.logits.copy()
    first = strategy.ask()
    strategy.tell(first, (80.0,))
    # the bias-corrected baseline equals the first reward: zero advantage, no move
    assert strategy.baseline.value == pytest.approx(80.0)
    np.testing.assert_allclose(strategy.logits, logits)
    failed = strategy.ask()
    strategy.tell(failed, (math.nan,))
    np.testing.assert_allclose(strategy.logits, logits)
    assert strategy.baseline.value == pytest.approx(80.0) and not strategy.pending
    better = strategy.ask()
    strategy.tell(better, (90.0,))
    # EMA(0.9) of 80 then 90, bias-corrected: (0.09*80 + 0.1*90) / 0.19
    assert strategy.baseline.value == pytest.approx((0.09 * 80 + 0.1 * 90) / 0.19)
    for decision, p in enumerate(strategy.probabilities()):
        assert p[better.arch[decision]] > 0.2  # a positive advantage raised every sampled op


def test_reinforce_asynchronous_tells(bench: TabularBenchmark) -> None:
    strategy = Reinforce(context=context_of(bench), seed=2)
    trials = [strategy.ask() for _ in range(4)]
    assert set(strategy.pending) == {t.number for t in trials}
    for trial, reward in zip(reversed(trials), (60.0, 70.0, 80.0, 90.0), strict=True):
        strategy.tell(trial, (reward,))
    assert not strategy.pending
    assert strategy.optimizer.t == 4


def test_reinforce_falls_back_to_a_feasible_cell(bench: TabularBenchmark) -> None:
    only = bench.space.from_str(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    )
    mask = np.zeros(bench.space.size, dtype=bool)
    mask[bench.space.index(only)] = True
    strategy = Reinforce(context=context_of(bench, mask), seed=0, max_resamples=3)
    for _ in range(5):
        trial = strategy.ask()
        assert trial.arch == only
        strategy.tell(trial, (94.0,))
    assert strategy.n_fallbacks == 5  # a uniform policy almost never draws the one cell


# ---- local search


def test_local_search_climbs_to_the_best_neighbour_then_restarts(bench: TabularBenchmark) -> None:
    strategy = LocalSearch(context=context_of(bench), seed=0, n_initial=3)
    initial = [strategy.ask() for _ in range(3)]
    assert len({t.arch for t in initial}) == 3
    for trial, value in zip(initial, (40.0, 60.0, 50.0), strict=True):
        strategy.tell(trial, (value,))
    start = initial[1].arch  # the best initial cell
    others = {initial[0].arch, initial[2].arch}

    # its whole neighbourhood is evaluated (cells already known are skipped); the values make
    # the first improving neighbour not the best one
    expected = {n for n in bench.space.neighbors(start)} - others
    asked = []
    for i in range(len(expected)):
        trial = strategy.ask()
        assert hamming(trial.arch, start) == 1
        asked.append(trial.arch)
        strategy.tell(trial, ({5: 70.0, 10: 75.0}.get(i, 30.0),))
    assert set(asked) == expected
    best = asked[10]

    # move to the best neighbour and evaluate its unknown neighbours, nothing twice
    trial = strategy.ask()
    assert strategy.current == best
    known = set(strategy.known)
    second = [trial.arch]
    strategy.tell(trial, (20.0,))
    for _ in range(len(set(bench.space.neighbors(best)) - known) - 1):
        trial = strategy.ask()
        second.append(trial.arch)
        strategy.tell(trial, (20.0,))
    assert all(hamming(a, best) == 1 for a in second)
    assert set(second) == set(bench.space.neighbors(best)) - known
    assert strategy.restarts == 0

    # a local optimum: restart from a fresh random cell
    trial = strategy.ask()
    assert strategy.restarts == 1 and strategy.current == trial.arch
    assert trial.arch not in strategy.known


def test_local_search_with_outstanding_trials(bench: TabularBenchmark) -> None:
    strategy = LocalSearch(context=context_of(bench), seed=1, n_initial=2)
    first = [strategy.ask() for _ in range(2)]
    # the initial values are not in yet: a worker gets a fresh random cell, not a repeat
    filler = strategy.ask()
    assert filler.arch not in {t.arch for t in first} and strategy.current is None
    strategy.tell(first[1], (50.0,))
    strategy.tell(first[0], (60.0,))
    nxt = strategy.ask()
    assert strategy.current == first[0].arch and hamming(nxt.arch, first[0].arch) == 1


def test_local_search_on_an_exhausted_feasible_set(bench: TabularBenchmark) -> None:
    mask = np.zeros(bench.space.size, dtype=bool)
    mask[[0, 1, 5]] = True  # three cells, two of them neighbours
    strategy = LocalSearch(context=context_of(bench, mask), seed=0, n_initial=2)
    seen = []
    for i in range(8):
        trial = strategy.ask()
        seen.append(bench.space.index(trial.arch))
        strategy.tell(trial, (float(i),))
    assert set(seen) == {0, 1, 5} and set(seen[:3]) == {0, 1, 5}  # new cells first, then repeats


# ---- zero-cost warm-started evolution


def test_zc_evolution_starts_from_the_proxy_top_cells(bench: TabularBenchmark) -> None:
    context = context_of(bench)
    strategy = ZeroCostEvolution(context=context, seed=4, proxy="naswot", n_candidates=500)
    asks = [strategy.ask().arch for _ in range(strategy.population_size)]

    # the same candidates, drawn from the same seed, ranked here by hand
    candidates = set(context.sample_many(np.random.default_rng(4), 500))
    scores = bench.zero_cost_by_index("naswot")
    score = {c: scores[bench.space.index(c)] for c in candidates}
    ranked = sorted(candidates, key=lambda c: -score[c] if np.isfinite(score[c]) else math.inf)
    assert set(asks) == set(ranked[:10])
    assert [score[a] for a in asks] == sorted((score[a] for a in asks), reverse=True)
    assert min(score[a] for a in asks) > np.nanpercentile(scores, 95)


def test_zc_evolution_default_proxy_and_nan_scores(bench: TabularBenchmark) -> None:
    context = context_of(bench)
    strategy = ZeroCostEvolution(context=context, seed=0, n_candidates=40)
    assert strategy.proxy == "naslib_synflow"  # the table has no plain "synflow"
    scores = bench.zero_cost_by_index("naslib_synflow")  # 724 of 15,625 cells are scored
    ranked = [scores[bench.space.index(a)] for a in strategy.ranked]
    finite = [s for s in ranked if np.isfinite(s)]
    assert 0 < len(finite) < len(ranked)
    assert ranked[: len(finite)] == sorted(finite, reverse=True)  # scored first, NaN last


def test_zc_evolution_without_proxies(nb201_table: Table, bench: TabularBenchmark) -> None:
    bare = SearchContext(space=bench.space, objectives=bench.objectives, fidelities=bench.fidelities)
    with pytest.raises(SearchSettingsError, match="has none"):
        ZeroCostEvolution(context=bare, seed=0)
    valid = TabularBenchmark(nb201_table, "cifar10-valid", "valid")  # no proxy for this dataset
    with pytest.raises(SearchSettingsError, match=r"synflow.*available: \(none\)"):
        ZeroCostEvolution(context=context_of(valid), seed=0)
