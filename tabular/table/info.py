"""Summaries of a table and of one architecture's record (what ``nasuite table info/query`` print)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tabular.table.schema import SEED_MEAN, RunStatus, parse_metric
from tabular.table.stats import accuracy_spread, seed_agreement
from tabular.table.table import Table

ACCURACY_QUANTITIES = ("test", "valid", "train")


def table_info(table: Table, path: object = None) -> dict[str, Any]:
    """Counts, datasets, metrics with coverage, optimum per accuracy metric, provenance."""
    return {
        "path": None if path is None else str(path),
        "schema_version": table.raw.root_attrs.get("schema_version"),
        "space": table.space.name,
        "space_hash": table.raw.root_attrs.get("space_hash"),
        "space_size": table.space.size,
        "checksum": table.checksum,
        "rows": table.n_rows,
        "sample": table.raw.root_attrs.get("sample"),
        "isomorphism_classes": int(np.unique(table.iso_class).size),
        "degenerate": int(table.degenerate.sum()),
        "ids": table.id_names(),
        "datasets": {d: _dataset_info(table, d) for d in table.datasets},
        "hardware": {h: _hardware_info(table, h) for h in table.hardware_names()},
        "zero_cost": {d: table.zero_cost_names(d) for d in table.datasets if table.zero_cost_names(d)}
        | {d: table.zero_cost_names(d) for d in _zero_cost_datasets(table) if d not in table.datasets},
        "curves": table.curve_groups(),
        "build": _build_summary(table),
        "provenance": table.provenance,
    }


def sitting_memory_format(session: dict[str, Any], space: Any) -> str:
    """The memory format a build sitting trained in.

    Sittings from before the format was recorded trained contiguous, except in spaces whose
    networks fix their own layout.
    """
    return str(session.get("memory_format") or space.fixed_memory_format or "contiguous")


def _build_summary(table: Table) -> dict[str, Any] | None:
    prov = table.provenance
    if prov.get("kind") != "built":
        return None
    sessions = prov.get("sessions", [])
    return {
        "budget": prov.get("budget", {}).get("name"),
        "budget_settings": prov.get("budget"),
        "dataset_fingerprint": prov.get("dataset", {}).get("fingerprint"),
        "sessions": len(sessions),
        "total_wall_seconds": prov.get("total_wall_seconds"),
        "commands": sorted({s.get("command", "") for s in sessions}),
        "ran_on": _ran_on(sessions, table.space),
    }


def _ran_on(sessions: list[dict[str, Any]], space: Any) -> list[dict[str, Any]]:
    """Sittings and runs per (CPU, device, workers, threads, memory format): what a run's
    numbers and train time depend on besides its settings."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for s in sessions:
        how = {
            "cpu": s.get("host", {}).get("cpu", "unknown"),
            "device": s.get("device"),
            "workers": s.get("workers"),
            "threads_per_worker": s.get("threads_per_worker"),
            "memory_format": sitting_memory_format(s, space),
        }
        group = groups.setdefault(tuple(how.values()), {**how, "sittings": 0, "runs": 0})
        group["sittings"] += 1
        group["runs"] += int(s.get("runs", 0))
    return list(groups.values())


def _zero_cost_datasets(table: Table) -> list[str]:
    return sorted({p.split("/")[1] for p in table.raw.arrays if p.startswith("zero_cost/")})


