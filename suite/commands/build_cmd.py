"""``nasuite table build``: train a space's cells under a budget into a table."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from suite.commands.output import emit_json
from tabular.interrupt import stop_gracefully_on_signals


def add_parser(tsub: Any) -> None:
    build = tsub.add_parser(
        "build",
        help="train cells under a fixed budget into a table (resumable; local pool or Ray)",
        description="Trains one cell per isomorphism class and fills the others. Rerunning the same command "
        "resumes; more --seeds or --archs extend the table. Safe to kill at any moment.",
    )
    build.add_argument("--space", default="nb201", help="search space (default nb201)")
    build.add_argument(
        "--dataset", required=True, help="fashion-mnist, synthetic, cifar10, cifar100, mnist, svhn"
    )
    build.add_argument(
        "--budget", default="small", help="budget preset: tiny, small, medium, nb201-12, nb201"
    )
    build.add_argument("--epochs", type=int, help="override the preset's epochs")
    build.add_argument("--train-size", type=int, help="override the preset's number of training images")
    build.add_argument("--valid-size", type=int, help="override the preset's number of validation images")
    build.add_argument(
        "--set",
        dest="budget_set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override any budget field, e.g. --set lr=0.05 --set channels=4 (repeatable)",
    )
    build.add_argument("--seeds", type=int, default=1, help="seeds 0..K-1 per cell (default 1)")
    build.add_argument(
        "--archs", default="all", help="'all' isomorphism classes, or the first N in build order"
    )
    build.add_argument("--workers", type=int, default=2, help="worker processes (0 = in this process)")
    build.add_argument(
        "--threads", type=int, default=1, help="torch threads per worker (recorded; default 1)"
    )
    build.add_argument(
        "--ray", metavar="ADDRESS", help="run on a Ray cluster at ADDRESS, or 'local' to start one"
    )
    build.add_argument("--device", help="torch device (default: cuda when present, else cpu)")
    build.add_argument(
        "--memory-format",
        help="channels_last (faster on a CPU) or contiguous; recorded, and a resumed table keeps "
        "the format it was built with unless this is given (default: channels_last for a new table)",
    )
    build.add_argument("--data-root", help="folder with the dataset files")
    build.add_argument("--order-seed", type=int, default=0, help="seed of the build order (default 0)")
    build.add_argument("--max-runs", type=int, help="stop after N runs (a sitting); rerun to continue")
    build.add_argument(
        "--flush-seconds", type=float, default=60.0, help="save the table this often (default 60)"
    )
    build.add_argument("--out", required=True, help="table file (.h5)")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.add_argument("--json", action="store_true", help="print one JSON object")
    build.set_defaults(handler=run_build)


def parse_archs(text: str) -> int | None:
    from tabular.errors import BuildError

    if text == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        raise BuildError(f"--archs must be 'all' or a positive number, got {text!r}")
    return int(text)


def run_build(args: argparse.Namespace) -> int:
    from dataclasses import asdict, replace

    from tabular.budget import get_budget, override_budget
    from tabular.builder import BuildOptions, BuildSpec, build_table
    from tabular.spaces import get_space

    get_space(args.space)
    overrides = {"epochs": args.epochs, "train_size": args.train_size, "valid_size": args.valid_size}
    budget = replace(get_budget(args.budget), **{k: v for k, v in overrides.items() if v is not None})
    budget = override_budget(budget, args.budget_set)
    spec = BuildSpec(
        space=args.space,
        dataset=args.dataset,
        budget=budget,
        seeds=args.seeds,
        archs=parse_archs(args.archs),
        order_seed=args.order_seed,
        data_root=args.data_root,
    )
    options = BuildOptions(
        workers=args.workers,
        threads=args.threads,
        ray=args.ray,
        device=args.device,
        flush_seconds=args.flush_seconds,
        progress=not args.no_progress,
        max_runs=args.max_runs,
        memory_format=args.memory_format,
    )
    command = "nasuite " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    stop_gracefully_on_signals()  # `kill PID` and Ctrl-C save what is finished
    report = build_table(spec, args.out, options, command=command)
    if args.json:
        emit_json(asdict(report))
    else:
        print(
            f"{report.path}: {report.runs_done} runs this sitting ({report.runs_failed} failed), "
            f"{report.runs_left} left, {report.wall_seconds:.0f} s"
        )
    return 0
