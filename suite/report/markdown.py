"""Writes ``report.md``, its plots and the CSV/Parquet/JSON exports of ``nasuite run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from suite.clock import BASELINES, gpu_days
from suite.jsonable import to_jsonable
from suite.report import plots
from suite.report.exports import times_cheaper_columns, write_table
from suite.runner.pareto import non_dominated
from suite.runner.results import write_results
from suite.runner.summary import WITHIN, summarise


def write_report(
    settings: Any, benchmark: Any, budget: float, searched: dict[str, Any], sections: dict[str, Any]
) -> tuple[dict[str, Any], list[Path]]:
    from suite.conversion import conversion_for

    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    table, dataset, metric = benchmark.table, settings.dataset, sections["metric"]
    report_metric = f"test@{max(benchmark.fidelities)}"
    conversion = conversion_for(table, dataset)
    optimum = float(np.nanmax(benchmark.metric_by_index(report_metric)[benchmark.available_by_index()]))
    runs = searched["runs"]
    summaries = summarise(runs, optimum, conversion.speedup)
    files = list(write_results(out, [(str(settings.table), r) for r in runs], _protocol(settings, budget)))
    files += _summary_tables(out, summaries)
    oneshot = sections.get("oneshot")
    if oneshot is not None:
        from suite.report.oneshot_part import COLUMNS

        files += write_table(out, "oneshot", oneshot.rows(), COLUMNS)
    by_strategy = {n: [r for r in runs if r.strategy == n] for n in searched["names"]}
    files.append(
        plots.plot_anytime(
            by_strategy,
            out / "anytime.png",
            report_metric,
            optimum=optimum,
            time_unit=3600.0,
            time_label="simulated search time (CPU hours)",
        )
    )
    files.append(_pareto(benchmark, settings.latency, report_metric, by_strategy, out / "pareto.png"))
    surrogate, proxies, build = sections["surrogate"], sections["proxies"], sections["build"]
    files.append(
        plots.plot_predicted_vs_true(
            surrogate.true,
            surrogate.predicted,
            out / "surrogate.png",
            metric,
            f"{surrogate.model}, {surrogate.train_cells} training cells",
        )
    )
    if proxies.spearman:
        files.append(
            plots.plot_correlation_bars(
                proxies.spearman, out / "proxies.png", "|Spearman rho|", proxies.ceiling
            )
        )
    payload = {
        "table": str(settings.table),
        "dataset": dataset,
        "budget_seconds": budget,
        "optimum": {"metric": report_metric, "value": optimum},
        "cost_conversion": conversion.__dict__,
        "summary": [s.as_dict() for s in summaries],
        "failures": [{"strategy": r.strategy, "seed": r.seed, "error": r.error} for r in runs if r.failed],
        "surrogate": {
            "model": surrogate.model,
            "train_cells": surrogate.train_cells,
            "test_cells": surrogate.test_cells,
            "scores": surrogate.scores,
            "ceiling": surrogate.ceiling,
        },
        "proxies": {"spearman_abs": proxies.spearman, "cells": proxies.cells, "ceiling": proxies.ceiling},
        "build": {**build.__dict__, "gpu_days": gpu_days(build.train_seconds, conversion.speedup)},
    }
    if oneshot is not None:
        cells = {"scored": int(benchmark.available_by_index().sum()), "space": benchmark.space.size}
        payload["oneshot"] = {**oneshot.as_dict(), "table_cells": cells}
    files.append(_markdown(out / "report.md", payload, summaries, settings, oneshot))
    (out / "report.json").write_text(json.dumps(to_jsonable(payload), indent=1, allow_nan=False) + "\n")
    files.append(out / "report.json")
    return payload, files


def _protocol(settings: Any, budget: float) -> dict[str, Any]:
    return {
        "job": "nasuite run",
        "table": str(settings.table),
        "dataset": settings.dataset,
        "search": settings.search,
        "budget_seconds": budget,
        "runs": settings.runs,
    }


def _summary_tables(out: Path, summaries: list[Any]) -> list[Path]:
    """``summary.csv`` and ``summary.parquet``: one row per strategy, dicts flattened to columns."""
    rows = []
    for s in summaries:
        row = {k: v for k, v in s.__dict__.items() if k != "evaluations_within"}
        row.update(times_cheaper_columns(s.gpu_days_median))
        row.update({f"evaluations_within_{g}": s.evaluations_within[g] for g in WITHIN})
        rows.append(row)
    kinds = {"strategy": "string", "runs": "int64", "failed": "int64"}
    columns = {k: kinds.get(k, "float64") for k in rows[0]} if rows else {"strategy": "string"}
    return write_table(out, "summary", rows, columns)


def _pareto(benchmark: Any, latency: str, metric: str, by_strategy: dict[str, list[Any]], path: Path) -> Path:
    have = benchmark.available_by_index()
    x, y = benchmark.hardware_by_index(latency), benchmark.metric_by_index(metric)
    keep = have & np.isfinite(x) & np.isfinite(y)
    points = np.column_stack([x[keep], y[keep]])
    front = points[non_dominated(np.column_stack([-points[:, 0], points[:, 1]]))]
    found = {}
    for name, runs in by_strategy.items():
        cells = [
            benchmark.space.index(benchmark.space.from_str(r.evaluations[-1].incumbent))
            for r in runs
            if r.evaluations and r.evaluations[-1].incumbent
        ]
        if cells:
            found[name] = np.column_stack([x[cells], y[cells]])
    return plots.plot_pareto(
        points, front, path, f"{latency} (ms, this machine's CPU)", f"{metric} (%)", found
    )


def _markdown(
    path: Path, payload: dict[str, Any], summaries: list[Any], settings: Any, oneshot: Any = None
) -> Path:
    conv = payload["cost_conversion"]
    lines = [
        "# nasuite run",
        "",
        f"Table `{payload['table']}` ({payload['dataset']}); search budget {payload['budget_seconds']:.0f} "
        f"simulated seconds per run, {settings.runs} runs per strategy; optimum "
        f"{payload['optimum']['metric']} = {payload['optimum']['value']:.3f}.",
        "",
        "## Search",
        "",
        "| strategy | runs (failed) | final " + payload["optimum"]["metric"] + " | regret | evaluations | "
        "GPU-days | x cheaper than NASNet (2000) | x AmoebaNet (3150) | evals to within 0.1 / 0.5 / 1.0 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        days = s.gpu_days_median
        within = " / ".join(_count(s.evaluations_within[g]) for g in WITHIN)
        lines.append(
            f"| {s.strategy} | {s.runs} ({s.failed}) | {s.final_mean:.3f} ± {s.final_std:.3f} | "
            f"{s.regret_mean:.3f} | {s.evaluations_median:.0f} | {days:.2e} | {_ratio(2000, days)} | "
            f"{_ratio(3150, days)} | {within} |"
        )
    others = ", ".join(f"{b.name} {b.gpu_days:g}" for b in BASELINES)
    build = payload["build"]
    lines += [
        "",
        f"Assumptions: {conv['assumption']}. Baselines (GPU-days): {others}. Evaluations to get within "
        "x points of the optimum: median over runs (inf: most runs never got there); the count does "
        "not depend on any device.",
        "",
    ]
    if oneshot is not None:
        lines += _oneshot_lines(oneshot, payload["optimum"]["metric"], payload["oneshot"]["table_cells"])
    lines += [
        f"Building the table cost {build['runs']} training runs, "
        f"{build['train_seconds'] / 3600:.1f} CPU hours "
        f"of training ({build['gpu_days']:.3f} GPU-days by the same conversion); one search above costs the "
        "median GPU-days in its row, so the table pays for itself after "
        f"{_amortise(build['gpu_days'], summaries)} searches.",
        "",
        "![anytime](anytime.png)",
        "",
        "![pareto](pareto.png)",
        "",
        "## Estimating without training",
        "",
        f"Surrogate {payload['surrogate']['model']} on {payload['surrogate']['train_cells']} classes, "
        f"held-out {payload['surrogate']['test_cells']}: "
        + _scores(payload["surrogate"]["scores"])
        + "; noise ceiling (seed vs seed): "
        + _scores(payload["surrogate"]["ceiling"])
        + ".",
        "",
        "![surrogate](surrogate.png)",
        "",
        "| proxy | abs Spearman rho |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v:.3f} |" for k, v in sorted(payload["proxies"]["spearman_abs"].items())]
    if payload["proxies"]["spearman_abs"]:
        lines += ["", "![proxies](proxies.png)"]
    failed: dict[str, str] = {}
    for failure in payload["failures"] + (oneshot.failures if oneshot is not None else []):
        failed.setdefault(failure["strategy"], failure["error"].strip().splitlines()[-1])
    if failed:
        where = "Full tracebacks are in `runs.json` (one-shot runs: `report.json`)."
        lines += ["", "## Failed runs", "", where, ""]
        lines += [f"- {name}: `{message}`" for name, message in failed.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _oneshot_lines(oneshot: Any, metric: str, cells: dict[str, int]) -> list[str]:
    """The one-shot table: one row per run, its measured cost beside the multi-trial rows'."""
    from suite.report.oneshot_part import SHORT_BUDGET

    if oneshot.skipped:
        return [f"One-shot strategies skipped: {oneshot.skipped}.", ""]
    budget = SHORT_BUDGET
    lines = [
        f"One-shot strategies train one weight-sharing supernet each for real on the table's data "
        f"({budget['epochs']} epochs of {budget['images_per_epoch']} training images, batch "
        f"{budget['batch_size']}: a short budget, so the cells show what each method derives at "
        "that budget; `nasuite oneshot` runs longer searches) and derive one cell; its accuracy is "
        "looked up in the table. Cost: measured wall time on the device.",
        "",
        f"| one-shot strategy | seed | derived cell | {metric} | regret | skip share | "
        "search seconds (device) | GPU-days | x cheaper than NASNet (2000) | x AmoebaNet (3150) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    missing = False
    for r in oneshot.results:
        if np.isfinite(r.accuracy):
            where = "" if r.accuracy_source == "table" else f" ({r.accuracy_source})"
            accuracy, regret = f"{r.accuracy:.3f}{where}", f"{r.regret:.3f}"
        else:
            missing, accuracy, regret = True, "not in the table", "n/a"
        cell = r.arch.replace("|", "\\|")  # a pipe in a table cell, even in code, needs escaping
        lines.append(
            f"| {r.strategy} | {r.seed} | `{cell}` | {accuracy} | {regret} | {r.skip_share:.2f} | "
            f"{r.search_seconds:.1f} ({r.device}) | {r.gpu_days:.2e} | {_ratio(2000, r.gpu_days)} | "
            f"{_ratio(3150, r.gpu_days)} |"
        )
    lines.append("")
    if missing:
        lines += [
            "not in the table: the table has no run of the derived cell's class (it scores "
            f"{cells['scored']:,} of {cells['space']:,} cells), so its accuracy and regret are not "
            "reported.",
            "",
        ]
    for note in sorted({r.gpu_days_assumption for r in oneshot.results}):
        lines += [f"One-shot GPU-days: {note}.", ""]
    return lines


def _count(value: float) -> str:
    return "inf" if not np.isfinite(value) else f"{value:.0f}"


def _ratio(baseline: float, days: float) -> str:
    return f"{baseline / days:,.0f}" if days > 0 else "n/a"


def _scores(scores: dict[str, Any]) -> str:
    keys = ("kendall_tau", "spearman_rho", "r2")
    return ", ".join(f"{k} {scores[k]:.3f}" for k in keys if isinstance(scores.get(k), float)) or "n/a"


def _amortise(build_days: float, summaries: list[Any]) -> str:
    days = [s.gpu_days_median for s in summaries if s.gpu_days_median > 0]
    return f"{build_days / float(np.median(days)):.0f}" if days else "n/a"
