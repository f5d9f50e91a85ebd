"""The NAS-Bench-201 / NATS-Bench topology space (Dong & Yang, ICLR 2020; Dong et al., TPAMI 2021).

A cell is a DAG on 4 nodes; each of the 6 edges ``i -> j`` (``i < j``) carries one of 5
operations. The standard string lists node ``j``'s incoming edges in order of ``i``:
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``. Our architecture tuple follows that order:
edges (0,1), (0,2), (1,2), (0,3), (1,3), (2,3). Our index is the mixed-radix number of that
tuple (edge (0,1) most significant); the official NB201 index is data carried by tables.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tabular.errors import ArchStringError, UnknownOpError
from tabular.spaces.base import Arch, SearchSpace, register_space

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
OP_INDEX = {op: i for i, op in enumerate(OPS)}
NONE, SKIP = OP_INDEX["none"], OP_INDEX["skip_connect"]
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
N_NODES = 4


@register_space("nb201")
class NB201Space(SearchSpace):
    """5 operations on the 6 edges of a 4-node cell: 15,625 cells, 6,466 isomorphism classes."""

    name = "nb201"
    cardinalities = (len(OPS),) * len(EDGES)
    ops = OPS
    edges = EDGES

    # ---- strings --------------------------------------------------------------------
    def to_str(self, arch: Arch) -> str:
        arch = self.validate(arch)
        nodes = []
        for j in range(1, N_NODES):
            parts = [f"{OPS[arch[e]]}~{i}" for e, (i, jj) in enumerate(EDGES) if jj == j]
            nodes.append("|" + "|".join(parts) + "|")
        return "+".join(nodes)

    def from_str(self, text: str) -> Arch:
        """Parse the standard NB201 string; raises :class:`ArchStringError` naming the problem."""
        if not isinstance(text, str):
            raise ArchStringError(f"expected an NB201 arch string, got {type(text).__name__} {text!r}")
        nodes = text.strip().split("+")
        if len(nodes) != N_NODES - 1:
            raise ArchStringError(
                f"{text!r} has {len(nodes)} nodes separated by '+', expected {N_NODES - 1} "
                f"as in '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'"
            )
        arch = [0] * len(EDGES)
        for j, node in enumerate(nodes, start=1):
            if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
                raise ArchStringError(f"node {j} of {text!r} is {node!r}; expected '|op~i|...|'")
            parts = node[1:-1].split("|")
            if len(parts) != j:
                raise ArchStringError(f"node {j} of {text!r} has {len(parts)} inputs, expected {j}")
            for i, part in enumerate(parts):
                op, sep, src = part.partition("~")
                if sep != "~" or src != str(i):
                    raise ArchStringError(
                        f"edge {part!r} of node {j} in {text!r} is malformed; expected '<op>~{i}'"
                    )
                if op not in OP_INDEX:
                    raise UnknownOpError(f"unknown op {op!r} in {text!r}; expected one of {', '.join(OPS)}")
                arch[EDGES.index((i, j))] = OP_INDEX[op]
        return tuple(arch)

    # ---- isomorphism ----------------------------------------------------------------
    def unique_str(self, arch: Arch) -> str:
        """NB201's expression form of a cell: equal strings mean isomorphic cells.

        The rule is the one NAS-Bench-201 uses to count its 6,466 unique cells (Dong & Yang
        2020): a node is the sorted sum of its inputs; ``skip_connect`` passes its input's
        expression through, ``none`` and any op on an all-zero input (``#``) give ``#``,
        other ops give ``(input)@op``. Sums commute; duplicate terms are kept, since the
        two edges carry separate weights. A sum of zeros fed to a conv stays a term
        (``(#+#)@op``), as in NB201: its BatchNorm adds a learnable bias.
        """
        return _unique_str(self.validate(arch))

    def canonical(self, arch: Arch) -> Arch:
        """The smallest-index cell with the same :meth:`unique_str`."""
        return _class_table()[1][self.index(arch)]

    def canonical_indices(self) -> np.ndarray:
        """For every index, the index of its class representative (vectorised ``canonical``)."""
        return _class_table()[0]

    def is_degenerate(self, arch: Arch) -> bool:
        """True when no path of non-``none`` edges leads from the input to the output."""
        arch = self.validate(arch)
        reach = {0}
        for e, (i, j) in enumerate(EDGES):  # EDGES are in topological order of j
            if arch[e] != NONE and i in reach:
                reach.add(j)
        return N_NODES - 1 not in reach

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "ops": list(OPS), "edges": [list(e) for e in EDGES]}


def _unique_str(arch: Arch) -> str:
    exprs = ["0"]
    for j in range(1, N_NODES):
        terms = []
        for e, (i, jj) in enumerate(EDGES):
            if jj != j:
                continue
            op, src = arch[e], exprs[i]
            if op == NONE or src == "#":
                terms.append("#")
            elif op == SKIP:
                terms.append(src)
            else:
                terms.append(f"({src})@{OPS[op]}")
        exprs.append("+".join(sorted(terms)))
    return exprs[-1]


@lru_cache(maxsize=1)
def _class_table() -> tuple[np.ndarray, list[Arch]]:
    space = NB201Space()
    archs = space.all_archs()
    rep_of: dict[str, int] = {}
    rep = np.empty(len(archs), dtype=np.int64)
    as_tuples: list[Arch] = [tuple(int(v) for v in row) for row in archs]
    for idx, arch in enumerate(as_tuples):
        rep[idx] = rep_of.setdefault(_unique_str(arch), idx)
    rep.setflags(write=False)
    return rep, [as_tuples[r] for r in rep]
