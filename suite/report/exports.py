"""Flat tables of ``nasuite run`` written twice: ``NAME.csv`` and ``NAME.parquet`` (same columns)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from suite.clock import BASELINES


def times_cheaper_columns(days: float) -> dict[str, float]:
    """``times_cheaper_<baseline>`` per published baseline (NaN when the cost is not positive)."""
    return {f"times_cheaper_{b.name}": (b.gpu_days / days if days > 0 else math.nan) for b in BASELINES}


def write_table(
    out: str | os.PathLike[str], name: str, rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str]
) -> list[Path]:
    """``out/name.csv`` and ``out/name.parquet`` from ``rows``; ``columns``: name -> Parquet kind.

    The CSV writes values as Python prints them (NaN as ``nan``, a null as an empty field).
    """
    from suite.runner.parquet import write_parquet

    csv_path = Path(out) / f"{name}.csv"
    tmp = csv_path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k) for k in columns})
    os.replace(tmp, csv_path)
    return [csv_path, write_parquet(Path(out) / f"{name}.parquet", rows, columns)]
