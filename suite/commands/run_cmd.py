"""``nasuite run``: the main job on the shipped default table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from suite.commands.output import emit_json


def add_parser(sub: Any) -> None:
    from suite.report.main_job import DEFAULT_TABLE

    run = sub.add_parser("run", help="every strategy on the default table, with a report and plots")
    run.add_argument("--out", default="nasuite-report", help="report folder (default nasuite-report)")
    run.add_argument("--runs", type=int, default=5, help="runs per strategy (default 5)")
    run.add_argument("--budget", type=float, help="simulated seconds per run (default: 100 cell trainings)")
    run.add_argument("--table", default=str(DEFAULT_TABLE), help="table (default: the shipped one)")
    run.add_argument("--workers", type=int, default=2, help="local processes (default 2)")
    run.add_argument("--strategies", help="comma-separated subset (default: every registered strategy)")
    run.add_argument(
        "--oneshot-runs", type=int, default=1, help="runs per one-shot strategy, seeds 0.. (default 1)"
    )
    run.add_argument(
        "--oneshot-strategies", help="comma-separated one-shot subset (default: every registered one)"
    )
    run.add_argument("--oneshot-device", help="device of the one-shot searches (default: cuda if present)")
    run.add_argument("--no-oneshot", action="store_true", help="skip the one-shot strategies")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.set_defaults(handler=run_main)


def run_main(args: argparse.Namespace) -> int:
    from suite.report.main_job import MainJobSettings, run_main_job

    settings = MainJobSettings(
        table=Path(args.table), out=Path(args.out), runs=args.runs, budget_seconds=args.budget,
        workers=args.workers, strategies=_names(args.strategies), oneshot=not args.no_oneshot,
        oneshot_strategies=_names(args.oneshot_strategies), oneshot_runs=args.oneshot_runs,
        oneshot_device=args.oneshot_device,
    )  # fmt: skip
    result = run_main_job(settings)
    if args.json:
        emit_json({**result.payload, "files": [str(f) for f in result.files]})
        return 0
    print((Path(args.out) / "report.md").read_text())
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    print(f"wrote {len(result.files)} files to {args.out}/ ({timing})")
    return 0


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())
