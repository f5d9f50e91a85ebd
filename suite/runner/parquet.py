"""Parquet copies of the suite's CSV exports: the same columns, each with its proper type.

A CSV loses types (every value is text, a list is a joined string); the Parquet file beside it
keeps them (integers, floats with NaN, strings with nulls, lists of floats), so pandas, polars,
DuckDB or pyarrow read the results without parsing. Written with pyarrow, imported here only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: the column kinds a schema may name
KINDS = ("string", "int64", "float64", "bool", "list<float64>")


def write_parquet(
    path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str]
) -> Path:
    """Write ``rows`` (dicts) with ``columns`` (name -> kind in :data:`KINDS`, in order); atomic.

    ``None`` is a null; a float column keeps NaN and inf as they are.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "list<float64>": pa.list_(pa.float64()),
    }
    unknown = {kind for kind in columns.values() if kind not in types}
    if unknown:
        raise ValueError(f"unknown column kinds {sorted(unknown)}; expected some of {KINDS}")
    schema = pa.schema([(name, types[kind]) for name, kind in columns.items()])
    table = pa.Table.from_pylist([{name: row.get(name) for name in columns} for row in rows], schema=schema)
    out = Path(path)
    tmp = out.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, out)
    return out
