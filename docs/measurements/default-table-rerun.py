"""Retrain some of the default table's runs and compare; writes default-table-rerun.json.

A run repeats bit-for-bit on the CPU model it was built on (same thread count and memory
format). The table's sittings ran on two CPU models; this shows which runs this machine
reproduces. Run from the repository root: ``python docs/measurements/default-table-rerun.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TABLE = Path("data/nb201-fashion-mnist-small.h5")
OUT = Path(__file__).with_suffix(".json")
#: positions in the build order (the order `nasuite table build` trains classes in)
POSITIONS = (0, 30, 200, 300, 400, 1000, 2500, 4500, 6460)
#: seed-0 runs of two-worker sittings on each CPU model (from the sittings' run counts: 4,723
#: runs at positions 500-5222 on the Intel Xeon, then 1,235 at 5223-6460 on the AMD EPYC)
TRAIN_TIME_WINDOWS = {"Intel(R) Xeon(R) Processor": (4000, 5200), "AMD EPYC": (5250, 6450)}


def main(positions: tuple[int, ...] = POSITIONS) -> None:
    import numpy as np
    import torch

    from tabular.budget import TrainBudget
    from tabular.builder.plan import BuildSpec, class_order
    from tabular.builder.worker import load_build_data
    from tabular.perf import cpu_model
    from tabular.table import Table
    from tabular.training import train_cell

    table = Table.open(TABLE)
    build = table.raw.root_attrs["build"]
    budget = TrainBudget.from_dict(dict(build["budget"]))
    spec = BuildSpec(space=build["space"], dataset=build["dataset"], budget=budget)
    data = load_build_data(spec)
    order = class_order(table.space, int(build["order_seed"]), None)
    torch.set_num_threads(1)  # as the table's workers
    runs = []
    for position in positions:
        index = int(order[position])
        row = table.row(index)
        result = train_cell(
            table.space, table.space.from_index(index), data, spec.budget, 0, "cpu", "contiguous"
        )
        was = table.metric(spec.dataset, "test@2", seed=0)[row]  # the table stores float32
        now = result.epochs[-1].test_acc
        same = bool(was == np.float32(now))
        runs.append(
            {
                "position": position,
                "table_test@2": round(float(was), 2),
                "rerun_test@2": now,
                "identical": same,
            }
        )
        print(runs[-1], flush=True)
    hosts = sorted({s["host"]["cpu"] for s in table.provenance["sessions"]})
    seconds = table.metric(spec.dataset, f"train_seconds@{budget.epochs}", seed=0)
    rows = np.array([table.row(int(i)) for i in order])
    train_times = {
        cpu: {
            "positions": [lo, hi - 1],
            "median_train_seconds": round(float(np.median(seconds[rows[lo:hi]])), 2),
        }
        for cpu, (lo, hi) in TRAIN_TIME_WINDOWS.items()
    }
    report = {
        "what": "seed-0 runs of the default table retrained here (contiguous, 1 thread) against the table",
        "command": "python docs/measurements/default-table-rerun.py",
        "cpu_here": cpu_model(),
        "cpus_the_table_was_built_on": hosts,
        "runs": runs,
        "train_times_by_cpu": train_times,
    }
    OUT.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main(tuple(int(p) for p in sys.argv[1:]) or POSITIONS)
