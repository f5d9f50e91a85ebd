"""``nasuite proxies list|compute``: zero-cost proxies and their scores in a table."""

from __future__ import annotations

import argparse
from typing import Any

from suite.commands.output import emit_json
from tabular.interrupt import stop_gracefully_on_signals

#: CLI flag -> NetworkConfig field
_NETWORK_FLAGS = {
    "channels": "channels",
    "cells": "cells_per_stage",
    "in_channels": "in_channels",
    "classes": "num_classes",
    "resolution": "resolution",
}


def add_parser(sub: Any) -> None:
    proxies = sub.add_parser("proxies", help="zero-cost proxies: list them, score a table's cells")
    psub = proxies.add_subparsers(dest="proxies_command", required=True, metavar="ACTION")

    lst = psub.add_parser("list", help="registered proxies, whether they need data, and their papers")
    lst.add_argument("--json", action="store_true", help="print one JSON object")
    lst.set_defaults(handler=run_list)

    comp = psub.add_parser(
        "compute",
        help="score every cell of a table and store the scores in it (resumable)",
        description="Score the table's cells with zero-cost proxies and store them as "
        "zero_cost/<dataset>/<proxy>. A built table fixes the network and data; other tables need "
        "the network flags, and --dataset for proxies that use data. Rerunning resumes.",
    )
    comp.add_argument("file", help="table file (.h5); rewritten atomically")
    comp.add_argument("--proxies", required=True, help="comma-separated names, e.g. synflow,naswot,params")
    comp.add_argument("--batch-size", type=int, default=64, help="images in the scoring batch (default 64)")
    comp.add_argument("--seed", type=int, default=0, help="seed of the batch, the weights and the proxies")
    comp.add_argument("--dataset", help="dataset to draw the batch from (tables without a build budget)")
    comp.add_argument(
        "--data-root", help="folder with the dataset files (default: as built, or the system copy)"
    )
    net = comp.add_argument_group("network (tables without a build budget; overrides a built table's)")
    net.add_argument("--channels", type=int, help="C, channels of the first stage")
    net.add_argument("--cells", type=int, help="N, cells per stage")
    net.add_argument("--resolution", type=int, help="input height and width")
    net.add_argument("--classes", type=int, help="output classes")
    net.add_argument("--in-channels", type=int, help="input channels")
    comp.add_argument("--rows", type=int, help="score at most this many rows still to do (default: all)")
    comp.add_argument("--flush-seconds", type=float, default=60.0, help="save at least this often")
    comp.add_argument("--overwrite", action="store_true", help="discard these proxies' stored scores first")
    comp.add_argument("--retry-failed", action="store_true", help="recompute rows whose stored score is NaN")
    comp.add_argument("--device", help="torch device (default cpu)")
    comp.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    comp.add_argument("--json", action="store_true", help="print one JSON object")
    comp.set_defaults(handler=run_compute)

    ev = psub.add_parser(
        "eval",
        help="rank correlation of every stored proxy with a trained metric, beside the noise ceiling",
    )
    ev.add_argument("file", help="table file (.h5) with zero-cost scores")
    ev.add_argument("--target", required=True, help="trained metric such as test@2")
    ev.add_argument("--dataset", help="dataset in the table (default: the first that has the target)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(handler=run_eval)

    merge = psub.add_parser(
        "merge",
        help="fold scores computed in a copy of a table into the table",
        description="Copy the rows a copy of the table finished (and the table has not) for every "
        "proxy, refusing scores made with other settings. Lets scoring run on copies: on other "
        "cores or machines, or while a build holds the table.",
    )
    merge.add_argument("source", help="the copy holding the new scores (.h5)")
    merge.add_argument("target", help="the table to fold them into (.h5); rewritten atomically")
    merge.add_argument("--json", action="store_true", help="print one JSON object")
    merge.set_defaults(handler=run_merge)


def run_eval(args: argparse.Namespace) -> int:
    from surrogates.proxies.correlate import proxy_correlations
    from tabular.errors import UnknownMetricError
    from tabular.table import Table

    table = Table.open(args.file)
    datasets = [args.dataset] if args.dataset else table.datasets
    dataset = next((d for d in datasets if args.target in table.metric_names(d)), None)
    if dataset is None:
        known = sorted({m for d in table.datasets for m in table.metric_names(d)})
        raise UnknownMetricError(args.target, known, where=f"{args.file} ({', '.join(datasets)})")
    report = proxy_correlations(table, dataset, args.target)
    if args.json:
        emit_json(report)
        return 0
    print(f"{args.file}: {dataset} {args.target}, {report['cells']} trained cells")
    print(f"{'proxy':<12} {'cells':>6} {'Spearman':>9} {'Kendall':>8}")
    ranked = sorted(report["proxies"].items(), key=lambda kv: -abs(kv[1]["spearman_rho"]))
    for name, r in ranked:
        print(f"{name:<12} {r['cells']:>6} {r['spearman_rho']:>9.3f} {r['kendall_tau']:>8.3f}")
    if "noise_ceiling" in report:
        c = report["noise_ceiling"]
        print(
            f"{'seed ceiling':<12} {c['cells']:>6} {c['spearman_rho']:>9.3f} {c['kendall_tau']:>8.3f}"
            f"  (seed {c['seeds'][0]} vs {c['seeds'][1]})"
        )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from surrogates.proxies import PROXIES

    rows = {
        name: {"data_free": PROXIES.get(name).data_free, "computes": PROXIES.get(name).reference}
        for name in PROXIES.names()
    }
    if args.json:
        emit_json({"proxies": rows})
    else:
        for name, row in rows.items():
            print(f"{name:<10} {'data-free' if row['data_free'] else 'needs data':<10} {row['computes']}")
    return 0


def run_compute(args: argparse.Namespace) -> int:
    from surrogates.proxies import PROXIES
    from surrogates.proxies.compute import compute_proxies

    names = [n.strip() for n in args.proxies.split(",") if n.strip()]
    for name in names:
        PROXIES.get(name)  # an unknown name fails before torch or the table is loaded, listing the known
    given = {
        field: getattr(args, flag)
        for flag, field in _NETWORK_FLAGS.items()
        if getattr(args, flag) is not None
    }
    network = given or None  # partial: the rest from a built table; other tables need all five
    stop_gracefully_on_signals()  # `kill PID` and Ctrl-C save the rows scored so far
    report = compute_proxies(
        args.file,
        names,
        batch_size=args.batch_size,
        dataset=args.dataset,
        network=network,
        seed=args.seed,
        rows=args.rows,
        progress=not args.no_progress and not args.json,
        flush_seconds=args.flush_seconds,
        overwrite=args.overwrite,
        retry_failed=args.retry_failed,
        device=args.device,
        data_root=args.data_root,
    )
    if args.json:
        emit_json(report.to_dict())
        return 0
    net = report.network
    print(
        f"{report.path}: zero_cost/{report.dataset}, batch {report.batch_size}, seed {report.seed}, "
        f"C={net['channels']} N={net['cells_per_stage']} {net['resolution']}x{net['resolution']}, "
        f"{report.threads} thread(s) on {report.device}"
    )
    for p in report.proxies:
        print(
            f"  {p.proxy:<10} {p.rows_computed} rows ({p.nans} NaN, {p.errors} failed) in {p.seconds:.1f} s, "
            f"{p.cells_per_second:.2f} cells/s; {p.rows_done}/{p.rows_total} rows done"
        )
    for note in report.notes:
        print(f"  note: {note}")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from surrogates.proxies.merge import merge_scores

    report = merge_scores(args.source, args.target)
    if args.json:
        emit_json(asdict(report))
        return 0
    for name, rows in report.rows.items():
        print(f"  {name:<28} {rows} rows taken")
    print(f"{report.target}: merged {sum(report.rows.values())} rows from {report.source}")
    return 0
