"""What a build trains: its settings (``BuildSpec``) and the ordered list of runs.

Cells are visited in a seeded random order of their isomorphism classes, so a table that is
still growing is a uniform sample of the space; ``--archs N`` takes the first N classes of that
order, and a later build with more archs or seeds extends the same order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tabular.budget import TrainBudget
from tabular.errors import BuildError
from tabular.spaces import SearchSpace


@dataclass(frozen=True)
class BuildSpec:
    """Everything that determines a table's content (not how fast it is built)."""

    space: str
    dataset: str
    budget: TrainBudget
    seeds: int = 1
    archs: int | None = None  #: None = every isomorphism class (or the whole sample)
    order_seed: int = 0
    data_root: str | None = None
    split_seed: int = 0

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise BuildError(f"seeds must be >= 1, got {self.seeds}")
        if self.archs is not None and self.archs < 1:
            raise BuildError(f"archs must be 'all' or >= 1, got {self.archs}")

    def identity(self) -> dict[str, Any]:
        """The part that must match when a build resumes or extends a table."""
        return {
            "space": self.space,
            "dataset": self.dataset,
            "budget": asdict(self.budget),
            "order_seed": self.order_seed,
            "split_seed": self.split_seed,
        }


@dataclass(frozen=True)
class Job:
    """Train the class representative ``index`` with ``seed``."""

    index: int
    seed: int


def class_order(space: SearchSpace, order_seed: int, sample_size: int | None) -> np.ndarray:
    """Our indices of the cells to train, in build order (non-degenerate representatives)."""
    rng = np.random.default_rng(order_seed)
    if space.enumerable and space.size <= 10_000_000:
        every = space.all_archs()
        if hasattr(space, "canonical_indices"):
            reps = np.unique(space.canonical_indices())
        else:
            reps = np.arange(space.size)
        alive = np.array([not space.is_degenerate(tuple(int(v) for v in every[i])) for i in reps])
        return rng.permutation(reps[alive])
    if sample_size is None:
        raise BuildError(f"space {space.name} has {space.size} architectures; give --archs N to sample N")
    sample = space.indices(space.sample_many(rng, 4 * sample_size))
    _, first = np.unique(sample, return_index=True)
    return sample[np.sort(first)]


def plan_jobs(order: np.ndarray, spec: BuildSpec, done: set[tuple[int, int]]) -> list[Job]:
    """Runs still to do: the first ``spec.archs`` classes x seeds ``0..spec.seeds-1``, class-major."""
    chosen = order if spec.archs is None else order[: spec.archs]
    if spec.archs is not None and spec.archs > len(order):
        raise BuildError(f"--archs {spec.archs} exceeds the {len(order)} trainable cells of {spec.space}")
    return [Job(int(i), s) for i in chosen for s in range(spec.seeds) if (int(i), s) not in done]
