"""The ``extra`` block of the default-table-preset-*.json files: for a candidate preset's table,
the median seed-to-seed difference and how well each table's seed mean ranks the same classes
as NB201's CIFAR-10 test accuracy after 200 epochs (Dong & Yang, ICLR 2020).

Run from the repository root, with NB201 imported once
(``nasuite table import nb201 --from ../shared/data/published --out nb201.h5``):
``python docs/measurements/default-table-preset-extra.py EXP.h5 nb201.h5``.
The figures for the committed files came from the experiment tables named in their "command".
"""

from __future__ import annotations

import json
import sys

import numpy as np

from tabular.table import Table
from tabular.table.info import final_test_metric
from tabular.table.stats import class_rows, rank_agreement

DEFAULT = "data/nb201-fashion-mnist-small.h5"
DATASET = "fashion-mnist"


def extra(candidate_path: str, nb201_path: str) -> dict[str, dict[str, float]]:
    base, cand, nb201 = Table.open(DEFAULT), Table.open(candidate_path), Table.open(nb201_path)
    rows = class_rows(cand, DATASET, (0, 1))
    if any(t.arch(r) != cand.arch(r) for t in (base, nb201) for r in rows):
        raise SystemExit("the tables order the NB201 cells differently; expected one row order")
    reference = nb201.metric("cifar10", "test@200", rows=rows)
    out = {}
    for name, table in (("default_table", base), ("candidate", cand)):
        metric = final_test_metric(table, DATASET, table.metric_names(DATASET))
        a, b = (table.metric(DATASET, metric, seed=s, rows=rows) for s in (0, 1))
        out[name] = {
            "median_abs_seed_difference": round(float(np.median(np.abs(a - b))), 3),
            "kendall_seed_mean_vs_nb201_cifar10_test200": round(
                rank_agreement((a + b) / 2, reference)["kendall_tau"], 3
            ),
        }
    return out


if __name__ == "__main__":
    print(json.dumps(extra(sys.argv[1], sys.argv[2]), indent=1))
