"""Latency-constrained search on NAS-Bench-201 with HELP's devices (Lee et al., NeurIPS 2021, Table 4).

HELP (with MetaD2A) proposes CIFAR-100 cells under a latency constraint on each device and reports
the latency and accuracy it reached. We run constrained regularized evolution and random search
on the same latencies (HELP's published per-device tables), NATS-Bench's CIFAR-100 budget and
12-epoch search signal, and judge the final cells by 200-epoch test accuracy. Two checks per
setting: the table's best accuracy within HELP's *achieved* latency must be at least HELP's
accuracy (the data agree), and evolution's mean under the constraint should be no worse than
HELP's accuracy by more than one point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reproduce.base import Check, Findings
from reproduce.context import Context
from reproduce.registry import register

SOURCE = "BASELINES.md §5: HELP README Table 4 (MetaD2A + HELP), constraint -> latency ms / accuracy %"
DATASET = "cifar100"
BUDGET_SECONDS = 40_000  # NATS-Bench's CIFAR-100 budget (BASELINES.md §2)
#: device -> ((constraint ms, achieved ms, accuracy %), ...)
HELP_TABLE4 = {
    "titan_rtx_256": ((18, 17.8, 69.7), (21, 18.9, 71.5), (25, 24.2, 71.8)),
    "gold_6226": ((8, 8.0, 67.3), (11, 10.7, 70.2), (14, 14.3, 72.1)),
    "pixel2": ((14, 13.0, 69.7), (18, 19.0, 71.8), (22, 25.0, 73.2)),
    "eyeriss": ((5, 3.9, 71.5), (7, 5.1, 71.8), (9, 9.1, 73.5)),
    "fpga": ((4, 3.8, 70.2), (5, 4.7, 71.8), (6, 7.4, 73.5)),
}
STRATEGIES = ("evolution", "random")
#: HELP prints latency and accuracy to one decimal: half a unit of the last digit
ROUNDING = 0.05
#: evolution may trail a meta-learned generator by this much and still agree
SEARCH_TOLERANCE = 1.0


def best_within(accuracy: np.ndarray, latency: np.ndarray, limit: float) -> float:
    ok = np.isfinite(accuracy) & np.isfinite(latency) & (latency <= limit)
    return float(accuracy[ok].max()) if ok.any() else float("nan")


def constrained_search(context: Context, device: str, limit: float) -> Any:
    from suite.constraints import parse_constraints
    from suite.runner import SearchSpec
    from suite.runner.compare import run_comparison
    from suite.runner.parallel import BenchmarkSpec

    bench = BenchmarkSpec(str(context.nb201_table()), DATASET, "test")
    specs = [
        SearchSpec(name, budget_seconds=BUDGET_SECONDS, fidelity=12, report="test@200",
                   constraints=parse_constraints([f"latency_ms:{device}<={limit}"]))
        for name in STRATEGIES
    ]  # fmt: skip
    return run_comparison(bench, specs, context.seeds, workers=context.settings.workers)


def incumbent_latency(result: Any, latency: np.ndarray, strategy: str) -> float:
    finals = [r.evaluations[-1].index for r in result.runs if r.strategy == strategy and r.evaluations]
    return float(np.mean(latency[finals])) if finals else float("nan")


@register(
    "latency-constrained",
    title="Latency-constrained search with HELP's devices (NB201, CIFAR-100)",
    paper="Lee et al. 2021 (HELP), Table 4",
    data=("nb201-nats-tss-testacc", "nb201-help-latency", "baselines-text"),
    default_runs=20,
)
def latency_constrained(context: Context) -> Findings:
    from tabular.table import Table

    table = Table.open(context.nb201_table())
    accuracy = table.metric(DATASET, "test@200")
    checks: list[Check] = []
    rows: list[dict[str, Any]] = []
    for device, published in HELP_TABLE4.items():
        latency = table.hardware(f"latency_ms:{device}")
        for limit, achieved, paper_acc in published:
            oracle = best_within(accuracy, latency, achieved + ROUNDING)
            checks.append(Check(f"{device} table best within HELP's {achieved} ms", oracle, paper_acc, SOURCE,
                                ROUNDING, mode="at_least", unit="%"))  # fmt: skip
            result = constrained_search(context, device, limit)
            rea = result.summary("evolution")
            checks.append(Check(f"{device} <= {limit} ms: evolution mean test@200", rea.final_mean, paper_acc,
                                SOURCE, SEARCH_TOLERANCE, mode="at_least", unit="%"))  # fmt: skip
            for s in result.summaries:
                rows.append(
                    {"device": device, "limit_ms": limit, "strategy": s.strategy, "runs": s.runs,
                     "mean": s.final_mean, "std": s.final_std,
                     "latency_ms": incumbent_latency(result, latency, s.strategy),
                     "optimum_within_limit": result.optimum, "help_ms": achieved, "help_acc": paper_acc}
                )  # fmt: skip
    notes = (
        "HELP's README does not name the dataset of Table 4; its accuracies (up to 73.5 %, the "
        "CIFAR-100 optimum is 73.51 %) fit NB201 CIFAR-100 test accuracy, used here.",
        "HELP's achieved latency sometimes exceeds its constraint (pixel2 18 -> 19.0 and 22 -> 25.0, "
        "eyeriss 9 -> 9.1, fpga 6 -> 7.4 ms): its latency predictor erred. Our searches never exceed the "
        "constraint: every cell's latency is in the table.",
        "Where evolution's mean trails HELP by more than a point, compare 'optimum_within_limit': when it "
        "is at least HELP's accuracy, the table holds an as-good cell within the limit and the gap is "
        "evolution's average under NATS's budget (~170 evaluations of a 12-epoch signal) against HELP's "
        "one reported cell; when it is below (HELP's cell broke the limit), HELP's figure is not reachable "
        "within the constraint at all.",
        f"Our searches: NATS-Bench's CIFAR-100 budget ({BUDGET_SECONDS} simulated s), 12-epoch test "
        "accuracy as the signal; HELP spends almost no search on the target (meta-learned).",
    )
    settings = {"runs": context.runs, "strategies": list(STRATEGIES), "budget_seconds": BUDGET_SECONDS}
    return Findings(tuple(checks), {"constrained searches": rows}, notes, settings)
