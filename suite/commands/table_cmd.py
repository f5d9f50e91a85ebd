"""``nasuite table import|info|query|compare``: make a table from published data and look inside it."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from suite.commands.output import emit_json


def add_parser(sub: Any) -> None:
    table = sub.add_parser("table", help="import, inspect and query tables")
    tsub = table.add_subparsers(dest="table_command", required=True, metavar="ACTION")

    imp = tsub.add_parser("import", help="import published benchmark data into a table")
    imp.add_argument("benchmark", choices=["nb201"], help="which published benchmark")
    imp.add_argument(
        "--from",
        dest="source",
        required=True,
        help="folder with the published files (e.g. ../shared/data/published) or an official "
        "NATS-tss-v1_0-3ffb9-simple release folder",
    )
    imp.add_argument("--out", required=True, help="output table file (.h5); written atomically")
    imp.add_argument("--json", action="store_true", help="print one JSON object")
    imp.set_defaults(handler=run_import)

    info = tsub.add_parser("info", help="counts, datasets, metrics, optimum per dataset, provenance")
    info.add_argument("file")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(handler=run_info)

    query = tsub.add_parser("query", help="one architecture's record")
    query.add_argument("file")
    query.add_argument("arch", help="an architecture string, or a number (see --by)")
    query.add_argument(
        "--by",
        default="index",
        help="what a number means: 'index' (ours, default), 'row', or an id column such as 'nb201'",
    )
    query.add_argument("--dataset", help="only this dataset")
    query.add_argument("--json", action="store_true", help="print one JSON object")
    query.set_defaults(handler=run_query)

    compare = tsub.add_parser(
        "compare",
        help="seed-to-seed Kendall tau of two tables on the classes both hold with two seeds, "
        "with a paired bootstrap interval of the difference (to choose a build setting)",
    )
    compare.add_argument("baseline", help="table file (.h5)")
    compare.add_argument("candidate", help="table file (.h5) of the same space")
    compare.add_argument("--dataset", help="default: the one dataset both tables hold")
    compare.add_argument(
        "--metric", help="read both tables at this metric (default: each one's test accuracy, last epoch)"
    )
    compare.add_argument("--candidate-metric", help="read the candidate at this metric instead of --metric")
    compare.add_argument("--seeds", default="0,1", help="the two seeds to compare (default 0,1)")
    compare.add_argument("--resamples", type=int, default=400, help="bootstrap draws (default 400)")
    compare.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.set_defaults(handler=run_compare)

    from suite.commands import build_cmd

    build_cmd.add_parser(tsub)


def run_import(args: argparse.Namespace) -> int:
    from tabular.importers.nb201 import import_nb201
    from tabular.table.info import table_info

    command = "nasuite " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    table = import_nb201(args.source, args.out, command=command)
    info = table_info(table, args.out)
    if args.json:
        emit_json(info)
    else:
        print(
            f"wrote {args.out}: {info['rows']} cells, {info['isomorphism_classes']} isomorphism classes, "
            f"datasets {', '.join(info['datasets'])}"
        )
    return 0


def run_info(args: argparse.Namespace) -> int:
    from tabular.table import Table
    from tabular.table.info import format_info, table_info

    info = table_info(Table.open(args.file), args.file)
    if args.json:
        emit_json(info)
    else:
        print(format_info(info))
    return 0


def run_query(args: argparse.Namespace) -> int:
    from tabular.table import Table
    from tabular.table.info import arch_record, format_record

    table = Table.open(args.file)
    if "|" in args.arch or not args.arch.lstrip("-").isdigit():
        row = table.row(args.arch, by="string")
    else:
        row = table.row(int(args.arch), by=args.by)
    record = arch_record(table, row, dataset=args.dataset)
    if args.json:
        emit_json(record)
    else:
        print(format_record(record))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    import numpy as np

    from tabular.errors import TableError
    from tabular.table import Table
    from tabular.table.compare import compare_seed_agreement
    from tabular.table.info import final_test_metric

    baseline, candidate = Table.open(args.baseline), Table.open(args.candidate)
    dataset = args.dataset or _one_shared_dataset(baseline, candidate)
    metrics = []
    for role, table, chosen in (
        ("baseline", baseline, args.metric),
        ("candidate", candidate, args.candidate_metric or args.metric),
    ):
        metric = chosen or final_test_metric(table, dataset, table.metric_names(dataset))
        if metric is None:
            raise TableError(f"the {role} holds no test accuracy for {dataset!r}; pass --metric")
        metrics.append(metric)
    result = compare_seed_agreement(
        baseline,
        candidate,
        dataset,
        metrics[0],
        np.random.default_rng(args.seed),
        _two_seeds(args.seeds),
        args.resamples,
        candidate_metric=metrics[1],
    )
    if args.json:
        emit_json(result)
    else:
        print(_format_compare(result, args.baseline, args.candidate))
    return 0


def _two_seeds(text: str) -> tuple[int, int]:
    from tabular.errors import TableError

    parts = text.split(",")
    try:
        seeds = [int(p) for p in parts]
    except ValueError:
        seeds = []
    if len(seeds) != 2:
        raise TableError(f"--seeds {text!r}: expected two seeds such as 0,1")
    return seeds[0], seeds[1]


def _one_shared_dataset(baseline: Any, candidate: Any) -> str:
    from tabular.errors import TableError

    shared = sorted(set(baseline.datasets) & set(candidate.datasets))
    if len(shared) != 1:
        raise TableError(f"the tables share datasets {shared}; expected one, or pass --dataset")
    return shared[0]


def _format_compare(result: dict[str, Any], baseline: str, candidate: str) -> str:
    other = result["candidate_metric"]
    lines = [
        f"{result['dataset']} {result['metric']}"
        + (f" (candidate {other})" if other != result["metric"] else "")
        + f", seed {result['seeds'][0]} vs {result['seeds'][1]} "
        f"on {result['classes']} shared classes"
    ]
    for role, path in (("baseline", baseline), ("candidate", candidate)):
        r = result[role]
        lines.append(
            f"  {role:<9} Kendall {r['kendall_tau']:.3f}  Spearman {r['spearman_rho']:.3f}  "
            f"seed noise sd {r['seed_noise_sd']:.2f}  accuracy IQR {r['accuracy_iqr']:.2f}  "
            f"mean {r['mean_accuracy']:.2f}  {path}"
        )
    low, high = result["tau_difference_ci95"]
    lines.append(
        f"  Kendall difference {result['tau_difference']:+.3f} "
        f"(paired 95% bootstrap {low:+.3f} to {high:+.3f}, {result['resamples']} resamples)"
    )
    return "\n".join(lines)
