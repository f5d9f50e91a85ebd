"""Search spaces whose architectures are fixed-length tuples of categorical choices.

An architecture (``Arch``) is a tuple of small ints, one per decision, with decision ``i``
taking values in ``range(cardinalities[i])``. That covers the NAS-Bench-201 cell (6 edges x
5 ops) and chain spaces (one kernel size per layer) alike, so sampling, mutation,
neighbours, one-hot encoding and the mixed-radix index are written once here. No torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cache

import numpy as np

from tabular.errors import ArchIndexError
from tabular.registry import Registry

Arch = tuple[int, ...]


class SearchSpace:
    """A product of categorical decisions. Subclasses set ``name`` and ``cardinalities``."""

    name: str = ""
    cardinalities: tuple[int, ...] = ()
    #: the memory format this space's networks always train in, or None: the caller chooses
    fixed_memory_format: str | None = None

    # ---- size and index -------------------------------------------------------------
    @property
    def n_decisions(self) -> int:
        return len(self.cardinalities)

    @property
    def size(self) -> int:
        return int(np.prod(self.cardinalities, dtype=object))

    @property
    def enumerable(self) -> bool:
        """True when every architecture can be listed (the index fits in int64)."""
        return self.size < 2**62

    def _radix_weights(self) -> np.ndarray:
        return _radix_weights(tuple(self.cardinalities))

    def index(self, arch: Arch) -> int:
        """Our index of ``arch`` in ``0..size-1`` (mixed radix, decision 0 most significant)."""
        arch = self.validate(arch)
        # plain Python: called once or more per query on hot search loops
        return sum(v * w for v, w in zip(arch, _radix_tuple(tuple(self.cardinalities)), strict=True))

    def indices(self, archs: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`index` over an ``(n, n_decisions)`` int array."""
        archs = self._check_array(archs)
        return archs.astype(np.int64) @ self._radix_weights()

    def from_index(self, index: int) -> Arch:
        return tuple(int(v) for v in self.from_indices(np.asarray([index]))[0])

    def from_indices(self, indices: np.ndarray) -> np.ndarray:
        """Decode indices into an ``(n, n_decisions)`` int8 array of choices."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            bad = idx[(idx < 0) | (idx >= self.size)][0]
            raise ArchIndexError(f"{self.name}: index {int(bad)} is outside 0..{self.size - 1}")
        card = np.asarray(self.cardinalities, dtype=np.int64)
        return ((idx[:, None] // self._radix_weights()[None, :]) % card[None, :]).astype(np.int8)

    def all_archs(self) -> np.ndarray:
        """Every architecture as an ``(size, n_decisions)`` array, in index order."""
        if not self.enumerable or self.size > 50_000_000:
            raise ArchIndexError(f"{self.name} has {self.size} architectures; too many to list")
        return self.from_indices(np.arange(self.size, dtype=np.int64))

    # ---- validation -----------------------------------------------------------------
    def validate(self, arch: Sequence[int]) -> Arch:
        if len(arch) != self.n_decisions:
            raise ArchIndexError(
                f"{self.name}: architecture {tuple(arch)!r} has {len(arch)} decisions, "
                f"expected {self.n_decisions}"
            )
        for pos, (value, card) in enumerate(zip(arch, self.cardinalities, strict=True)):
            if not (0 <= int(value) < card) or int(value) != value:
                raise ArchIndexError(
                    f"{self.name}: decision {pos} of {tuple(arch)!r} is {value!r}, "
                    f"expected an int in 0..{card - 1}"
                )
        return tuple(int(v) for v in arch)

    def _check_array(self, archs: np.ndarray) -> np.ndarray:
        archs = np.asarray(archs)
        if archs.ndim != 2 or archs.shape[1] != self.n_decisions:
            raise ArchIndexError(
                f"{self.name}: expected an (n, {self.n_decisions}) array, got shape {archs.shape}"
            )
        card = np.asarray(self.cardinalities)
        if archs.size and ((archs < 0).any() or (archs >= card[None, :]).any()):
            raise ArchIndexError(f"{self.name}: array holds choices outside {self.cardinalities}")
        return archs

    # ---- sampling and moves ---------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Arch:
        """One architecture drawn uniformly."""
        return tuple(int(rng.integers(c)) for c in self.cardinalities)

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        card = np.asarray(self.cardinalities)
        return (rng.random((n, self.n_decisions)) * card[None, :]).astype(np.int8)

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """Change one decision, chosen uniformly, to a different value chosen uniformly."""
        arch = self.validate(arch)
        pos = int(rng.integers(self.n_decisions))
        shift = int(rng.integers(1, self.cardinalities[pos]))
        new = list(arch)
        new[pos] = (arch[pos] + shift) % self.cardinalities[pos]
        return tuple(new)

    def neighbors(self, arch: Arch) -> list[Arch]:
        """Every architecture that differs from ``arch`` in exactly one decision."""
        arch = self.validate(arch)
        out: list[Arch] = []
        for pos, card in enumerate(self.cardinalities):
            for value in range(card):
                if value != arch[pos]:
                    out.append((*arch[:pos], value, *arch[pos + 1 :]))
        return out

    # ---- encodings ------------------------------------------------------------------
    def encode(self, arch: Arch) -> np.ndarray:
        """One-hot encoding, one block per decision (float32)."""
        return self.encode_many(np.asarray([self.validate(arch)]))[0]

    def encode_many(self, archs: np.ndarray) -> np.ndarray:
        archs = self._check_array(archs)
        offsets = np.concatenate([[0], np.cumsum(self.cardinalities)[:-1]]).astype(np.int64)
        out = np.zeros((archs.shape[0], int(sum(self.cardinalities))), dtype=np.float32)
        rows = np.repeat(np.arange(archs.shape[0]), self.n_decisions)
        out[rows, (archs.astype(np.int64) + offsets[None, :]).ravel()] = 1.0
        return out

    # ---- the chain view (graph encodings of spaces without their own graph) ---------
    def chain_op_names(self) -> tuple[str, ...]:
        """Names of the operations a node of :meth:`chain_ops` can carry.

        Default: one node per decision, labelled ``choice<v>`` by its value. A space whose
        decisions mean different things (a layer's kernel, a stage's width) overrides both
        methods so that a node is one layer and its label names the layer's operation.
        """
        return tuple(f"choice{v}" for v in range(max(self.cardinalities, default=0)))

    def chain_ops(self, archs: np.ndarray) -> np.ndarray:
        """The architectures as chains input -> node 0 -> ... -> output: an ``(n, n_nodes)``
        int64 array of indices into :meth:`chain_op_names` (default: the choices themselves)."""
        return self._check_array(archs).astype(np.int64)

    # ---- strings and isomorphism ----------------------------------------------------
    def to_str(self, arch: Arch) -> str:
        return "-".join(str(v) for v in self.validate(arch))

    def from_str(self, text: str) -> Arch:
        raise NotImplementedError

    def canonical(self, arch: Arch) -> Arch:
        """The representative of ``arch``'s isomorphism class (itself unless overridden)."""
        return self.validate(arch)

    def is_degenerate(self, arch: Arch) -> bool:
        """True when the network's output does not depend on its input."""
        return False

    # ---- identity -------------------------------------------------------------------
    def describe(self) -> dict[str, object]:
        """What defines the space; its hash identifies the space in a table."""
        return {"name": self.name, "cardinalities": list(self.cardinalities)}

    def space_hash(self) -> str:
        blob = json.dumps(self.describe(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


SPACES: Registry[type[SearchSpace]] = Registry("search space")


def register_space(name: str):  # type: ignore[no-untyped-def]
    """Class decorator: register a :class:`SearchSpace` subclass under ``name``."""
    return SPACES.register(name)


def get_space(name: str, **kwargs: object) -> SearchSpace:
    """Instantiate the registered space ``name``."""
    return SPACES.get(name)(**kwargs)


@cache
def _radix_weights(cardinalities: tuple[int, ...]) -> np.ndarray:
    """Mixed-radix place values; decision 0 is the most significant digit."""
    weights = np.ones(len(cardinalities), dtype=np.int64)
    for i in range(len(cardinalities) - 2, -1, -1):
        weights[i] = weights[i + 1] * cardinalities[i + 1]
    weights.setflags(write=False)
    return weights


@cache
def _radix_tuple(cardinalities: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(w) for w in _radix_weights(cardinalities))
