"""Folding finished runs (journal entries) into a built table.

A run trains one isomorphism-class representative; its metrics are written to every member
of the class, since members compute the same function. Hardware metrics are measured per
member, because dead edges still cost parameters and time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tabular.table import RunStatus, Table
from tabular.training import EpochRecord, TrainResult

#: TrainResult/EpochRecord field -> table quantity
QUANTITY_OF = {
    "train_acc": "train",
    "train_loss": "train_loss",
    "valid_acc": "valid",
    "valid_loss": "valid_loss",
    "test_acc": "test",
    "test_loss": "test_loss",
}

HARDWARE = {  # entry key -> (table name, unit, description)
    "params": ("params", "count", "trainable parameters"),
    "flops": ("flops", "FLOPs", "forward FLOPs per image (torch.utils.flop_counter: 2 per multiply-add)"),
    "mflops_nb201": ("mflops_nb201", "MFLOPs", "NB201's FLOP convention per image"),
    "latency_ms_b1": ("latency_ms:cpu_b1", "ms", "median CPU forward latency, batch 1, worker threads"),
    "latency_ms_b64": ("latency_ms:cpu_b64", "ms", "median CPU forward latency, batch 64, worker threads"),
    "peak_memory_bytes_b1": ("peak_memory_bytes:b1", "bytes", "peak bytes allocated in a batch-1 forward"),
}


def class_rows(table: Table, index: int) -> np.ndarray:
    """Rows of every cell in the same isomorphism class as our index ``index``."""
    rep = table.iso_class[table.row(index)]
    return np.flatnonzero(table.iso_class == rep)


def apply_entry(table: Table, entry: dict[str, Any], dataset: str, schedule: int) -> None:
    """Write one journal entry (a finished run) into ``table``."""
    result = TrainResult.from_dict(entry["result"])
    rows = class_rows(table, int(entry["index"]))
    seed = int(entry["seed"])
    source = (
        f"built: budget {result.budget}, device {result.device}, {result.threads} thread(s), "
        f"{result.memory_format}"
    )
    cumulative = 0.0
    for record in result.epochs:
        cumulative += record.train_seconds
        values = _record_values(record)
        values["train_seconds"] = cumulative
        for quantity, value in values.items():
            table.set_metric(
                dataset,
                quantity,
                record.epoch,
                seed,
                np.full(len(rows), value),
                rows=rows,
                schedule=schedule,
                source=source,
            )
    table.set_status(dataset, seed, RunStatus.OK if result.ok else RunStatus.FAILED, rows=rows)
    failures = table.raw.group(f"metrics/{dataset}").setdefault("failures", {})
    key = f"{entry['index']}/{seed}"
    if result.ok:
        failures.pop(key, None)
    else:
        failures[key] = result.reason.strip().splitlines()[0] if result.reason else "failed"
    for member, metrics in entry.get("hardware", {}).items():
        _apply_hardware(table, int(member), metrics)


def _record_values(record: EpochRecord) -> dict[str, float]:
    out = {}
    for field, quantity in QUANTITY_OF.items():
        value = getattr(record, field)
        if value == value:  # NaN means "not evaluated at this epoch": leave the cell empty
            out[quantity] = float(value)
    return out


def _apply_hardware(table: Table, member: int, metrics: dict[str, Any]) -> None:
    row = table.row(member)
    threads = metrics.get("threads")
    for key, (name, unit, description) in HARDWARE.items():
        value = metrics.get(key)
        if value is None:
            continue
        table.update_hardware(
            name,
            np.array([row]),
            np.array([float(value)]),
            unit=unit,
            source=f"measured by the builder ({threads} thread(s))",
            description=description,
        )


def mark_degenerate(table: Table, dataset: str, seeds: range, epochs: int, num_classes: int) -> None:
    """Cells whose output ignores the input are not trained: accuracy is chance by construction."""
    rows = np.flatnonzero(table.degenerate)
    if rows.size == 0:
        return
    chance = np.full(rows.size, 100.0 / num_classes)
    for seed in seeds:
        for epoch in range(1, epochs + 1):
            table.set_metric(
                dataset,
                "valid",
                epoch,
                seed,
                chance,
                rows=rows,
                schedule=epochs,
                source="chance: no path from input to output, not trained",
            )
            table.set_metric(
                dataset, "train_seconds", epoch, seed, np.zeros(rows.size), rows=rows, schedule=epochs
            )
        table.set_metric(dataset, "test", epochs, seed, chance, rows=rows, schedule=epochs)
        table.set_status(dataset, seed, RunStatus.CHANCE, rows=rows)


def done_runs(table: Table, dataset: str) -> set[tuple[int, int]]:
    """(our index of the class representative, seed) pairs already trained or failed."""
    if dataset not in table.datasets:
        return set()
    status = table.status(dataset)
    seeds = table.seeds(dataset)
    finished = (status == RunStatus.OK) | (status == RunStatus.FAILED)
    rows, cols = np.nonzero(finished)
    reps = table.iso_class[rows]
    return {(int(r), int(seeds[c])) for r, c in zip(reps, cols, strict=True)}
