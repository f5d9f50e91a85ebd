"""Search results on disk: one CSV row per evaluation, the same as Parquet, plus a JSON header.

``evaluations.csv`` holds, per evaluation, the simulated time, the cell, the observed values,
its cost, the incumbent and the incumbent's reported (final) metric; ``evaluations.parquet``
holds the same columns typed (the extra objectives as a list of floats, full precision);
``runs.json`` holds the protocol (benchmarks, strategy specs, seeds), software versions, and per
run its ledger, Pareto front and, for a run that raised, the traceback.
"""

from __future__ import annotations

import csv
import json
import os
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from suite.jsonable import to_jsonable
from suite.runner.spec import RunResult

CSV_NAME = "evaluations.csv"
PARQUET_NAME = "evaluations.parquet"
HEADER_NAME = "runs.json"
#: the columns of both files and their Parquet types
COLUMNS = {
    "benchmark": "string", "strategy": "string", "seed": "int64", "number": "int64",
    "time": "float64", "arch": "string", "index": "int64", "fidelity": "int64",
    "value": "float64", "objectives": "list<float64>", "cost": "float64", "incumbent": "string",
    "incumbent_value": "float64", "incumbent_final": "float64",
}  # fmt: skip
_FIELDS = tuple(COLUMNS)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("nasuite", "numpy", "optuna", "xgboost", "torch"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return out


def write_results(
    out_dir: str | os.PathLike[str], runs: Sequence[tuple[str, RunResult]], protocol: dict[str, Any]
) -> tuple[Path, Path, Path]:
    """Write ``(benchmark label, result)`` pairs; returns the CSV, JSON and Parquet paths.

    Files are replaced atomically.
    """
    from suite.runner.parquet import write_parquet

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, header_path = out / CSV_NAME, out / HEADER_NAME
    tmp = csv_path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(_FIELDS)
        for label, run in runs:
            for e in run.evaluations:
                writer.writerow(
                    (label, run.strategy, run.seed, e.number, f"{e.time:.6g}", e.arch, e.index, e.fidelity,
                     e.values[0], " ".join(f"{v:.6g}" for v in e.values[1:]), f"{e.cost:.6g}",
                     e.incumbent, e.incumbent_value, e.incumbent_final)
                )  # fmt: skip
    os.replace(tmp, csv_path)
    parquet_path = write_parquet(out / PARQUET_NAME, _rows(runs), COLUMNS)
    header = to_jsonable(
        {
            "protocol": protocol,
            "versions": versions(),
            "runs": [
                {
                    "benchmark": label,
                    "strategy": run.strategy,
                    "seed": run.seed,
                    "evaluations": len(run.evaluations),
                    "final": to_jsonable(run.final),
                    "simulated_seconds": run.simulated_seconds,
                    "wall_seconds": run.elapsed_seconds,
                    "ledger": run.ledger,
                    "pareto": run.pareto,
                    "error": run.error,
                }
                for label, run in runs
            ],
        }
    )
    tmp = header_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(header, indent=1, default=str, allow_nan=False) + "\n")
    os.replace(tmp, header_path)
    return csv_path, header_path, parquet_path


def _rows(runs: Sequence[tuple[str, RunResult]]) -> list[dict[str, Any]]:
    """The CSV's rows as typed values (unrounded)."""
    rows: list[dict[str, Any]] = []
    for label, run in runs:
        for e in run.evaluations:
            row = {
                "benchmark": label, "strategy": run.strategy, "seed": run.seed, "number": e.number,
                "time": e.time, "arch": e.arch, "index": e.index, "fidelity": e.fidelity,
                "value": e.values[0], "objectives": list(e.values[1:]), "cost": e.cost,
                "incumbent": e.incumbent, "incumbent_value": e.incumbent_value,
                "incumbent_final": e.incumbent_final,
            }  # fmt: skip
            rows.append(row)
    return rows
