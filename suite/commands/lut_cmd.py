"""``nasuite lut``: FBNet-style per-layer latency lookup tables for the macro spaces.

``lut build --table FILE`` measures every part of the table's space at the network the table
trains (its budget's channels, its data's shape) on this machine; ``lut error`` measures whole
networks and reports how far the sum of parts is from them.
"""

from __future__ import annotations

import argparse
from typing import Any

from suite.commands.output import emit_json


def add_parser(sub: Any) -> None:
    lut = sub.add_parser("lut", help="per-layer latency lookup tables (FBNet style) for chain spaces")
    lsub = lut.add_subparsers(dest="lut_command", required=True, metavar="ACTION")
    build = lsub.add_parser("build", help="measure a lookup table at a built table's network")
    build.add_argument("--table", required=True, help="a table built by `nasuite table build`")
    build.add_argument("--out", required=True, help="the lookup table (JSON)")
    build.add_argument("--batch-size", type=int, default=1)
    build.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1, as the builder)")
    build.add_argument("--repeats", type=int, default=30)
    build.add_argument(
        "--statistic",
        choices=("median", "min"),
        default="median",
        help="summary of the timed repeats (min resists other processes on a busy machine)",
    )
    build.add_argument(
        "--placement",
        choices=("in-network", "isolated"),
        default="in-network",
        help="time each part inside whole forwards (default) or alone, as FBNet does",
    )
    build.add_argument("--json", action="store_true", help="print one JSON object")
    build.set_defaults(handler=run_build)
    error = lsub.add_parser("error", help="the lookup table's error against whole networks measured now")
    error.add_argument("lut", help="a lookup table from `nasuite lut build`")
    error.add_argument("--archs", type=int, default=20, help="random architectures to measure (default 20)")
    error.add_argument("--seed", type=int, default=0)
    error.add_argument("--json", action="store_true", help="print one JSON object")
    error.set_defaults(handler=run_error)


def table_network(path: str) -> Any:
    """The network a built table trains: the budget's channels on its data's shape."""
    from tabular.errors import BuildError
    from tabular.models.config import NetworkConfig
    from tabular.table import Table

    prov = Table.open(path).provenance
    if prov.get("kind") != "built":
        raise BuildError(f"{path!r} was not made by `nasuite table build`; it records no network to measure")
    data, budget = prov["dataset"], prov["budget"]
    return NetworkConfig(
        channels=int(budget["channels"]),
        cells_per_stage=int(budget["cells_per_stage"]),
        in_channels=int(data["in_channels"]),
        num_classes=int(data["num_classes"]),
        resolution=int(data["resolution"]),
    )


def run_build(args: argparse.Namespace) -> int:
    import time

    from tabular.latency_lut import build_lut
    from tabular.table import Table

    space = Table.open(args.table).space
    tic = time.perf_counter()
    lut = build_lut(
        space,
        table_network(args.table),
        batch_size=args.batch_size,
        threads=args.threads,
        repeats=args.repeats,
        statistic=args.statistic,
        placement=args.placement,
    )
    lut.save(args.out)
    entries = sum(len(p.latency_ms) for p in lut.parts)
    summary = {
        "out": args.out,
        "space": lut.space,
        "parts": len(lut.parts),
        "entries": entries,
        "batch_size": lut.batch_size,
        "threads": lut.threads,
        "statistic": lut.statistic,
        "placement": lut.placement,
        "seconds": round(time.perf_counter() - tic, 1),
    }
    if args.json:
        emit_json(summary)
    else:
        print(
            f"wrote {args.out}: {entries} entries over {len(lut.parts)} parts of {lut.space} "
            f"(batch {lut.batch_size}, {lut.threads} thread(s), {lut.statistic} of {lut.repeats}, "
            f"{lut.placement}) in {summary['seconds']} s"
        )
    return 0


def run_error(args: argparse.Namespace) -> int:
    import numpy as np

    from tabular.latency_lut import LatencyLUT, lut_error
    from tabular.spaces import get_space

    lut = LatencyLUT.load(args.lut)
    space = get_space(lut.space)
    archs = space.sample_many(np.random.default_rng(args.seed), args.archs)
    err = lut_error(lut, archs)
    summary = {
        "lut": args.lut,
        "archs": int(args.archs),
        "median_relative_error": err.median_relative_error,
        "worst_relative_error": err.worst_relative_error,
        "mean_signed_error": err.mean_signed_error,
    }
    if args.json:
        emit_json(summary)
    else:
        print(
            f"{lut.space}: {args.archs} networks, relative error of the summed latency: median "
            f"{100 * err.median_relative_error:.1f} %, worst {100 * err.worst_relative_error:.1f} %, "
            f"mean signed {100 * err.mean_signed_error:+.1f} %"
        )
    return 0
