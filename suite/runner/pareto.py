"""Pareto fronts over evaluated cells (accuracy up, hardware cost down)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from suite.benchmarks.base import Objective
from suite.runner.spec import Evaluation


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``points`` (larger is better in every column) no other row dominates."""
    points = np.asarray(points, dtype=float)
    keep = np.ones(len(points), dtype=bool)
    for i in range(len(points)):
        if not keep[i]:
            continue
        dominates_i = np.all(points >= points[i], axis=1) & np.any(points > points[i], axis=1)
        if dominates_i.any():
            keep[i] = False
    return keep


def pareto_front(evaluations: Sequence[Evaluation], objectives: Sequence[Objective]) -> list[dict[str, Any]]:
    """The distinct evaluated cells on the front, sorted by the second objective (if any)."""
    if len(objectives) < 2 or not evaluations:
        return []
    best: dict[str, Evaluation] = {}
    top = max(e.fidelity for e in evaluations)
    for e in evaluations:
        better = e.arch not in best or e.values[0] > best[e.arch].values[0]
        if e.fidelity == top and np.all(np.isfinite(e.values)) and better:
            best[e.arch] = e
    if not best:
        return []
    cells = list(best.values())
    signs = np.array([-1.0 if o.minimise else 1.0 for o in objectives])
    mask = non_dominated(np.array([e.values for e in cells]) * signs)
    front = [cells[i] for i in np.flatnonzero(mask)]
    front.sort(key=lambda e: e.values[1])
    names = [o.name for o in objectives]
    return [{"arch": e.arch, **dict(zip(names, e.values, strict=True))} for e in front]
