"""Reading a Parquet export back with pyarrow and checking it against the CSV written beside it."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest


def assert_parquet_matches_csv(csv_path: Path, parquet_path: Path, rel: float = 1e-5) -> int:
    """Same rows, same column names in order, same values (the CSV rounds some floats); returns rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(parquet_path)
    with csv_path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    assert table.num_rows == len(rows)
    assert table.column_names == header
    for name in header:
        kind = table.schema.field(name).type
        for value, text in zip(table.column(name).to_pylist(), (r[name] for r in rows), strict=True):
            where = f"{parquet_path.name}:{name}: {value!r} vs CSV {text!r}"
            if value is None:
                assert text == "", where
            elif pa.types.is_floating(kind):
                expected = float(text)
                both_nan = math.isnan(value) and math.isnan(expected)
                assert both_nan or value == pytest.approx(expected, rel=rel), where
            elif pa.types.is_integer(kind):
                assert value == int(text), where
            elif pa.types.is_boolean(kind):
                assert str(value) == text, where
            elif pa.types.is_list(kind):
                assert value == pytest.approx([float(v) for v in text.split()], rel=rel), where
            else:
                assert pa.types.is_string(kind) and value == text, where
    return len(rows)
