"""The report's plots (matplotlib, PNG, Agg backend); each returns the file it wrote.

Every plot labels its axes with units and has a legend, so it can be read on its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from suite.runner.spec import RunResult


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def anytime_curve(run: RunResult, grid: np.ndarray) -> np.ndarray:
    """The incumbent's reported metric at each time of ``grid`` (NaN before the first result)."""
    times = np.array([e.time for e in run.evaluations])
    values = np.array([e.incumbent_final for e in run.evaluations])
    out = np.full(grid.shape, np.nan)
    if times.size:
        index = np.searchsorted(times, grid, side="right") - 1
        seen = index >= 0
        out[seen] = values[index[seen]]
    return out


def plot_anytime(
    runs: Mapping[str, Sequence[RunResult]], path: Path, metric: str, time_unit: float = 3600.0,
    time_label: str = "simulated search time (hours)", optimum: float | None = None,
) -> Path:  # fmt: skip
    """Best-so-far reported accuracy vs simulated time: median over runs with the 25-75 % band."""
    plt = _pyplot()
    end = max((r.simulated_seconds for rs in runs.values() for r in rs), default=1.0)
    grid = np.linspace(0.0, end, 200)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, group in runs.items():
        curves = np.array([anytime_curve(r, grid) for r in group if not r.failed])
        if curves.size == 0:
            continue
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns before the first result
            counts = np.isfinite(curves).sum(axis=0)
            ok = counts >= max(1, len(curves) // 2)
            median = np.nanmedian(np.where(ok, curves, np.nan), axis=0)
            low, high = np.nanpercentile(curves, [25, 75], axis=0)
        (line,) = ax.plot(grid / time_unit, median, label=f"{name} (n={len(curves)})")
        ax.fill_between(grid / time_unit, low, high, where=ok, color=line.get_color(), alpha=0.15)
    finals = [r.final for rs in runs.values() for r in rs if not r.failed and np.isfinite(r.final)]
    if finals:  # the interesting part is near the end: show from a little below the worst final
        top = max(finals) if optimum is None else optimum
        ax.set_ylim(min(finals) - 0.25 * (top - min(finals) + 1.0), top + 0.3)
    if optimum is not None:
        ax.axhline(optimum, color="black", linestyle=":", linewidth=1, label=f"table optimum {optimum:.2f}")
    ax.set_xlabel(time_label)
    ax.set_ylabel(f"incumbent's {metric} (%)")
    ax.set_title("Best so far: median over runs, 25-75 % band")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path, plt)


def plot_pareto(
    points: np.ndarray, front: np.ndarray, path: Path, x_label: str, y_label: str,
    found: Mapping[str, np.ndarray] | None = None,
) -> Path:  # fmt: skip
    """Accuracy (y) vs a hardware cost (x): every cell in grey, the true front, the cells strategies found."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(points[:, 0], points[:, 1], s=4, color="0.75", label="cells in the table")
    order = np.argsort(front[:, 0])
    ax.step(front[order, 0], front[order, 1], where="post", color="black", label="Pareto front of the table")
    for name, cells in (found or {}).items():
        ax.scatter(cells[:, 0], cells[:, 1], s=18, label=f"final incumbents: {name}")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_xscale("log")
    ax.set_title("Accuracy vs cost")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path, plt)


def plot_predicted_vs_true(
    true: np.ndarray, predicted: np.ndarray, path: Path, label: str, title: str
) -> Path:
    """Held-out predictions against the table's values, with the identity line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(true, predicted, s=5, alpha=0.5, label="held-out cells")
    lo, hi = float(np.nanmin(true)), float(np.nanmax(true))
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=1, label="predicted = true")
    ax.set_xlabel(f"true {label} (%)")
    ax.set_ylabel(f"predicted {label} (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path, plt)


def plot_correlation_bars(
    values: Mapping[str, float], path: Path, label: str, ceiling: float | None = None
) -> Path:
    """One bar per proxy or predictor (e.g. Spearman rho), with the noise ceiling when known."""
    plt = _pyplot()
    names = list(values)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(names, [values[n] for n in names], color="tab:blue", label=label)
    if ceiling is not None:
        ax.axhline(
            ceiling, color="tab:red", linestyle="--", label=f"noise ceiling (seed vs seed) {ceiling:.2f}"
        )
    ax.set_ylabel(label)
    ax.set_xlabel("proxy")
    ax.set_ylim(min(0.0, *values.values()) if values else 0.0, 1.0)
    ax.tick_params(axis="x", rotation=45)
    ax.set_title(f"{label} with the table's accuracy")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path, plt)


def _save(fig, path: Path, plt) -> Path:  # type: ignore[no-untyped-def]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
