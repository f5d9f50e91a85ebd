"""``nasuite surrogate-search``: fit on a sample table, search the surrogate, verify by training.

See :mod:`suite.surrogate_search` for the loop and how exploitation of the surrogate is judged.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from suite.commands.output import emit_json


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "surrogate-search",
        help="search a space too large to tabulate on a surrogate fitted to a sample table, then verify",
    )
    p.add_argument("--table", required=True, help="a sample table built by `nasuite table build --archs N`")
    p.add_argument("--space", help="check that the table is of this space (e.g. macro)")
    p.add_argument(
        "--strategies", default="random,evolution,local-search,optuna-tpe", help="comma list of strategies"
    )
    p.add_argument("--seeds", default="0,1,2", help="comma list of search seeds (default 0,1,2)")
    p.add_argument(
        "--evaluations",
        type=int,
        default=200,
        help="each search's budget in median trainings of the sample (default 200)",
    )
    p.add_argument("--model", default="ensemble", help="surrogate predictor (default ensemble)")
    p.add_argument("--base", default="xgb", help="the ensemble's member predictor (default xgb)")
    p.add_argument("--members", type=int, default=5, help="ensemble members (default 5)")
    p.add_argument("--holdout", type=float, default=0.2, help="share of the sample held out (default 0.2)")
    p.add_argument(
        "--verify-top", type=int, default=5, help="finds per strategy trained for real (default 5)"
    )
    p.add_argument("--verify-seeds", default="0", help="training seeds of each verified find (default 0)")
    p.add_argument("--verify-table", help="table the verified runs go to (default OUT/verified.h5)")
    p.add_argument(
        "--constraint",
        action="append",
        default=[],
        help="hardware constraint such as latency_ms:cpu_b1<=2 (needs --lut; repeatable)",
    )
    p.add_argument("--lut", help="latency lookup table (JSON, from `nasuite lut build`)")
    p.add_argument("--seed", type=int, default=0, help="seed of the hold-out split and the surrogate")
    p.add_argument("--data-root", help="folder holding the table's dataset")
    p.add_argument("--out", required=True, help="folder for surrogate-search.json, report.md, verified.h5")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_surrogate_search_cmd)


def _ints(text: str, what: str) -> tuple[int, ...]:
    from suite.errors import SearchSettingsError

    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise SearchSettingsError(f"{what} must be a comma list of integers, got {text!r}") from None


def run_surrogate_search_cmd(args: argparse.Namespace) -> int:
    from suite.errors import SearchSettingsError
    from suite.surrogate_search import SurrogateSearchSettings, run_surrogate_search
    from tabular.table import Table

    if args.space:
        have = Table.open(args.table).space.name
        if have != args.space:
            raise SearchSettingsError(f"--space {args.space!r} but {args.table} is a table of {have!r}")
    kwargs: dict[str, Any] = {}
    if args.model == "ensemble":
        kwargs = {"base": args.base, "n_members": args.members, "bootstrap": True}
    settings = SurrogateSearchSettings(
        table=args.table,
        out=args.out,
        strategies=tuple(s.strip() for s in args.strategies.split(",") if s.strip()),
        seeds=_ints(args.seeds, "--seeds"),
        evaluations=args.evaluations,
        model=args.model,
        model_kwargs=kwargs,
        holdout=args.holdout,
        verify_top=args.verify_top,
        verify_seeds=_ints(args.verify_seeds, "--verify-seeds"),
        verify_table=args.verify_table,
        constraints=tuple(args.constraint),
        lut=args.lut,
        seed=args.seed,
        data_root=args.data_root,
        progress=not args.no_progress,
    )
    result = run_surrogate_search(settings)
    if args.json:
        emit_json(result)
    else:
        from pathlib import Path

        print((Path(args.out) / "report.md").read_text(), end="")
        print(f"wrote {Path(args.out) / 'surrogate-search.json'}", file=sys.stderr)
    return 0
