"""One search run: ask the strategy, query the benchmark, charge the clock, tell the result."""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable

from suite.benchmarks.base import Benchmark, Observation
from suite.clock import CostLedger, SimulatedClock
from suite.errors import SearchExhaustedError, StrategyProtocolError
from suite.runner.pareto import pareto_front
from suite.runner.setup import RunSetup, build_setup
from suite.runner.spec import Evaluation, RunResult, SearchSpec
from suite.strategies.base import Strategy, Trial
from suite.strategies.registry import make_strategy


def run_search(
    benchmark: Benchmark,
    spec: SearchSpec,
    seed: int,
    setup: RunSetup | None = None,
    cost_model: Callable[[Observation], float] | None = None,
    catch: bool = True,
) -> RunResult:
    """Run ``spec`` once with ``seed``; with ``catch`` an exception is recorded, not raised."""
    setup = setup or build_setup(benchmark, spec, cost_model)
    result = RunResult(strategy=spec.strategy, seed=seed)
    started = time.perf_counter()
    try:
        strategy = make_strategy(spec.strategy, context=setup.context, seed=seed, options=dict(spec.options))
        _loop(benchmark, spec, setup, strategy, result)
    except Exception:
        if not catch:
            raise
        result.error = traceback.format_exc()
    result.elapsed_seconds = time.perf_counter() - started
    result.pareto = pareto_front(result.evaluations, setup.context.objectives)
    return result


def _values(obs: Observation, names: tuple[str, ...]) -> tuple[float, ...]:
    search = obs.metrics.get(names[0], math.nan)
    return (float(search), *(float(obs.hardware.get(n, math.nan)) for n in names[1:]))


def _loop(
    benchmark: Benchmark, spec: SearchSpec, setup: RunSetup, strategy: Strategy, result: RunResult
) -> None:
    context = setup.context
    clock = SimulatedClock(spec.clock_settings())
    ledger = CostLedger(
        fallback=setup.cost_model,
        nested=context.nested_fidelities,
        min_seconds=spec.clock_settings().min_evaluation_seconds,
    )
    incumbent: tuple[float, str, float, float] | None = None  # (utility, arch, search value, final)
    started = 0
    exhausted = False
    while True:
        while (
            clock.has_idle_worker()
            and not exhausted
            and (spec.max_evaluations is None or started < spec.max_evaluations)
        ):
            tic = time.perf_counter()
            try:
                trial = strategy.ask()
            except SearchExhaustedError:  # every feasible cell evaluated: the run is complete
                exhausted = True
                break
            spent = time.perf_counter() - tic
            ledger.add_strategy_time(spent)
            clock.delay_next(spent)
            _check_trial(context, trial)
            obs = benchmark.query(trial.arch, trial.fidelity or context.max_fidelity)
            cost = ledger.charge(obs)
            if not clock.submit(cost, (trial, obs, cost)):
                break
            started += 1
        finished = clock.next_finished()
        if finished is None:
            break
        now, (trial, obs, cost) = finished
        values = _values(obs, setup.objective_names)
        tic = time.perf_counter()
        strategy.tell(trial, values)
        spent = time.perf_counter() - tic
        ledger.add_strategy_time(spent)
        clock.delay_next(spent)
        utility = context.utility(values)
        arch_str = context.space.to_str(trial.arch)
        top = obs.fidelity == context.max_fidelity and not math.isnan(utility)
        if top and (incumbent is None or utility > incumbent[0]):
            incumbent = (utility, arch_str, values[0], setup.final_metric(trial.arch))
        result.evaluations.append(
            Evaluation(
                number=len(result.evaluations),
                time=now,
                arch=arch_str,
                index=context.space.index(trial.arch) if context.space.enumerable else -1,
                fidelity=obs.fidelity,
                values=values,
                cost=cost,
                incumbent=incumbent[1] if incumbent else "",
                incumbent_value=incumbent[2] if incumbent else math.nan,
                incumbent_final=incumbent[3] if incumbent else math.nan,
            )
        )
    result.ledger = ledger.summary()


def _check_trial(context, trial: Trial) -> None:  # type: ignore[no-untyped-def]
    if not isinstance(trial, Trial):
        raise StrategyProtocolError(f"ask() must return a Trial, got {trial!r}")
    if not context.is_feasible(trial.arch):
        raise StrategyProtocolError(
            f"strategy proposed {context.space.to_str(trial.arch)}, which violates the constraints "
            "or is not in the table"
        )
    if trial.fidelity is not None and trial.fidelity not in context.fidelities:
        raise StrategyProtocolError(
            f"strategy asked for {trial.fidelity} epochs; the benchmark has {list(context.fidelities)}"
        )
