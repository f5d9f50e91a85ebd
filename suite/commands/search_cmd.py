"""``nasuite strategies``, ``nasuite search`` and ``nasuite compare``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from suite.commands.output import emit_json


def add_parser(sub: Any) -> None:
    listing = sub.add_parser("strategies", help="registered search strategies and where they come from")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(handler=run_strategies)

    search = sub.add_parser("search", help="run one strategy R times under the simulated clock")
    _add_common(search)
    search.add_argument(
        "--strategy", required=True, help="a name from `nasuite strategies`, or optuna:<Sampler>"
    )
    search.set_defaults(handler=run_search_cmd)

    compare = sub.add_parser("compare", help="run several strategies under one protocol and write results")
    _add_common(compare)
    compare.add_argument("--strategies", required=True, help="comma-separated strategy names")
    compare.set_defaults(handler=run_compare_cmd)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--benchmark", required=True, help="table file (.h5)")
    p.add_argument("--dataset", required=True, help="dataset in the table")
    p.add_argument("--search-metric", default="valid", help="quantity the strategies see (default valid)")
    p.add_argument("--time-dataset", help="charge this dataset's train times (NB201: cifar10-valid)")
    p.add_argument("--budget", type=float, required=True, help="simulated seconds per run")
    p.add_argument("--fidelity", type=int, help="most epochs a search may train for (default: the most)")
    p.add_argument("--runs", type=int, default=10, help="runs per strategy (seeds 0..R-1)")
    p.add_argument("--seed", type=int, default=0, help="first seed")
    p.add_argument("--sim-workers", type=int, default=1, help="simulated asynchronous workers")
    p.add_argument("--workers", type=int, default=0, help="local processes (0 = in this process)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster, or 'local'")
    p.add_argument("--constraint", action="append", default=[], help="e.g. latency_ms<=5 (repeatable)")
    p.add_argument("--objective", action="append", default=[], help="hardware metric to minimise too")
    p.add_argument("--report", help="metric the incumbent is judged by (default test@<max epoch>)")
    p.add_argument("--report-dataset", help="dataset of --report when it differs (NB201: cifar10)")
    p.add_argument("--option", action="append", default=[], help="strategy option KEY=VALUE (repeatable)")
    p.add_argument("--charge-strategy-time", action="store_true", help="charge strategy compute to the clock")
    p.add_argument("--out", help="folder for evaluations.csv and runs.json")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _parse_options(items: list[str]) -> dict[str, Any]:
    import json

    from suite.errors import SearchSettingsError

    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SearchSettingsError(f"--option must be KEY=VALUE, got {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def run_strategies(args: argparse.Namespace) -> int:
    from suite.strategies import list_strategies

    infos = list_strategies()
    if args.json:
        emit_json({"strategies": [i.__dict__ for i in infos], "optuna": "optuna:<Sampler> (any sampler)"})
        return 0
    width = max(len(i.name) for i in infos)
    for info in infos:
        print(f"{info.name:<{width}}  [{info.source}]  {info.summary}")
    print(f"{'optuna:<Sampler>':<{width}}  [optuna]  any Optuna sampler by name, e.g. optuna:GPSampler")
    return 0


def _execute(args: argparse.Namespace, names: list[str]) -> int:
    from suite.errors import SearchSettingsError
    from suite.runner import SearchSpec
    from suite.runner.compare import run_comparison
    from suite.runner.parallel import BenchmarkSpec
    from suite.runner.results import write_results
    from suite.strategies import get_strategy

    if args.runs < 1:
        raise SearchSettingsError(f"--runs must be >= 1, got {args.runs}")
    for name in names:
        get_strategy(name)  # unknown names fail before any work
    bench = BenchmarkSpec(args.benchmark, args.dataset, args.search_metric, args.time_dataset)
    specs = [
        SearchSpec(
            name,
            budget_seconds=args.budget,
            workers=args.sim_workers,
            fidelity=args.fidelity,
            constraints=tuple(args.constraint),
            objectives=tuple(args.objective),
            options=_parse_options(args.option),
            report=args.report,
            report_dataset=args.report_dataset,
            charge_strategy_time=args.charge_strategy_time,
        )
        for name in names
    ]
    seeds = list(range(args.seed, args.seed + args.runs))

    def progress(batch: Any, results: list[Any]) -> None:
        if not args.json:
            print(f"  {batch.spec.strategy}: {len(results)} runs done", file=sys.stderr)

    result = run_comparison(bench, specs, seeds, workers=args.workers, ray=args.ray, on_batch=progress)
    runs = [(bench.label, r) for r in result.runs]
    optimum, conversion, summaries = result.optimum, result.conversion, result.summaries
    wall = result.wall_seconds
    protocol = {
        "benchmark": bench.__dict__,
        "specs": [s.describe() for s in specs],
        "seeds": seeds,
        "optimum": optimum,
    }
    files = write_results(args.out, runs, protocol) if args.out else None
    failures = [{"strategy": r.strategy, "seed": r.seed, "error": r.error} for _, r in runs if r.failed]
    payload = {
        "protocol": protocol,
        "wall_seconds": wall,
        "summary": [s.as_dict() for s in summaries],
        "cost_conversion": conversion.__dict__,
        "pareto": {r.strategy: r.pareto for _, r in runs if r.pareto and r.seed == seeds[0]},
        "failures": failures,
        "files": [str(f) for f in files] if files else [],
    }
    if args.json:
        emit_json(payload)
    else:
        _print_summary(summaries, optimum, wall, failures)
        print(f"GPU-days: {conversion.assumption}; baselines: NASNet 2000, AmoebaNet 3150 GPU-days")
    return 0


def _print_summary(summaries: Sequence[Any], optimum: float, wall: float, failures: list[Any]) -> None:
    header = (
        "strategy",
        "runs",
        "final (mean ± std)",
        "regret",
        "evals",
        "sim. hours",
        "GPU-days",
        "x NASNet",
    )
    print("{:<18} {:>4} {:>20} {:>7} {:>6} {:>10} {:>9} {:>9}".format(*header))
    for s in summaries:
        print(
            f"{s.strategy:<18} {s.runs:>4} {s.final_mean:>11.3f} ± {s.final_std:<6.3f} {s.regret_mean:>7.3f} "
            f"{s.evaluations_median:>6.0f} {s.simulated_seconds_median / 3600:>10.2f} "
            f"{s.gpu_days_median:>9.4f} {2000 / s.gpu_days_median if s.gpu_days_median else 0:>9.0f}"
        )
    print(f"optimum among allowed cells: {optimum:.4f}; wall time {wall:.1f} s")
    for f in failures:
        print(f"FAILED {f['strategy']} seed {f['seed']}:\n{f['error']}", file=sys.stderr)


def run_search_cmd(args: argparse.Namespace) -> int:
    return _execute(args, [args.strategy])


def run_compare_cmd(args: argparse.Namespace) -> int:
    from suite.errors import SearchSettingsError

    if not args.out:
        raise SearchSettingsError("compare needs --out DIR for its results")
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    if not names:
        raise SearchSettingsError(f"--strategies lists no strategy: {args.strategies!r}")
    return _execute(args, names)
