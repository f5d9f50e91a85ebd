"""``nasuite table import|info|query``: make a table from published data and look inside it."""

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
