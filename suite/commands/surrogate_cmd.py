"""``nasuite surrogate eval``: how well a predictor estimates a table's metric from few cells."""

from __future__ import annotations

import argparse
from typing import Any

from suite.commands.output import emit_json


def add_parser(sub: Any) -> None:
    surrogate = sub.add_parser("surrogate", help="performance predictors")
    ssub = surrogate.add_subparsers(dest="surrogate_command", required=True, metavar="ACTION")
    ev = ssub.add_parser(
        "eval", help="held-out quality of a predictor vs training-set size, with the noise ceiling"
    )
    ev.add_argument("file", help="table (.h5)")
    ev.add_argument("--model", required=True, help="predictor name (xgb, mlp, gin, ensemble, ...)")
    ev.add_argument("--target", required=True, help="metric such as test@200")
    ev.add_argument("--dataset", help="dataset in the table (default: the first that has the metric)")
    ev.add_argument(
        "--train-frac", default="0.1", help="fraction(s) of cells to train on, e.g. 0.01,0.05,0.1"
    )
    ev.add_argument("--repeats", type=int, default=5, help="random splits per fraction (default 5)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--encoding", help="onehot, graph or path (default: the model's own)")
    ev.add_argument("--extra", default="", help="extra features: zc:<proxy>,hw:<metric>,...")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(handler=run_eval)


def _fractions(text: str) -> list[float]:
    from surrogates.errors import EvaluationSettingsError

    try:
        values = [float(v) for v in text.split(",") if v]
    except ValueError:
        values = []
    if not values or not all(0 < v < 1 for v in values):
        raise EvaluationSettingsError(
            f"--train-frac must be fractions in (0, 1), e.g. 0.05 or 0.01,0.1; got {text!r}"
        )
    return values


def _dataset_for(table: Any, metric: str, dataset: str | None) -> str:
    from tabular.errors import UnknownMetricError

    if dataset:
        return dataset
    for name in table.datasets:
        if metric in table.metric_names(name):
            return str(name)
    raise UnknownMetricError(metric, sorted({m for d in table.datasets for m in table.metric_names(d)}))


def run_eval(args: argparse.Namespace) -> int:
    from surrogates.report import evaluate_on_table
    from tabular.table import Table

    table = Table.open(args.file)
    dataset = _dataset_for(table, args.target, args.dataset)
    report = evaluate_on_table(
        table,
        dataset,
        args.target,
        args.model,
        _fractions(args.train_frac),
        repeats=args.repeats,
        seed=args.seed,
        encoding=args.encoding,
        extra=[e for e in args.extra.split(",") if e],
    )
    if args.json:
        emit_json(report)
        return 0
    print(
        f"{args.model} ({report['encoding']}) on {dataset} {args.target}: {report['cells']} cells, "
        f"{report['repeats']} splits per size"
    )
    for p in report["sweep"]:
        m, s = p["mean"], p["std"]
        ceiling = p.get("fraction_of_ceiling", {}).get("kendall_tau")
        extra = f"  ({ceiling:.2f} of the noise ceiling)" if ceiling is not None else ""
        print(
            f"  train {p['train_size']:>6} ({p['train_fraction']:.1%}): Kendall {m['kendall_tau']:.3f}"
            f"±{s['kendall_tau']:.3f}  sparse {m['sparse_kendall_tau']:.3f}  R² {m['r2']:.3f}±{s['r2']:.3f}  "
            f"Spearman {m['spearman_rho']:.3f}  fit {p['fit_seconds']:.2f}s{extra}"
        )
    if "noise_ceiling" in report:
        c = report["noise_ceiling"]
        print(
            f"  noise ceiling (seed {c['seeds'][0]} vs {c['seeds'][1]}, {c['classes']} classes): "
            f"Kendall {c['kendall_tau']:.3f}, R² {c['r2']:.3f}"
        )
    return 0
