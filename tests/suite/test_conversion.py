"""CPU seconds to GPU seconds for a built table (suite.conversion)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from suite.benchmarks import LiveBenchmark
from suite.conversion import conversion_for, cpu_training_gflops
from tests.suite.test_oneshot import BUDGET, SPACE


def _trainable(rng: np.random.Generator, n: int) -> list[tuple[int, ...]]:
    archs: list[tuple[int, ...]] = []
    while len(archs) < n:
        arch = SPACE.sample(rng)
        if not SPACE.is_degenerate(arch) and SPACE.index(arch) not in {SPACE.index(a) for a in archs}:
            archs.append(arch)
    return archs


def test_a_cell_trained_without_hardware_metrics_does_not_hide_the_rate(tmp_path: Path) -> None:
    """One-shot searches train their derived cell without hardware metrics; the rate must survive it."""
    archs = _trainable(np.random.default_rng(0), 4)
    path = tmp_path / "t.h5"
    measured = LiveBenchmark.create(path, space="nb201", dataset="synthetic", budget=BUDGET, save_every=0)
    for arch in archs[:3]:
        measured.query(arch)
    measured.save()
    before = conversion_for(measured.table, "synthetic")
    assert np.isfinite(before.speedup) and before.speedup != 1.0 and "GFLOP/s" in before.assumption

    live = LiveBenchmark(path, hardware=False, save_every=0)
    live.query(archs[3])
    flops = live.table.hardware("flops")
    assert np.isnan(flops[live.table.row(SPACE.index(archs[3]))])  # trained, but no FLOPs
    after = conversion_for(live.table, "synthetic")
    assert after.speedup == before.speedup  # the rate of the three cells with FLOPs
    assert cpu_training_gflops(live.table, "synthetic") == cpu_training_gflops(measured.table, "synthetic")
