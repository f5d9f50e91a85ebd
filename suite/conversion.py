"""From a table's simulated seconds to GPU-days, with the assumption written down.

NB201/NATS-Bench times are GPU training times: a GPU-day is 86,400 of them. A table built on a
CPU is normalised by training throughput in FLOP/s: its seconds are scaled by the ratio of the
CPU's measured training rate (median over trained cells of 3 x forward FLOPs x images / train
seconds) to the rate NATS-Bench's GPU reached on the same kind of network. That reference is
the median over the three complete NATS records in ``../shared`` (cifar10-valid, 25,000 images
per epoch, 200 epochs, forward FLOPs = 2 x the records' multiply-adds): 325, 360 and 1,372
GFLOP/s, median 360.4. Small networks leave a GPU idle more than a CPU, so this is a rough
normalisation; the evaluation counts in a report do not depend on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tabular.table import Table

#: Training FLOP/s (x1e9) of NATS-Bench's GPU, median of its three complete records.
REFERENCE_GPU_TRAIN_GFLOPS = 360.4


@dataclass(frozen=True)
class DeviceConversion:
    """``speedup``: how many of the table's seconds make one reference-GPU second."""

    device: str
    speedup: float
    assumption: str


def conversion_for(table: Table, dataset: str) -> DeviceConversion:
    """The conversion for ``table``: 1 for published GPU times, FLOP-normalised for a CPU build."""
    provenance = table.provenance
    if provenance.get("kind") != "built":
        return DeviceConversion(
            "NATS-Bench GPU", 1.0, "train times are NATS-Bench's GPU times (or the cost model fitted on them)"
        )
    devices = {str(s.get("device", "cpu")) for s in provenance.get("sessions", [])}
    if devices and all(d.startswith("cuda") for d in devices):
        return DeviceConversion("GPU", 1.0, "the table was built on a GPU: its seconds are GPU seconds")
    if not {"flops", "mflops_nb201"} & set(table.hardware_names()):
        return DeviceConversion(
            "CPU", 1.0, "the table records no FLOPs to normalise its CPU seconds by: counted as GPU seconds"
        )
    rate = cpu_training_gflops(table, dataset)
    if not (math.isfinite(rate) and rate > 0):
        return DeviceConversion(
            "CPU", 1.0, "the table has no trained cell to measure a CPU training rate: counted as GPU seconds"
        )
    speedup = REFERENCE_GPU_TRAIN_GFLOPS / rate
    return DeviceConversion(
        "CPU",
        speedup,
        f"the table was timed on a CPU training at {rate:.1f} GFLOP/s (median over cells); one GPU "
        f"second = {speedup:.1f} CPU seconds, from NATS-Bench's GPU at {REFERENCE_GPU_TRAIN_GFLOPS} GFLOP/s",
    )


def cpu_training_gflops(table: Table, dataset: str) -> float:
    """Median training rate over the table's trained cells: 3 x forward FLOPs x images / seconds."""
    budget = table.provenance["budget"]
    epochs = int(budget["epochs"])
    seconds = table.metric(dataset, f"train_seconds@{epochs}")
    if "flops" in table.hardware_names():
        forward = table.hardware("flops")
    else:
        forward = 2e6 * table.hardware("mflops_nb201")
    images = float(budget["train_size"]) * epochs
    # a cell trained on demand without hardware metrics (LiveBenchmark(hardware=False)) has no FLOPs
    trained = np.isfinite(seconds) & (seconds > 0) & np.isfinite(forward) & (forward > 0) & ~table.degenerate
    if not trained.any():
        return math.nan
    return float(np.median(3 * forward[trained] * images / seconds[trained]) / 1e9)
