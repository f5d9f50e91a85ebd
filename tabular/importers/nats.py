"""Fold records of an official NATS-Bench tss release into an NB201 table.

Each (cell, schedule, dataset, seed) record gives the dense metrics at the run's last epoch
(``test@200`` of a 200-epoch run, ``valid@12`` of a 12-epoch run, cumulative train seconds)
and, in the lazily-read ``curves`` group, its full per-epoch curves.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tabular.table import RunStatus

if TYPE_CHECKING:
    from tabular.importers.nats_release import NatsRecord
    from tabular.importers.nb201 import ImportContext


def _split_map(dataset: str) -> dict[str, str]:
    """NATS split name -> our split name for ``dataset``."""
    from tabular.importers.nb201 import SPLIT_SOURCE

    return {orig: ours for ours, orig in SPLIT_SOURCE[dataset].items() if ours != "train"}


def _final_values(record: NatsRecord) -> dict[str, float]:
    values = {
        "train": float(record.train_acc[-1]),
        "train_loss": float(record.train_loss[-1]),
        "train_seconds": float(np.nansum(record.train_time)),
    }
    for orig, ours in _split_map(record.dataset).items():
        if orig in record.eval:
            values[ours] = float(record.eval[orig].acc[-1])
            values[f"{ours}_loss"] = float(record.eval[orig].loss[-1])
    return values


def _curves(record: NatsRecord) -> dict[str, np.ndarray]:
    curves = {
        "train": record.train_acc,
        "train_loss": record.train_loss,
        "train_seconds": np.cumsum(record.train_time),
    }
    for orig, ours in _split_map(record.dataset).items():
        if orig in record.eval:
            curves[ours] = record.eval[orig].acc
            curves[f"{ours}_loss"] = record.eval[orig].loss
    return curves


def import_release(ctx: ImportContext, release: Path) -> None:
    """Add every record of the release under ``release`` to ``ctx.table``."""
    from tabular.importers.nats_release import iter_records

    table = ctx.table
    groups: dict[tuple[str, int], list[tuple[int, NatsRecord]]] = defaultdict(list)
    flops = np.full(table.n_rows, np.nan)
    latency = np.full(table.n_rows, np.nan)
    for record in iter_records(release):
        row = int(ctx.rows_for([record.arch_str], str(release))[0])
        groups[(record.dataset, record.hp)].append((row, record))
        source = f"NATS-Bench tss release {release.name}, hp={record.hp} seed {record.seed}"
        for quantity, value in _final_values(record).items():
            table.set_metric(
                record.dataset,
                quantity,
                record.hp,
                record.seed,
                np.array([value]),
                rows=np.array([row]),
                schedule=record.hp,
                source=source,
                status=RunStatus.IMPORTED,
            )
        if record.dataset == "cifar10":
            flops[row], latency[row] = record.flop_m, record.latency * 1000.0
    for (dataset, hp), items in sorted(groups.items()):
        _add_curve_group(ctx, dataset, hp, items, release)
    if np.isfinite(flops).any():
        table.set_hardware(
            "mflops_nb201",
            flops,
            unit="MFLOPs",
            source=f"NATS-Bench release {release.name} 'flop' (cifar10 network)",
            description="NB201's FLOP convention: multiply-adds + bias + pooling, per image",
        )
        table.set_hardware(
            "latency_ms:nats",
            latency,
            unit="ms",
            source=f"NATS-Bench release {release.name} 'latency' x 1000 (cifar10 network)",
            description="latency as stored by NATS-Bench (GPU, its own protocol)",
        )
    n_files = len({row for items in groups.values() for row, _ in items})
    ctx.notes.append(f"{release.name}: {n_files} cells with full records imported (curves in /curves)")
    ctx.sources.append(
        {"file": str(release), "sha256": "", "what": f"official NATS-Bench release, {n_files} cells"}
    )


def _add_curve_group(
    ctx: ImportContext, dataset: str, hp: int, items: list[tuple[int, NatsRecord]], release: Path
) -> None:
    rows = sorted({row for row, _ in items})
    seeds = sorted({rec.seed for _, rec in items})
    blocks: dict[str, np.ndarray] = {}
    for row, record in items:
        for quantity, curve in _curves(record).items():
            block = blocks.setdefault(quantity, np.full((len(rows), len(seeds), hp), np.nan, np.float32))
            block[rows.index(row), seeds.index(record.seed), : len(curve)] = curve[:hp]
    ctx.table.set_curves(
        dataset, hp, np.array(rows), seeds, blocks, source=f"NATS-Bench release {release.name}"
    )
