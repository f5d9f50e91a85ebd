"""What a build trains: its settings (``BuildSpec``) and the ordered list of runs.

Cells are visited in a seeded random order of their isomorphism classes, so a table that is
still growing is a uniform sample of the space; ``--archs N`` takes the first N classes of that
order, and a later build with more archs or seeds extends the same order.

A space too large to list (the macro kernel-size space has 3^16 architectures) is sampled
instead: architectures drawn uniformly, in fixed-size blocks from the seeded generator, so the
first N of a sample of N + M are the sample of N and a sample table can grow.
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
    archs: int | None = None  #: None = every isomorphism class; a sampled space needs a number
    order_seed: int = 0
    data_root: str | None = None
    split_seed: int = 0

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise BuildError(f"seeds must be >= 1, got {self.seeds}")
        if self.archs is not None and self.archs < 0:  # 0: an empty table, trained into later
            raise BuildError(f"archs must be 'all' or >= 0, got {self.archs}")

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
    return sample_order(space, rng, sample_size)


SAMPLE_BLOCK = 1024  #: draws per block; fixed, so a longer sample extends a shorter one


def is_sampled(space: SearchSpace) -> bool:
    """True when a build trains a sample of ``space`` rather than listing it."""
    return not (space.enumerable and space.size <= 10_000_000)


def sample_order(space: SearchSpace, rng: np.random.Generator, size: int) -> np.ndarray:
    """The first ``size`` distinct non-degenerate architectures of a uniform stream (our indices)."""
    seen: set[int] = set()
    order: list[int] = []
    draws = 0
    while len(order) < size:
        if draws > 100 * size + 10 * SAMPLE_BLOCK:
            raise BuildError(f"cannot draw {size} distinct trainable architectures from {space.name}")
        block = space.sample_many(rng, SAMPLE_BLOCK)
        draws += SAMPLE_BLOCK
        for index, arch in zip(space.indices(block).tolist(), block.tolist(), strict=True):
            if index not in seen and not space.is_degenerate(tuple(arch)):
                seen.add(index)
                order.append(index)
                if len(order) == size:
                    break
    return np.asarray(order, dtype=np.int64)


def plan_jobs(order: np.ndarray, spec: BuildSpec, done: set[tuple[int, int]]) -> list[Job]:
    """Runs still to do: the first ``spec.archs`` classes x seeds ``0..spec.seeds-1``, class-major."""
    chosen = order if spec.archs is None else order[: spec.archs]
    if spec.archs is not None and spec.archs > len(order):
        raise BuildError(f"--archs {spec.archs} exceeds the {len(order)} trainable cells of {spec.space}")
    return [Job(int(i), s) for i in chosen for s in range(spec.seeds) if (int(i), s) not in done]