def _dataset_info(table: Table, dataset: str) -> dict[str, Any]:
    attrs = table.raw.group_attrs.get(f"metrics/{dataset}", {})
    metrics = table.metric_names(dataset)
    status = table.status(dataset)
    info: dict[str, Any] = {
        "seeds": ["mean" if s == SEED_MEAN else s for s in table.seeds(dataset)],
        "epochs": table.epochs(dataset),
        "schedule": attrs.get("schedule", []),
        "split_source": table.split_source(dataset),
        "metrics": metrics,
        "coverage": {m: int(np.isfinite(table.metric(dataset, m)).sum()) for m in metrics},
        "runs": {s.name.lower(): int((status == s).sum()) for s in RunStatus if (status == s).any()},
        "classes_trained": {
            str(seed): int(np.unique(table.iso_class[status[:, i] == RunStatus.OK]).size)
            for i, seed in enumerate(table.seeds(dataset))
        },
        "optimum": {},
    }
    final = final_test_metric(table, dataset, metrics)
    if final and len(table.seeds(dataset)) >= 2 and (status == RunStatus.OK).any():
        seeds = tuple(s for s in table.seeds(dataset) if s >= 0)[:2]
        if len(seeds) == 2:
            info["seed_agreement"] = seed_agreement(
                table, dataset, final, (seeds[0], seeds[1]), rng=np.random.default_rng(0)
            )
        info["spread"] = {final: accuracy_spread(table, dataset, final)}
    for name in metrics:
        if parse_metric(name).quantity in ACCURACY_QUANTITIES:
            rows, best = table.optima(dataset, name)
            info["optimum"][name] = {
                "value": round(best, 4),
                **_arch_ids(table, rows[0]),
                "class_size": int((table.iso_class == table.iso_class[rows[0]]).sum()),
                # isomorphic cells share values by construction; list only other classes
                "ties": [_arch_ids(table, r) for r in _one_per_class(table, rows)[1:]],
            }
    return info


def final_test_metric(table: Table, dataset: str, metrics: list[str]) -> str | None:
    """The test accuracy at the last epoch the table has, e.g. ``test@2``."""
    tests = [m for m in metrics if parse_metric(m).quantity == "test"]
    return max(tests, key=lambda m: parse_metric(m).epoch) if tests else None


def _one_per_class(table: Table, rows: list[int]) -> list[int]:
    seen: set[int] = set()
    out = []
    for row in rows:
        if int(table.iso_class[row]) not in seen:
            seen.add(int(table.iso_class[row]))
            out.append(row)
    return out


def _hardware_info(table: Table, name: str) -> dict[str, Any]:
    values = table.hardware(name)
    finite = values[np.isfinite(values)]
    attrs = table.hardware_attrs(name)
    summary = {"unit": attrs.get("unit"), "count": int(finite.size), "source": attrs.get("source")}
    if finite.size:
        summary |= {
            "min": float(finite.min()),
            "median": float(np.median(finite)),
            "max": float(finite.max()),
        }
    return summary


def _arch_ids(table: Table, row: int) -> dict[str, Any]:
    out: dict[str, Any] = {"arch": table.strings[row], "index": int(table.arch_index[row])}
    for name in table.id_names():
        out[name] = int(table.ids(name)[row])
    return out


def arch_record(table: Table, row: int, dataset: str | None = None) -> dict[str, Any]:
    """Everything the table holds about one row, per dataset and seed."""
    datasets = table.datasets if dataset is None else [dataset]
    record: dict[str, Any] = {
        **_arch_ids(table, row),
        "row": row,
        "iso_class": int(table.iso_class[row]),
        "degenerate": bool(table.degenerate[row]),
        "datasets": {},
        "hardware": {
            h: float(table.hardware(h)[row])
            for h in table.hardware_names()
            if np.isfinite(table.hardware(h)[row])
        },
        "zero_cost": {},
    }
    for d in datasets:
        seeds = table.seeds(d)
        entry: dict[str, Any] = {}
        for name in table.metric_names(d):
            _, by_seed = table.metric_by_seed(d, name)
            per_seed = {
                ("mean" if s == SEED_MEAN else str(s)): float(v)
                for s, v in zip(seeds, by_seed[row], strict=True)
                if np.isfinite(v)
            }
            if per_seed:
                entry[name] = {"value": float(table.metric(d, name)[row]), "by_seed": per_seed}
        record["datasets"][d] = entry
    for d in _zero_cost_datasets(table):
        if dataset is None or d == dataset:
            scores = {p: float(table.zero_cost(d, p)[row]) for p in table.zero_cost_names(d)}
            record["zero_cost"][d] = {p: v for p, v in scores.items() if np.isfinite(v)}
    return record


