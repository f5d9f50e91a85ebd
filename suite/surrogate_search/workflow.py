"""The whole loop: fit on the sample, search the surrogate, verify the finds, judge exploitation.

A strategy *exploited* the surrogate when its finds are over-predicted more than the surrogate
over-predicts architectures it never saw: the mean gap (predicted - measured search metric) of
its verified finds exceeds the 95th percentile of the held-out residuals. Searching maximises
the prediction, so some optimism (the winner's curse) is expected; beyond that percentile the
strategy has steered into the surrogate's errors rather than into good networks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from suite.benchmarks.surrogate import HardwareModel
from suite.errors import SearchSettingsError
from suite.jsonable import to_jsonable
from suite.runner.spec import RunResult
from suite.surrogate_search.fit import fit_surrogate, sample_rows
from suite.surrogate_search.search import run_strategies, search_budget, top_finds
from suite.surrogate_search.settings import SurrogateSearchSettings
from suite.surrogate_search.verify import LATENCY, verify_finds
from tabular.table import Table


def run_surrogate_search(settings: SurrogateSearchSettings) -> dict[str, Any]:
    """Run the loop (module doc); writes ``surrogate-search.json`` and ``report.md`` to ``out``."""
    from suite.surrogate_search.render import render_markdown

    table = Table.open(settings.table)
    dataset = _dataset(table)
    epoch = max(table.epochs(dataset))
    hardware = _load_lut(settings, table)
    fitted = fit_surrogate(table, dataset, settings, hardware)
    seconds = table.metric(
        dataset, f"train_seconds@{epoch}", rows=sample_rows(table, dataset, f"valid@{epoch}")
    )
    budget = search_budget(float(np.nanmedian(seconds)), settings.evaluations)
    runs = run_strategies(fitted.benchmark, settings, budget)
    finds = [f for s in settings.strategies for f in top_finds(runs, s, settings.verify_top)]
    verified = verify_finds(finds, fitted.benchmark, settings, hardware)
    result = {
        "settings": settings.describe(),
        "table": {
            "path": settings.table,
            "space": table.space.name,
            "space_size": int(table.space.size),
            "dataset": dataset,
            "epochs": epoch,
            "checksum": table.checksum,
        },
        "surrogate": fitted.quality,
        "sample_best": _sample_best(table, dataset, epoch, settings),
        "budget_seconds": budget,
        "strategies": [
            _strategy_summary(s, runs, verified, fitted.quality, settings) for s in settings.strategies
        ],
        "verified": verified,
    }
    if hardware is not None:
        result["latency_lut"] = lut_error(hardware, table)
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "surrogate-search.json").write_text(json.dumps(to_jsonable(result), indent=2))
    (out / "report.md").write_text(render_markdown(result))
    return result


def _dataset(table: Table) -> str:
    build = table.raw.root_attrs.get("build")
    if not build:
        raise SearchSettingsError(
            f"table {table.raw.path} records no build settings; surrogate-search needs a table made by "
            "`nasuite table build` (its budget is what verification trains with)"
        )
    return str(build["dataset"])


def _load_lut(settings: SurrogateSearchSettings, table: Table) -> HardwareModel | None:
    if not settings.lut:
        return None
    from suite.surrogate_search.hardware import load_latency_model

    return load_latency_model(settings.lut, table.space)


def _sample_best(table: Table, dataset: str, epoch: int, settings: SurrogateSearchSettings) -> dict[str, Any]:
    """The best measured architecture of the sample by the search metric (what search must beat)."""
    search, report = f"{settings.search}@{epoch}", f"{settings.report}@{epoch}"
    rows = sample_rows(table, dataset, search)
    values = table.metric(dataset, search, rows=rows)
    best = int(rows[int(np.nanargmax(values))])
    return {
        "arch": table.strings[best],
        search: float(table.metric(dataset, search)[best]),
        report: float(table.metric(dataset, report)[best]),
    }


def _strategy_summary(
    strategy: str,
    runs: Sequence[RunResult],
    verified: Sequence[dict[str, Any]],
    quality: dict[str, Any],
    settings: SurrogateSearchSettings,
) -> dict[str, Any]:
    mine = [r for r in runs if r.strategy == strategy]
    rows = [v for v in verified if v["strategy"] == strategy]
    gaps = [v["predicted"][settings.search] - v["measured"][settings.search] for v in rows]
    gaps = [g for g in gaps if math.isfinite(g)]
    metric = next(k for k in quality if k.startswith(f"{settings.search}@"))
    threshold = float(quality[metric]["residual_q95"])
    mean_gap = float(np.mean(gaps)) if gaps else math.nan
    measured = [v["measured"][settings.report] for v in rows if math.isfinite(v["measured"][settings.report])]
    return {
        "strategy": strategy,
        "runs": len(mine),
        "failed_runs": [r.seed for r in mine if r.failed],
        "errors": [r.error.strip().splitlines()[-1] for r in mine if r.error],
        "evaluations_mean": float(np.mean([len(r.evaluations) for r in mine])) if mine else 0.0,
        "predicted_best": float(np.nanmax([r.evaluations[-1].incumbent_value for r in mine if r.evaluations]))
        if any(r.evaluations for r in mine)
        else math.nan,
        "verified": len(rows),
        "mean_gap": mean_gap,
        "exploitation_threshold": threshold,
        "exploited": bool(math.isfinite(mean_gap) and mean_gap > threshold),
        "best_measured_report": max(measured) if measured else math.nan,
    }


def lut_error(hardware: HardwareModel, table: Table) -> dict[str, Any]:
    """The lookup table's relative error against the latency measured for every sampled network."""
    if LATENCY not in table.hardware_names():
        return {"archs": 0}
    measured = table.hardware(LATENCY)
    rows = np.flatnonzero(np.isfinite(measured))
    predicted = hardware.predict(table.choices[rows])[LATENCY]
    rel = np.abs(predicted - measured[rows]) / measured[rows]
    return {
        "archs": int(rows.size),
        "median_relative_error": float(np.median(rel)),
        "worst_relative_error": float(rel.max()),
        "worst_arch": table.strings[int(rows[int(np.argmax(rel))])],
    }
