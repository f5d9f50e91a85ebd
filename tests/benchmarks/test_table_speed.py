"""Speed of the table: load time, memory, and vectorised queries (run with timing when tuning).

CI runs these with ``--benchmark-disable`` as plain tests; the numbers come from
``pytest tests/benchmarks --benchmark-only``. No test asserts a wall-clock time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from tabular.table import Table


def test_open_imported_table(benchmark, nb201_table_path: Path) -> None:  # type: ignore[no-untyped-def]
    table = benchmark(Table.open, nb201_table_path)
    assert table.n_rows == 15_625


def test_query_all_cells_by_nb201_index(benchmark, nb201_table: Table) -> None:  # type: ignore[no-untyped-def]
    ids = np.random.default_rng(0).permutation(15_625)

    def query() -> np.ndarray:
        return nb201_table.metric("cifar10", "test@200", rows=nb201_table.rows(ids, by="nb201"))

    values = benchmark(query)
    assert np.isfinite(values).all() and values.shape == (15_625,)
    benchmark.extra_info["cells_per_query"] = 15_625


def test_query_all_cells_by_our_index(benchmark, nb201_table: Table) -> None:  # type: ignore[no-untyped-def]
    idx = np.random.default_rng(1).integers(0, 15_625, 100_000)
    values = benchmark(lambda: nb201_table.metric("cifar100", "test@200", rows=nb201_table.rows(idx)))
    assert values.shape == (100_000,)
    benchmark.extra_info["cells_per_query"] = 100_000


def test_load_memory_is_bounded(nb201_table_path: Path) -> None:
    """Peak extra resident memory of opening the table, measured in a fresh process (reported)."""
    # VmRSS, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) pytest parent
    code = (
        "from tabular.table import Table; import h5py, numpy\n"
        "def rss():\n"
        "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
        "before = rss()\n"
        f"t = Table.open({str(nb201_table_path)!r})\n"
        "print((rss() - before) / 1024)"
    )
    extra_mb = float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    print(f"extra memory to open the NB201 table: {extra_mb:.1f} MB")
    assert 1 < extra_mb < 1024  # sanity: the figure itself is reported, not asserted against the goal
