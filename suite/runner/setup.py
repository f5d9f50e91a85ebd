"""From a benchmark and a :class:`SearchSpec` to what a run needs: context, costs, report values."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from suite.benchmarks.base import Benchmark, Objective, Observation, check_fidelity
from suite.constraints import constraint_predicate, feasibility_mask
from suite.errors import ConstraintError
from suite.runner.spec import SearchSpec
from suite.strategies.context import Arch, SearchContext


@dataclass(frozen=True)
class RunSetup:
    """Everything fixed across the runs of one spec on one benchmark (built once, shared)."""

    context: SearchContext
    objective_names: tuple[str, ...]
    final_metric: Callable[[Arch], float]
    cost_model: Callable[[Observation], float] | None


def _whole_space(benchmark: Benchmark, method: str) -> Callable[[str], np.ndarray] | None:
    return getattr(benchmark, method, None)


def build_setup(
    benchmark: Benchmark, spec: SearchSpec, cost_model: Callable[[Observation], float] | None = None
) -> RunSetup:
    """The search context (feasibility from constraints and the table's coverage) and lookups."""
    space = benchmark.space
    hardware_names = list(getattr(benchmark, "hardware_names", lambda: [])())
    hardware = _whole_space(benchmark, "hardware_by_index")
    for name in spec.objectives:
        if name not in hardware_names:
            raise ConstraintError(
                f"objective {name!r} is not a hardware metric of this benchmark; known: "
                f"{', '.join(hardware_names) or '(none)'}"
            )
    mask = None
    accept = None
    if spec.constraints:
        per_arch = getattr(benchmark, "hardware_of", None)
        if hardware is not None and space.enumerable:
            mask = feasibility_mask(spec.constraints, hardware, hardware_names)
        elif per_arch is not None and hardware_names:
            accept = constraint_predicate(spec.constraints, per_arch, hardware_names)
        else:
            raise ConstraintError(
                f"{type(benchmark).__name__} has no per-cell hardware metrics to constrain on"
            )
    available = getattr(benchmark, "available_by_index", None)
    if available is not None:
        have = available()
        mask = have if mask is None else mask & have
        if not mask.any():
            raise ConstraintError("no cell the table holds satisfies the constraints")
    fidelities = tuple(benchmark.fidelities)
    if spec.fidelity is not None:
        top = check_fidelity(fidelities, spec.fidelity)
        fidelities = tuple(f for f in fidelities if f <= top)
    objectives = (benchmark.objectives[0], *(Objective(n, minimise=True) for n in spec.objectives))
    context = SearchContext(
        space=space,
        objectives=objectives,
        fidelities=fidelities,
        feasible=mask,
        accept=accept,
        zero_cost=_whole_space(benchmark, "zero_cost_by_index"),
        nested_fidelities=bool(getattr(benchmark, "nested_fidelities", False)),
    )
    return RunSetup(
        context=context,
        objective_names=tuple(o.name for o in objectives),
        final_metric=_final_metric(benchmark, spec),
        cost_model=cost_model,
    )


def _final_metric(benchmark: Benchmark, spec: SearchSpec) -> Callable[[Arch], float]:
    """How the incumbent is judged: a whole-space array lookup for tables, else a query."""
    by_index = getattr(benchmark, "metric_by_index", None)
    if by_index is not None:
        name = spec.report or f"test@{max(benchmark.fidelities)}"
        values = by_index(name, spec.report_dataset)
        index = benchmark.space.index
        return lambda arch: float(values[index(arch)])
    quantity = (spec.report or "test").split("@")[0]

    def query_final(arch: Arch) -> float:
        obs = benchmark.query(arch)
        return float(obs.metrics.get(quantity, math.nan))

    return query_final
