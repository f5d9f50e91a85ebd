"""``nasuite oneshot``: one-shot search (DARTS, GDAS, SPOS, hardware-aware DARTS) on a built table.

``--strategy X`` (one seed) runs one search. Several strategies (``--strategy a,b`` or ``all``),
``--seeds 0,1,2`` or ``--compare random,evolution`` run a comparison
(:mod:`suite.oneshot.compare`): every strategy for every seed, then the baselines on the same
table at the same cost.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from suite.commands.output import emit_json
from suite.jsonable import to_jsonable


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "oneshot", help="train a weight-sharing supernet on a built table's data, derive a cell"
    )
    p.add_argument("--benchmark", required=True, help="a table built by `nasuite table build` (.h5)")
    p.add_argument(
        "--strategy",
        required=True,
        help="darts-v1, darts-v2, gdas, spos or darts-latency; a comma list or 'all' compares them",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", help="comma list of seeds (e.g. 0,1,2): run each strategy for each")
    p.add_argument(
        "--compare",
        help="multi-trial baselines at the one-shot cost (default with --seeds: random,evolution; 'none')",
    )
    p.add_argument("--baseline-runs", type=int, default=10, help="seeds per baseline (default 10)")
    p.add_argument(
        "--budget-mode",
        choices=("median", "per-strategy"),
        default="median",
        help="baselines' budget: median one-shot seconds over all runs, or each strategy's median",
    )
    p.add_argument("--epochs", type=int, help="supernet epochs (default: the strategy's)")
    p.add_argument("--device", help="cpu, cuda, ... (default: cuda when present, else cpu)")
    p.add_argument("--budget", type=float, help="stop after the epoch that crosses this many seconds")
    p.add_argument("--data-root", help="folder holding the table's dataset")
    p.add_argument("--option", action="append", default=[], help="strategy setting KEY=VALUE (repeatable)")
    p.add_argument(
        "--out",
        help="folder for each run's result JSON and diagnostics (history, alphas, plot); "
        "a comparison adds comparison.json",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_oneshot_cmd)


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def run_oneshot_cmd(args: argparse.Namespace) -> int:
    from suite.commands.search_cmd import _parse_options
    from suite.oneshot.run import run_oneshot

    settings = _parse_options(args.option)
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.seeds is not None or args.compare is not None or args.strategy == "all" or "," in args.strategy:
        return run_compare_cmd(args, settings)
    print(f"oneshot: {args.strategy} seed {args.seed} on {args.benchmark} ...", file=sys.stderr)
    result = run_oneshot(
        args.benchmark,
        args.strategy,
        args.seed,
        device=args.device,
        budget_seconds=args.budget,
        out=args.out,
        data_root=args.data_root,
        **settings,
    )
    payload = result.to_dict()
    if args.json:
        emit_json(payload)
        return 0
    print(f"strategy      {result.strategy} (seed {result.seed}) - {result.paper}")
    print(f"derived cell  {result.arch} (index {result.index}, skip share {result.skip_share:.2f})")
    print(
        f"{result.report:<13} {result.accuracy:.2f} ({result.accuracy_source}); optimum {result.optimum:.2f}"
    )
    print(f"search        {result.search_seconds:.1f} s on {result.device} = {result.gpu_days:.2e} GPU-days")
    print(f"              {result.gpu_days_assumption}")
    for key in ("predicted_ms", "measured_ms", "latency_target_ms", "meets_target"):
        if key in result.extra:
            print(f"{key:<13} {result.extra[key]}")
    return 0


def run_compare_cmd(args: argparse.Namespace, options: dict[str, Any]) -> int:
    """Strategies x seeds, then the baselines at the same cost; a readable table or one JSON object."""
    from suite.errors import SearchSettingsError
    from suite.oneshot import oneshot_names
    from suite.oneshot.compare import DEFAULT_BASELINES, CompareSettings, compare_oneshot
    from suite.oneshot.run import save_result

    strategies = tuple(oneshot_names()) if args.strategy == "all" else _names(args.strategy)
    try:
        seeds = tuple(int(s) for s in _names(args.seeds)) if args.seeds is not None else (args.seed,)
    except ValueError:
        raise SearchSettingsError(f"--seeds must be a comma list of integers, got {args.seeds!r}") from None
    compare = args.compare if args.compare is not None else ",".join(DEFAULT_BASELINES)
    settings = CompareSettings(
        strategies=strategies,
        seeds=seeds,
        baselines=() if compare == "none" else _names(compare),
        baseline_runs=args.baseline_runs,
        budget=args.budget_mode,
        options=options,
        device=args.device,
        budget_seconds=args.budget,
        data_root=args.data_root,
    )

    def progress(r: Any) -> None:
        if args.out is not None:  # each run's diagnostics as soon as it ends: a long comparison keeps them
            save_result(r, args.out)
        print(
            f"oneshot: {r.strategy} seed {r.seed}: {r.arch} {r.accuracy:.2f} ({r.accuracy_source}) "
            f"in {r.search_seconds:.1f} s",
            file=sys.stderr,
        )

    print(f"oneshot: {list(strategies)} x seeds {list(seeds)} on {args.benchmark} ...", file=sys.stderr)
    result = compare_oneshot(args.benchmark, settings, on_result=progress)
    if args.out is not None:
        path = Path(args.out) / "comparison.json"
        path.write_text(json.dumps(to_jsonable(result.as_dict()), indent=1, allow_nan=False))
    if args.json:
        emit_json(result.as_dict())
        return 0
    print_comparison(result)
    return 0


def print_comparison(result: Any) -> None:
    """The per-strategy rows, each derived cell, and the baselines at the same cost."""
    print(f"table {result.table} ({result.dataset}); {result.report} optimum {result.optimum:.2f}")
    print(f"  {result.optimum_arch}")
    print(f"{'strategy':<14} {'seeds':>5} {'accuracy':>15} {'regret':>7} {'skip':>5} ", end="")
    print(f"{'seconds':>8} {'GPU-days':>9}")
    for r in result.rows:
        print(
            f"{r.strategy:<14} {len(r.seeds):>5} {r.accuracy_mean:>7.2f} +- {r.accuracy_std:<5.2f} "
            f"{r.regret_mean:>7.2f} {r.skip_share_mean:>5.2f} {r.search_seconds_median:>8.1f} "
            f"{r.gpu_days_median:>9.2e}"
        )
    print("derived cells (seed: cell accuracy source)")
    for r in result.rows:
        for seed, cell, acc, src in zip(r.seeds, r.cells, r.accuracies, r.sources, strict=True):
            print(f"  {r.strategy:<14} {seed}: {cell} {acc:.2f} {src}")
    if result.baselines:
        print(f"baselines at the same cost ({result.budget_note})")
        print(f"{'strategy':<14} {'at cost of':<28} {'budget s':>9} {'runs':>4} ", end="")
        print(f"{'accuracy':>15} {'regret':>7} {'evals':>5}")
        for b in result.baselines:
            print(
                f"{b.strategy:<14} {b.at_cost_of:<28} {b.budget_seconds:>9.1f} {b.runs:>4} "
                f"{b.accuracy_mean:>7.2f} +- {b.accuracy_std:<5.2f} {b.regret_mean:>7.2f} "
                f"{b.evaluations_median:>5.0f}"
            )
    for f in result.failures:
        print(f"failed: {f['strategy']} seed {f['seed']}: {f['error'].strip().splitlines()[-1]}")
