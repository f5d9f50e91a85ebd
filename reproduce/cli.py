"""``nasuite reproduce NAME|list [--data DIR] [--runs R] [--json]``.

The suite's command line finds this module through the ``nasuite.commands`` entry-point group,
so ``suite`` never imports ``reproduce`` (imports point downstream only).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    rep = sub.add_parser(
        "reproduce",
        help="a published comparison: paper figure, ours, delta, verdict",
        description="Run a published comparison through the suite and print the paper's figure "
        "beside ours with a verdict. `nasuite reproduce list` names the entries.",
    )
    rep.add_argument("name", help="an entry name, or 'list'")
    rep.add_argument(
        "--data", help="published data folder (default $NASUITE_PUBLISHED or ../shared/data/published)"
    )
    rep.add_argument("--runs", type=int, help="search runs per strategy (default: the paper's)")
    rep.add_argument("--workers", type=int, help="local processes (default: one per CPU)")
    rep.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    rep.add_argument("--cells", type=int, help="score only a random sample of this many cells (default all)")
    rep.add_argument(
        "--table", help="an imported NB201 table to use and keep computed scores in (default: import afresh)"
    )
    rep.add_argument("--json", action="store_true", help="print one JSON object")
    rep.set_defaults(handler=run_reproduce)


def run_reproduce(args: argparse.Namespace) -> int:
    from reproduce.context import ReproduceSettings, default_data_dir
    from reproduce.registry import list_entries
    from reproduce.render import print_result
    from reproduce.runner import run_entry
    from suite.commands.output import emit_json

    if args.name == "list":
        entries = list_entries()
        if args.json:
            emit_json({"entries": [{"name": e.name, "title": e.title, "paper": e.paper} for e in entries]})
        else:
            for e in entries:
                print(f"{e.name:<20} {e.title}\n{'':<20} {e.paper}")
        return 0
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    settings = ReproduceSettings(
        data=Path(args.data) if args.data else default_data_dir(),
        runs=args.runs,
        workers=workers,
        seed=args.seed,
        cells=args.cells,
        progress=not args.json,
        table=Path(args.table) if args.table else None,
    )
    result = run_entry(args.name, settings)
    if args.json:
        emit_json(result.as_dict())
    else:
        print_result(result)
    return 0
