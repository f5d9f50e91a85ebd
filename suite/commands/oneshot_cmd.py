"""``nasuite oneshot``: one one-shot search (DARTS, GDAS, SPOS, hardware-aware DARTS) on a built table."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from suite.commands.output import emit_json


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "oneshot", help="train a weight-sharing supernet on a built table's data, derive a cell"
    )
    p.add_argument("--benchmark", required=True, help="a table built by `nasuite table build` (.h5)")
    p.add_argument("--strategy", required=True, help="darts-v1, darts-v2, gdas, spos or darts-latency")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="supernet epochs (default: the strategy's)")
    p.add_argument("--device", help="cpu, cuda, ... (default: cuda when present, else cpu)")
    p.add_argument("--budget", type=float, help="stop after the epoch that crosses this many seconds")
    p.add_argument("--data-root", help="folder holding the table's dataset")
    p.add_argument("--option", action="append", default=[], help="strategy setting KEY=VALUE (repeatable)")
    p.add_argument("--out", help="folder for the result JSON and the diagnostics (history, alphas, plot)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_oneshot_cmd)


def run_oneshot_cmd(args: argparse.Namespace) -> int:
    from suite.commands.search_cmd import _parse_options
    from suite.oneshot.run import run_oneshot

    settings = _parse_options(args.option)
    if args.epochs is not None:
        settings["epochs"] = args.epochs
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