def format_info(info: dict[str, Any]) -> str:
    lines = [
        f"table {info['path']}  (schema v{info['schema_version']}, space {info['space']}, "
        f"{info['rows']} rows, {info['isomorphism_classes']} isomorphism classes, "
        f"{info['degenerate']} degenerate)",
        f"checksum {info['checksum']}",
    ]
    if info.get("sample"):
        sampled = int(info["sample"]["archs"])
        extra = info["rows"] - sampled
        lines.append(
            f"a uniform sample of {sampled} of the space's {info['space_size']:,} architectures"
            + (f", plus {extra} trained on demand" if extra else "")
        )
    for name, d in info["datasets"].items():
        lines.append(f"\n{name}: seeds {d['seeds']}, epochs {d['epochs']}, splits {d['split_source']}")
        sparse = [m for m in d["optimum"] if d["coverage"][m] <= 10]
        if d.get("seed_agreement", {}).get("classes"):
            a = d["seed_agreement"]
            ci = a.get("kendall_tau_ci95")
            lines.append(
                f"  seed {a['seeds'][0]} vs {a['seeds'][1]} on {a['metric']} over {a['classes']} classes: "
                f"Kendall {a.get('kendall_tau', float('nan')):.3f}"
                + (f" (95% bootstrap {ci[0]:.3f}-{ci[1]:.3f})" if ci else "")
                + f", Spearman {a.get('spearman_rho', float('nan')):.3f}"
            )
        if d["classes_trained"]:
            lines.append(f"  runs {d['runs']}; classes trained per seed {d['classes_trained']}")
        for metric, opt in d["optimum"].items():
            if metric in sparse:
                continue
            ties = f" (tied with {len(opt['ties'])} more)" if opt["ties"] else ""
            ids = ", ".join(f"{k} {opt[k]}" for k in info["ids"])
            lines.append(
                f"  best {metric:<14} {opt['value']:8.4f}  coverage {d['coverage'][metric]:>6}  "
                f"[{ids}] {opt['arch']}{ties}"
            )
        if sparse:
            lines.append(
                f"  ({len(sparse)} more accuracy metrics cover under 10% of rows: {', '.join(sparse)})"
            )
    if info.get("build"):
        b = info["build"]
        lines.append(
            f"\nbuilt with budget {b['budget']}{_budget_details(b.get('budget_settings'))} in "
            f"{b['sessions']} session(s), {b['total_wall_seconds']} s of wall time"
        )
        for g in b.get("ran_on", []):
            lines.append(
                f"  {g['runs']} runs in {g['sittings']} sitting(s) on {g['cpu']} ({g['device']}, "
                f"{g['workers']} worker(s) x {g['threads_per_worker']} thread(s), {g['memory_format']})"
            )
    if info["hardware"]:
        lines.append(f"\nhardware: {', '.join(info['hardware'])}")
    for d, names in info["zero_cost"].items():
        lines.append(f"zero-cost {d}: {', '.join(names)}")
    if info["curves"]:
        lines.append(f"curves: {', '.join(info['curves'])}")
    prov = info["provenance"]
    for src in prov.get("sources", []):
        lines.append(f"source: {src.get('file')}  {src.get('what', '')}")
    for note in prov.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)


def format_record(record: dict[str, Any]) -> str:
    head = {k: v for k, v in record.items() if k not in ("datasets", "hardware", "zero_cost")}
    lines = [" ".join(f"{k}={v}" for k, v in head.items())]
    for d, metrics in record["datasets"].items():
        lines.append(f"{d}:")
        for name, entry in metrics.items():
            seeds = ", ".join(f"{s}: {v:.4g}" for s, v in entry["by_seed"].items())
            lines.append(f"  {name:<18} {entry['value']:10.4f}   ({seeds})")
    if record["hardware"]:
        lines.append("hardware: " + ", ".join(f"{k}={v:.4g}" for k, v in record["hardware"].items()))
    for d, scores in record["zero_cost"].items():
        lines.append(f"zero-cost {d}: " + ", ".join(f"{k}={v:.4g}" for k, v in scores.items()))
    return "\n".join(lines)


def _budget_details(settings: dict[str, Any] | None) -> str:
    """The settings that tell two builds under one preset name apart, e.g. after ``--train-size``."""
    if not settings:
        return ""
    images = "all" if settings.get("train_size") is None else settings["train_size"]
    return (
        f" ({settings['epochs']} epochs, C={settings['channels']} N={settings['cells_per_stage']}, "
        f"{settings['resolution']}x{settings['resolution']}, {images} training images, "
        f"batch {settings['batch_size']}, lr {settings['lr']})"
    )
