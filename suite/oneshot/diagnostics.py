"""What users look at to see a one-shot search work (or collapse): per-epoch records and a plot.

Per epoch: the softmax of the architecture parameters on each edge, the cell derived at that
epoch (argmax per edge), and the supernet's train/valid loss and accuracy. On NAS-Bench-201,
DARTS's collapse shows as the ``skip_connect`` share of every edge rising epoch after epoch
(Dong & Yang, ICLR 2020, figure 7; Zela et al., ICLR 2020, "Understanding and Robustifying
Differentiable Architecture Search").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tabular.spaces.nb201 import EDGES, OPS


@dataclass
class History:
    """Per-epoch records of one search (plain JSON types)."""

    epochs: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        epoch: int,
        *,
        train_loss: float,
        train_acc: float,
        valid_loss: float,
        valid_acc: float,
        seconds: float,
        alpha_softmax: np.ndarray | None = None,
        derived: str | None = None,
        **extra: Any,
    ) -> None:
        record: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": float(train_loss),
            "train_acc": float(train_acc),
            "valid_loss": float(valid_loss),
            "valid_acc": float(valid_acc),
            "seconds": float(seconds),
            "derived": derived,
            "alpha_softmax": None if alpha_softmax is None else np.asarray(alpha_softmax).round(6).tolist(),
        }
        record.update(extra)
        self.epochs.append(record)

    def alphas(self) -> np.ndarray:
        """``(epochs, edges, ops)`` softmax over the epochs that recorded one."""
        rows = [r["alpha_softmax"] for r in self.epochs if r.get("alpha_softmax") is not None]
        return np.asarray(rows, dtype=float).reshape(len(rows), len(EDGES), len(OPS))

    def to_list(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.epochs]


def save_diagnostics(history: History, folder: str | Path, stem: str = "oneshot") -> dict[str, str]:
    """Write ``<stem>-history.json``, ``<stem>-alphas.npz`` and (with alphas) ``<stem>-alphas.png``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"history": str(out / f"{stem}-history.json")}
    with open(paths["history"], "w") as f:
        json.dump(
            {"ops": list(OPS), "edges": [list(e) for e in EDGES], "epochs": history.to_list()}, f, indent=1
        )
    alphas = history.alphas()
    if len(alphas):
        paths["alphas"] = str(out / f"{stem}-alphas.npz")
        np.savez(paths["alphas"], alpha_softmax=alphas, ops=np.array(OPS), edges=np.array(EDGES))
        paths["plot"] = str(out / f"{stem}-alphas.png")
        plot_alphas(history, paths["plot"])
    return paths


def plot_alphas(history: History, path: str | Path, title: str = "") -> None:
    """One panel per edge: each op's softmax weight over the epochs, plus the supernet's curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    alphas = history.alphas()
    epochs = [r["epoch"] for r in history.epochs if r.get("alpha_softmax") is not None]
    fig, axes = plt.subplots(2, 4, figsize=(14, 6), constrained_layout=True)
    for e, (i, j) in enumerate(EDGES):
        ax = axes.flat[e]
        for o, op in enumerate(OPS):
            ax.plot(epochs, alphas[:, e, o], marker=".", label=op)
        ax.set_title(f"edge {i}->{j}")
        ax.set_xlabel("epoch")  # y autoscaled: early DARTS weights move by thousandths
    axes.flat[0].set_ylabel("softmax(alpha)")
    axes.flat[0].legend(fontsize=7)
    share = axes.flat[6]
    share.plot(epochs, alphas[:, :, OPS.index("skip_connect")].mean(1), marker=".", color="k")
    share.set_title("mean skip_connect weight")
    curves = axes.flat[7]
    all_epochs = [r["epoch"] for r in history.epochs]
    for key in ("train_acc", "valid_acc"):
        values = [r[key] if math.isfinite(r[key]) else np.nan for r in history.epochs]
        curves.plot(all_epochs, values, marker=".", label=key)
    curves.set_title("supernet accuracy (%)")
    curves.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
