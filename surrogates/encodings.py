"""Feature encodings of architectures for performance predictors (White et al. 2021).

Three encodings, each a plain 2-D float matrix with one row per architecture:

``onehot``
    The space's own ``encode_many``: one block of ``cardinalities[i]`` columns per decision.
``graph``
    The architecture as a node-labelled DAG, flattened: ``n_nodes**2`` adjacency columns
    (``A[i, j]`` at column ``i * n_nodes + j``; 1 when data flows from node ``i`` to node
    ``j``) followed by ``n_nodes * n_labels`` one-hot node-label columns (label ``k`` of node
    ``i`` at column ``n_nodes**2 + i * n_labels + k``). Node 0 is the input, the last node the
    output. This is the operation-on-node form that graph predictors use (NAS-Bench-301,
    Siems et al. 2020; White et al. 2021), since a GIN (Xu et al. 2019) has no edge features.
``path``
    BANANAS' path encoding (White et al. 2021, AAAI): one binary column per sequence of
    operations that may lie on an input-to-output path; 1 when the cell has such a path.

How a space becomes a graph is a :class:`GraphBuilder` registered under the space's name in
:data:`GRAPH_BUILDERS`, so a new space plugs in without touching this module. A space with no
builder is treated as a chain (``SearchSpace.chain_ops``): by default input -> decision 0 -> ...
-> decision n-1 -> output, each decision node labelled by its choice value; macro spaces give
one node per layer labelled by its operation (``k5``, ``k5e6``, ``k5w1.5``). A chain has one
route, so its path encoding is a one-hot of the whole space and is refused
(:class:`EncodingError`) when that exceeds ``MAX_PATH_FEATURES`` columns, as for every macro space.

NAS-Bench-201 (``nb201``) graph: 8 nodes, 7 labels, 120 columns. Node 0 is the input, nodes
1..6 are the operations on the cell edges in ``NB201Space.edges`` order ((0,1), (0,2), (1,2),
(0,3), (1,3), (2,3)), node 7 the output. Labels are ``("input", "output", "none",
"skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")``. Operation node ``(i, j)``
feeds operation node ``(j, k)``; edges out of cell node 0 hang off the input and edges into
cell node 3 feed the output. A ``none`` node keeps its label but loses all its edges, because
no data flows through it.

NAS-Bench-201 path encoding: 40 columns, not 5 + 25 + 125 = 155. The cell has 4 routes from
input to output (lengths 1, 2, 2 and 3). A route through a ``none`` edge carries nothing, so
it is dropped, and ``skip_connect`` is the identity, so it is left out of the sequence, as a
plain edge is in NAS-Bench-101's BANANAS encoding. What remains is a sequence of 0 to 3 ops
from {nor_conv_1x1, nor_conv_3x3, avg_pool_3x3}: 1 + 3 + 9 + 27 = 40 sequences, and every one
occurs in some cell. Columns go by length, then lexicographically in op order; column 0 is the
empty sequence (an all-skip route). Skipping the identity makes cells of one NB201 isomorphism
class (``NB201Space.canonical``) encode equally; the encoding is coarser than the class (it
ignores how many routes share a sequence), which is the known price of path encodings.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from surrogates.errors import EncodingError, LengthMismatchError, NonFiniteFeatureError
from tabular.errors import ArchIndexError
from tabular.registry import Registry
from tabular.spaces import SearchSpace, get_space

MAX_PATH_FEATURES = 100_000  # beyond this a path encoding is a one-hot of the whole space


class GraphBuilder:
    """The labelled DAG of a space's architectures; subclass and register per space.

    Subclasses set ``label_names`` (first two ``"input"``, ``"output"``), ``identity_labels``
    (ops left out of path sequences), ``blocked_labels`` (ops that cut a path) and implement
    :meth:`template` and :meth:`graphs`.
    """

    label_names: tuple[str, ...] = ("input", "output")
    identity_labels: frozenset[str] = frozenset()
    blocked_labels: frozenset[str] = frozenset()

    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    @property
    def n_nodes(self) -> int:
        return int(self.template().shape[0])

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    def template(self) -> np.ndarray:
        """``(n_nodes, n_nodes)`` adjacency with every possible edge; each cell's is a subset."""
        raise NotImplementedError

    def graphs(self, archs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(adjacency (n, N, N) float32, labels (n, N) int64 into label_names)``."""
        raise NotImplementedError

    @property
    def path_alphabet(self) -> tuple[str, ...]:
        skip = {"input", "output"} | set(self.identity_labels) | set(self.blocked_labels)
        return tuple(label for label in self.label_names if label not in skip)


GRAPH_BUILDERS: Registry[type[GraphBuilder]] = Registry("graph builder")


def register_graph_builder(space_name: str) -> Callable[[type[GraphBuilder]], type[GraphBuilder]]:
    """Class decorator: the :class:`GraphBuilder` for the space registered as ``space_name``."""
    return GRAPH_BUILDERS.register(space_name)


@register_graph_builder("nb201")
class NB201Graph(GraphBuilder):
    """NAS-Bench-201 cells with operations moved onto nodes (layout in the module docstring)."""

    identity_labels = frozenset({"skip_connect"})
    blocked_labels = frozenset({"none"})

    def __init__(self, space: SearchSpace) -> None:
        super().__init__(space)
        ops: tuple[str, ...] = space.ops  # type: ignore[attr-defined]
        self.label_names = ("input", "output", *ops)
        self._edges: tuple[tuple[int, int], ...] = space.edges  # type: ignore[attr-defined]
        self._none = ops.index("none")
        n_cell = 1 + max(j for _, j in self._edges)
        n = len(self._edges) + 2
        tmpl = np.zeros((n, n), dtype=np.float32)
        for e, (i, j) in enumerate(self._edges):
            if i == 0:
                tmpl[0, 1 + e] = 1.0
            if j == n_cell - 1:
                tmpl[1 + e, n - 1] = 1.0
            for f, (k, _) in enumerate(self._edges):
                if k == j:
                    tmpl[1 + e, 1 + f] = 1.0
        self._template = tmpl

    def template(self) -> np.ndarray:
        return self._template.copy()

    def graphs(self, archs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = archs.shape[0]
        alive = np.ones((n, self.n_nodes), dtype=np.float32)
        alive[:, 1:-1] = archs != self._none  # a 'none' op node is cut off
        adjacency = self._template[None, :, :] * alive[:, :, None] * alive[:, None, :]
        labels = np.empty((n, self.n_nodes), dtype=np.int64)
        labels[:, 0], labels[:, -1] = 0, 1
        labels[:, 1:-1] = 2 + archs.astype(np.int64)
        return adjacency.astype(np.float32), labels


class ChainGraph(GraphBuilder):
    """Fallback for spaces without a builder: the space's chain view as a path graph.

    Nodes and labels come from ``SearchSpace.chain_ops`` / ``chain_op_names``: by default one
    node per decision labelled by its value; a macro space gives one node per layer labelled
    by the layer's operation (e.g. ``k5e6``), so different kinds of decision never share a label.
    """

    def __init__(self, space: SearchSpace) -> None:
        super().__init__(space)
        self.label_names = ("input", "output", *space.chain_op_names())
        length = space.chain_ops(np.zeros((1, space.n_decisions), dtype=np.int64)).shape[1]
        self._template = np.eye(length + 2, k=1, dtype=np.float32)

    def template(self) -> np.ndarray:
        return self._template.copy()

    def graphs(self, archs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = archs.shape[0]
        adjacency = np.broadcast_to(self._template, (n, *self._template.shape)).copy()
        labels = np.empty((n, self.n_nodes), dtype=np.int64)
        labels[:, 0], labels[:, -1] = 0, 1
        labels[:, 1:-1] = 2 + self.space.chain_ops(archs)
        return adjacency, labels


def _space(space: SearchSpace | str) -> SearchSpace:
    return get_space(space) if isinstance(space, str) else space


def graph_builder(space: SearchSpace | str) -> GraphBuilder:
    """The registered builder of ``space``, or the chain fallback."""
    space = _space(space)
    if space.name in GRAPH_BUILDERS:
        return GRAPH_BUILDERS.get(space.name)(space)
    return ChainGraph(space)


def graph_shape(space: SearchSpace | str) -> tuple[int, int]:
    """``(n_nodes, n_labels)`` of the ``graph`` encoding (what a GIN needs to unflatten it)."""
    builder = graph_builder(space)
    return builder.n_nodes, builder.n_labels


def check_archs(space: SearchSpace, archs: Any) -> np.ndarray:
    """``archs`` as an ``(n, n_decisions)`` int64 array; raises ArchIndexError otherwise."""
    array = np.asarray(archs)
    if array.size == 0:
        array = array.reshape(0, space.n_decisions)
    if array.ndim != 2 or array.shape[1] != space.n_decisions:
        raise ArchIndexError(f"{space.name}: expected an (n, {space.n_decisions}) array, got {array.shape}")
    fractional = not np.issubdtype(array.dtype, np.integer) and not np.array_equal(array, np.round(array))
    if array.size and fractional:
        raise ArchIndexError(f"{space.name}: architecture choices must be integers")
    card = np.asarray(space.cardinalities)
    if array.size and ((array < 0).any() or (array >= card[None, :]).any()):
        raise ArchIndexError(f"{space.name}: array holds choices outside {space.cardinalities}")
    return array.astype(np.int64)


# ---- path encoding ----------------------------------------------------------------------
def _routes(template: np.ndarray) -> list[list[int]]:
    """Every input-to-output node sequence in the template DAG."""
    out_node = template.shape[0] - 1
    routes: list[list[int]] = []
    stack: list[list[int]] = [[0]]
    while stack:
        route = stack.pop()
        if route[-1] == out_node:
            routes.append(route)
            continue
        stack.extend([*route, int(nxt)] for nxt in np.flatnonzero(template[route[-1]])[::-1])
    return sorted(routes)


class _PathVocabulary:
    """Column index of every op sequence that can lie on a route (by length, then lexicographic)."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.builder = builder
        self.routes = _routes(builder.template())
        self.alphabet = builder.path_alphabet
        inner = [len(r) - 2 for r in self.routes]
        self.lengths = sorted(
            set(range(max(inner, default=0) + 1)) if builder.identity_labels else set(inner)
        )
        a = len(self.alphabet)
        sizes = [a**length for length in self.lengths]
        if sum(sizes) > MAX_PATH_FEATURES:
            why = (
                " (its graph has a single input-to-output route, so the path encoding would be a "
                "one-hot of the whole space)"
                if len(self.routes) == 1
                else ""
            )
            raise EncodingError(
                f"the path encoding of {builder.space.name} would need {sum(sizes)} columns "
                f"(more than {MAX_PATH_FEATURES}){why}; use the 'onehot' or 'graph' encoding"
            )
        self.offset = dict(zip(self.lengths, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
        self.size = int(sum(sizes))
        # label index -> alphabet index; -1 for identity ops, -2 for input/output/blocked
        code = np.full(builder.n_labels, -2, dtype=np.int64)
        for k, label in enumerate(builder.label_names):
            if label in self.alphabet:
                code[k] = self.alphabet.index(label)
            elif label in builder.identity_labels:
                code[k] = -1
        self.code = code

    def names(self) -> list[str]:
        names: list[str] = []
        for length in self.lengths:
            for digits in np.ndindex(*(len(self.alphabet),) * length):
                names.append("->".join(self.alphabet[d] for d in digits) or "(identity)")
        return names

    def encode(self, archs: np.ndarray) -> np.ndarray:
        adjacency, labels = self.builder.graphs(archs)
        n, a = archs.shape[0], len(self.alphabet)
        out = np.zeros((n, self.size), dtype=np.float32)
        if n == 0:
            return out
        rows = np.arange(n)
        for route in self.routes:
            present = np.ones(n, dtype=bool)
            for u, v in itertools.pairwise(route):
                present &= adjacency[:, u, v] > 0
            length = np.zeros(n, dtype=np.int64)
            value = np.zeros(n, dtype=np.int64)
            for node in route[1:-1]:
                code = self.code[labels[:, node]]
                present &= code != -2
                is_op = code >= 0
                value = np.where(is_op, value * a + np.maximum(code, 0), value)
                length += is_op
            if not present.any():
                continue
            offset = np.array([self.offset.get(int(k), -1) for k in range(length.max() + 1)])[length]
            ok = present & (offset >= 0)
            out[rows[ok], offset[ok] + value[ok]] = 1.0
        return out


def path_names(space: SearchSpace | str) -> list[str]:
    """Column names of the ``path`` encoding, e.g. ``nor_conv_3x3->avg_pool_3x3``."""
    return _PathVocabulary(graph_builder(space)).names()


# ---- the encodings ----------------------------------------------------------------------
Encoder = Callable[[SearchSpace, np.ndarray], np.ndarray]
ENCODINGS: Registry[Encoder] = Registry("encoding")


@ENCODINGS.register("onehot")
def encode_onehot(space: SearchSpace, archs: np.ndarray) -> np.ndarray:
    """One block per decision (``SearchSpace.encode_many``)."""
    return space.encode_many(check_archs(space, archs))


@ENCODINGS.register("graph")
def encode_graph(space: SearchSpace, archs: np.ndarray) -> np.ndarray:
    """Flattened adjacency then one-hot node labels (layout in the module docstring)."""
    archs = check_archs(space, archs)
    builder = graph_builder(space)
    adjacency, labels = builder.graphs(archs)
    onehot = np.eye(builder.n_labels, dtype=np.float32)[labels]
    n, n_nodes = len(archs), builder.n_nodes
    flat = [adjacency.reshape(n, n_nodes * n_nodes), onehot.reshape(n, n_nodes * builder.n_labels)]
    return np.concatenate(flat, axis=1)


@ENCODINGS.register("path")
def encode_path(space: SearchSpace, archs: np.ndarray) -> np.ndarray:
    """BANANAS path encoding (White et al. 2021): one column per op sequence on a route."""
    archs = check_archs(space, archs)
    return _PathVocabulary(graph_builder(space)).encode(archs)


def encode(space: SearchSpace | str, archs: Any, encoding: str) -> np.ndarray:
    """``archs`` (an ``(n, n_decisions)`` int array) in ``encoding``; unknown names list the known."""
    return ENCODINGS.get(encoding)(_space(space), archs)


def encoding_names(space: SearchSpace | str, encoding: str) -> list[str]:
    """A name for every column of ``encoding``."""
    space = _space(space)
    ENCODINGS.get(encoding)  # unknown names raise here, listing the known ones
    if encoding == "path":
        return path_names(space)
    if encoding == "graph":
        builder = graph_builder(space)
        n = builder.n_nodes
        return [f"adj[{i},{j}]" for i in range(n) for j in range(n)] + [
            f"node{i}={label}" for i in range(n) for label in builder.label_names
        ]
    if encoding == "onehot":
        return [f"d{i}={v}" for i, card in enumerate(space.cardinalities) for v in range(card)]
    width = encode(space, np.zeros((1, space.n_decisions), dtype=np.int64), encoding).shape[1]
    return [f"{encoding}[{k}]" for k in range(width)]


def make_features(
    space: SearchSpace | str,
    archs: Any,
    encoding: str = "onehot",
    extra: Mapping[str, npt.ArrayLike] | None = None,
) -> np.ndarray:
    """The ``encoding`` of ``archs`` with ``extra`` columns appended, as float64.

    ``extra`` maps a name (a zero-cost proxy, a hardware metric) to one value per
    architecture; columns are appended in sorted name order, so the order the dict was built
    in does not matter (see :func:`feature_names`). NaN marks a missing value and only the
    ``xgb`` predictor accepts it (XGBoost learns a default branch for missing values); the
    neural predictors raise :class:`NonFiniteFeatureError`. Infinities are rejected here.
    float64 keeps scores such as synflow (often above 1e38) finite.
    """
    space = _space(space)
    base = encode(space, archs, encoding).astype(np.float64)
    if not extra:
        return base
    columns = []
    for name in sorted(extra):
        column = np.asarray(extra[name], dtype=np.float64)
        if column.ndim != 1 or column.shape[0] != base.shape[0]:
            raise LengthMismatchError(
                f"extra feature {name!r} has shape {column.shape}, expected ({base.shape[0]},): "
                "one value per architecture"
            )
        if np.isinf(column).any():
            raise NonFiniteFeatureError(f"extra feature {name!r} holds infinities; only NaN is allowed")
        columns.append(column)
    return np.concatenate([base, np.stack(columns, axis=1)], axis=1)


def feature_names(space: SearchSpace | str, encoding: str = "onehot", extra: Sequence[str] = ()) -> list[str]:
    """Column names of :func:`make_features` with extra columns named ``extra``."""
    return encoding_names(space, encoding) + sorted(extra)
