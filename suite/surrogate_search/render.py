"""The surrogate-search report as Markdown (the JSON holds every number)."""

from __future__ import annotations

import math
from typing import Any


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _code(arch: str) -> str:
    """An architecture string as inline code in a table cell (its ``|`` would split the cell)."""
    return "`" + arch.replace("|", "\\|") + "`"


def render_markdown(result: dict[str, Any]) -> str:
    settings, table, quality = result["settings"], result["table"], result["surrogate"]
    search, report = settings["search"], settings["report"]
    epoch = table["epochs"]
    lines = [
        f"# Surrogate search on `{table['path']}`",
        "",
        f"Space `{table['space']}` ({table['space_size']:,} architectures), {table['dataset']}, "
        f"{epoch} epochs. Surrogate `{quality['model']}` {quality['model_kwargs']} fitted on "
        f"{quality['train']} sampled architectures and scored on {quality['held_out']} held out; "
        f"the searched surrogate is refitted on all {quality['sample']}.",
        "",
        "## Surrogate on held-out architectures",
        "",
        "| metric | Kendall τ | Spearman ρ | R² | RMSE | bias | 95th pct residual |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in (f"{search}@{epoch}", f"{report}@{epoch}"):
        q = quality[name]
        lines.append(
            f"| {name} | {_f(q['kendall_tau'], 3)} | {_f(q['spearman_rho'], 3)} | {_f(q['r2'], 3)} | "
            f"{_f(q['rmse'])} | {_f(q['bias'])} | {_f(q['residual_q95'])} |"
        )
    ceiling = quality.get("noise_ceiling")
    if ceiling:
        share = quality[f"{report}@{epoch}"].get("fraction_of_ceiling", {})
        lines += [
            "",
            f"Noise ceiling ({report}@{epoch}, seed {ceiling['seeds'][0]} vs {ceiling['seeds'][1]} over "
            f"{ceiling['classes']} architectures): Kendall τ {_f(ceiling['kendall_tau'], 3)}, "
            f"R² {_f(ceiling['r2'], 3)}; the surrogate reaches {_f(share.get('kendall_tau'), 2)} of the "
            "ceiling's τ."
            if ceiling["kendall_tau"] > 0.1
            else f"Noise ceiling τ {_f(ceiling['kendall_tau'], 3)}: the training runs barely rank these "
            "architectures, so no predictor can.",
        ]
    best = result["sample_best"]
    lines += [
        "",
        f"Best sampled architecture by {search}: `{best['arch']}` ({search} {_f(best[f'{search}@{epoch}'])}, "
        f"{report} {_f(best[f'{report}@{epoch}'])}).",
        "",
        f"## Strategies ({len(settings['seeds'])} seeds, "
        f"{result['budget_seconds']:.0f} simulated seconds each)",
        "",
        f"| strategy | evaluations | best predicted {search} | verified | mean gap (pred − meas) | "
        f"threshold | exploited | best measured {report} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in result["strategies"]:
        lines.append(
            f"| {s['strategy']} | {_f(s['evaluations_mean'], 0)} | {_f(s['predicted_best'])} | "
            f"{s['verified']} | {_f(s['mean_gap'])} | {_f(s['exploitation_threshold'])} | "
            f"{'yes' if s['exploited'] else 'no'} | {_f(s['best_measured_report'])} |"
        )
    lines += [
        "",
        "## Verified finds",
        "",
        f"| strategy | arch | seed | predicted {search} | measured {search} | predicted {report} | "
        f"measured {report} | predicted latency ms | measured latency ms (builder / as the LUT) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in result["verified"]:
        p, m = v["predicted"], v["measured"]
        lines.append(
            f"| {v['strategy']} | {_code(v['arch'])} | {v['verify_seed']} | {_f(p[search])} | "
            f"{_f(m[search])} | {_f(p[report])} | {_f(m[report])} | {_f(p.get('latency_ms:cpu_b1'), 3)} | "
            f"{_f(m.get('latency_ms:cpu_b1'), 3)} / {_f(m.get('latency_ms:cpu_b1@lut'), 3)} |"
        )
    lut = result.get("latency_lut")
    if lut and lut.get("archs"):
        lines += [
            "",
            "## Latency lookup table",
            "",
            f"Over {lut['archs']} sampled networks: median relative error "
            f"{_f(100 * lut['median_relative_error'], 1)} %, "
            f"worst {_f(100 * lut['worst_relative_error'], 1)} % (`{lut['worst_arch']}`).",
        ]
    return "\n".join(lines) + "\n"
