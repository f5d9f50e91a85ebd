"""Train each strategy's best finds for real (``LiveBenchmark``) and set measured beside predicted."""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from suite.benchmarks.live import LiveBenchmark
from suite.benchmarks.surrogate import HardwareModel, SurrogateBenchmark
from suite.surrogate_search.hardware import LatencyModel
from suite.surrogate_search.search import Find
from suite.surrogate_search.settings import SurrogateSearchSettings

LATENCY = "latency_ms:cpu_b1"
#: the same latency timed again under the lookup table's own settings (see ``verify_finds``)
LATENCY_AT_LUT = LATENCY + "@lut"


def verification_table(settings: SurrogateSearchSettings) -> Path:
    """Where verified runs go: ``verify_table``, or a copy of the sample table in ``out``.

    Training into a copy keeps the committed sample a uniform sample; an architecture the sample
    already holds is answered from its measured runs, and a rerun resumes from the copy.
    """
    target = Path(settings.verify_table or Path(settings.out) / "verified.h5")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".copying")
        shutil.copyfile(settings.table, partial)
        partial.replace(target)
    return target


def verify_finds(
    finds: Sequence[Find],
    surrogate: SurrogateBenchmark,
    settings: SurrogateSearchSettings,
    hardware: HardwareModel | None = None,
) -> list[dict[str, Any]]:
    """One row per (find, verify seed): predicted and measured search/report metrics and latency."""
    from tqdm import tqdm

    if not finds or not settings.verify_seeds:
        return []
    space = surrogate.space
    archs = np.asarray([space.from_str(f.arch) for f in finds])
    predicted = surrogate.predict(archs)
    predicted_hw = hardware.predict(archs) if hardware is not None else {}
    rows = []
    jobs = [(i, s) for i in range(len(finds)) for s in settings.verify_seeds]
    bar = tqdm(total=len(jobs), desc="verify by training", unit="run", disable=not settings.progress)
    with LiveBenchmark(
        verification_table(settings),
        search=settings.search,
        data_root=settings.data_root,
        save_every=1,
        hardware=True,
    ) as live:
        for i, seed in jobs:
            find = finds[i]
            obs = live.query(tuple(int(v) for v in archs[i]), seed=seed)
            rows.append(
                {
                    "strategy": find.strategy,
                    "arch": find.arch,
                    "found_by_seed": find.seed,
                    "verify_seed": seed,
                    "predicted": {
                        settings.search: float(predicted[settings.search][i]),
                        settings.report: float(predicted[settings.report][i]),
                        **{name: float(v[i]) for name, v in predicted_hw.items()},
                    },
                    "measured": {
                        settings.search: _finite(obs.metrics.get(settings.search)),
                        settings.report: _finite(obs.metrics.get(settings.report)),
                        LATENCY: _finite(obs.hardware.get(LATENCY)),
                        "train_seconds": _finite(obs.train_seconds),
                    },
                    "source": obs.source,
                }
            )
            bar.update(1)
    bar.close()
    if isinstance(hardware, LatencyModel):
        _time_like_the_lut(rows, hardware, space)
    return rows


def _time_like_the_lut(rows: list[dict[str, Any]], hardware: LatencyModel, space: Any) -> None:
    """Add each find's latency timed as the lookup table times (e.g. fastest of 30 forwards).

    The builder's latency is a median taken while training; on a busy machine that is several
    times what the table predicts, so a constraint is judged on this measurement instead.
    """
    from tabular.latency_lut import measure_network_ms

    timed: dict[str, float] = {}
    for row in rows:
        if row["arch"] not in timed:
            timed[row["arch"]] = measure_network_ms(hardware.lut, space.from_str(row["arch"]))
        row["measured"][LATENCY_AT_LUT] = timed[row["arch"]]


def _finite(value: float | None) -> float:
    return float(value) if value is not None and math.isfinite(value) else math.nan
