"""Encodings: one-hot blocks, the NB201 graph layout, BANANAS paths, the chain fallback, features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from surrogates import encodings as enc
from surrogates.encodings import (
    GRAPH_BUILDERS,
    ChainGraph,
    GraphBuilder,
    encode,
    feature_names,
    graph_builder,
    graph_shape,
    make_features,
    path_names,
    register_graph_builder,
)
from surrogates.errors import EncodingError, LengthMismatchError, NonFiniteFeatureError
from tabular.errors import ArchIndexError, DuplicateRegistrationError, UnknownNameError
from tabular.registry import Registry
from tabular.spaces import NB201Space, SearchSpace

SPACE = NB201Space()
# input, (0,1) conv3, (0,2) skip, (1,2) pool, (0,3) none, (1,3) conv1, (2,3) skip, output
KNOWN = "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
# input -> conv3 -> node 1, but nothing leaves node 1: no path reaches the output
DEGENERATE = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def arch(text: str) -> np.ndarray:
    return np.asarray([SPACE.from_str(text)])


class Chain(SearchSpace):
    """A small unregistered chain space: 3 layers, kernel choice in {3, 5, 7}."""

    name = "test-chain"
    cardinalities = (3, 3, 3)


def test_onehot_is_one_block_per_edge() -> None:
    a = arch(KNOWN)
    x = encode(SPACE, a, "onehot")
    assert x.shape == (1, 30)
    blocks = x.reshape(6, 5)
    assert (blocks.sum(axis=1) == 1).all()
    assert blocks.argmax(axis=1).tolist() == list(a[0])
    np.testing.assert_array_equal(x, SPACE.encode_many(a))


def test_graph_layout_of_a_known_cell() -> None:
    x = encode(SPACE, arch(KNOWN), "graph")[0]
    assert graph_shape(SPACE) == (8, 7) and x.shape == (8 * 8 + 8 * 7,)
    adjacency = x[:64].reshape(8, 8)
    expected = {(0, 1), (0, 2), (1, 3), (1, 5), (2, 6), (3, 6), (5, 7), (6, 7)}  # none node 4 cut off
    assert {(int(i), int(j)) for i, j in zip(*np.nonzero(adjacency), strict=True)} == expected
    assert x[8 * 1 + 3] == 1.0 and x[8 * 4 + 7] == 0.0  # A[i, j] sits at column 8 i + j
    features = x[64:].reshape(8, 7)
    assert (features.sum(axis=1) == 1).all()
    labels = graph_builder(SPACE).label_names
    assert labels == (
        "input",
        "output",
        "none",
        "skip_connect",
        "nor_conv_1x1",
        "nor_conv_3x3",
        "avg_pool_3x3",
    )
    node_labels = [labels[k] for k in features.argmax(axis=1)]
    assert node_labels == [
        "input",
        "nor_conv_3x3",
        "skip_connect",
        "avg_pool_3x3",
        "none",
        "nor_conv_1x1",
        "skip_connect",
        "output",
    ]
    assert x[64 + 7 * 4 + 2] == 1.0  # label k of node i at 64 + 7 i + k: node 4 is 'none'


def test_path_encoding_lists_exactly_the_cells_paths() -> None:
    names = path_names(SPACE)
    assert len(names) == 1 + 3 + 9 + 27 == 40 and len(set(names)) == 40
    x = encode(SPACE, arch(KNOWN), "path")[0]
    # routes: 0-3 through 'none' (dropped); 0-1-3 conv3, conv1; 0-2-3 skip, skip; 0-1-2-3 conv3, pool, skip
    got = {name for name, v in zip(names, x, strict=True) if v}
    assert got == {"nor_conv_3x3->nor_conv_1x1", "(identity)", "nor_conv_3x3->avg_pool_3x3"}
    assert set(np.unique(x)) <= {0.0, 1.0}


def test_every_path_column_occurs_in_some_cell() -> None:
    x = encode(SPACE, SPACE.all_archs(), "path")
    assert (x.sum(axis=0) > 0).all()


def test_path_encoding_is_equal_within_isomorphism_classes() -> None:
    every = SPACE.all_archs()
    x = encode(SPACE, every, "path")
    np.testing.assert_array_equal(x, x[SPACE.canonical_indices()])
    # a hand-made pair: conv then skip equals skip then conv along the 0-1-3 route
    a = SPACE.from_str("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|")
    b = SPACE.from_str("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")
    assert SPACE.canonical(a) == SPACE.canonical(b)
    np.testing.assert_array_equal(encode(SPACE, [a], "path"), encode(SPACE, [b], "path"))
    assert SPACE.canonical(a) == SPACE.canonical(SPACE.from_str(SPACE.to_str(a)))
    # and a cell of another class differs
    c = SPACE.from_str("|avg_pool_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|")
    assert not np.array_equal(encode(SPACE, [a], "path"), encode(SPACE, [c], "path"))


@pytest.mark.parametrize("text", [ALL_NONE, DEGENERATE])
def test_empty_and_degenerate_cells_encode(text: str) -> None:
    a = arch(text)
    assert SPACE.is_degenerate(tuple(a[0]))
    for name in ("onehot", "graph", "path"):
        x = encode(SPACE, a, name)
        assert x.shape[0] == 1 and np.isfinite(x).all()
    assert not encode(SPACE, a, "path").any()  # no input-output path at all
    adjacency = encode(SPACE, a, "graph")[0, :64].reshape(8, 8)
    assert {(int(i), int(j)) for i, j in zip(*np.nonzero(adjacency), strict=True)} == (
        set() if text == ALL_NONE else {(0, 1)}
    )


def test_zero_architectures_give_zero_rows() -> None:
    for name, width in (("onehot", 30), ("graph", 120), ("path", 40)):
        assert encode(SPACE, np.zeros((0, 6), dtype=np.int8), name).shape == (0, width)


@pytest.mark.parametrize(
    "bad", [[[0, 1, 2]], [[5, 0, 0, 0, 0, 0]], [[-1, 0, 0, 0, 0, 0]], [[0.5, 0, 0, 0, 0, 0]]]
)
def test_bad_architectures_raise(bad: list[list[float]]) -> None:
    with pytest.raises(ArchIndexError):
        encode(SPACE, bad, "graph")


def test_chain_fallback_is_a_path_graph() -> None:
    space = Chain()
    builder = graph_builder(space)
    assert isinstance(builder, ChainGraph) and graph_shape(space) == (5, 2 + 3)
    x = encode(space, [[2, 0, 1]], "graph")[0]
    adjacency = x[:25].reshape(5, 5)
    np.testing.assert_array_equal(adjacency, np.eye(5, k=1))
    labels = x[25:].reshape(5, 5).argmax(axis=1)
    assert labels.tolist() == [0, 2 + 2, 2 + 0, 2 + 1, 1]
    # a chain has one path, the whole architecture: the path encoding is a one-hot of the cell
    paths = encode(space, space.all_archs(), "path")
    assert paths.shape == (27, 27) and (paths.sum(axis=1) == 1).all() and len(np.unique(paths, axis=0)) == 27


def test_path_encoding_too_large_raises() -> None:
    class Deep(SearchSpace):
        name = "test-deep-chain"
        cardinalities = (3,) * 20

    with pytest.raises(EncodingError, match="onehot"):
        encode(Deep(), [[0] * 20], "path")
    assert encode(Deep(), [[0] * 20], "graph").shape == (1, 22 * 22 + 22 * 5)


def test_a_new_space_plugs_in_through_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    class Reversed(ChainGraph):
        def graphs(self, archs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            adjacency, labels = super().graphs(archs)
            return adjacency, labels[:, ::-1].copy()

    fresh: Registry[type[GraphBuilder]] = Registry("graph builder")
    fresh.add("test-chain", Reversed)
    monkeypatch.setattr(enc, "GRAPH_BUILDERS", fresh)
    assert isinstance(graph_builder(Chain()), Reversed)
    labels = encode(Chain(), [[2, 0, 1]], "graph")[0, 25:].reshape(5, 5).argmax(axis=1)
    assert labels.tolist() == [1, 3, 2, 4, 0]


def test_duplicate_builder_is_rejected() -> None:
    with pytest.raises(DuplicateRegistrationError):
        register_graph_builder("nb201")(ChainGraph)
    assert GRAPH_BUILDERS.get("nb201") is enc.NB201Graph


def test_unknown_encoding_lists_the_known() -> None:
    with pytest.raises(UnknownNameError, match="graph, onehot, path"):
        encode(SPACE, arch(KNOWN), "adjacency")
    with pytest.raises(UnknownNameError):
        make_features(SPACE, arch(KNOWN), "nope")


def test_make_features_appends_extras_in_name_order() -> None:
    archs = np.concatenate([arch(KNOWN), arch(ALL_NONE), arch(DEGENERATE)])
    extra: dict[str, Any] = {"zen": [1.0, 2.0, np.nan], "latency_ms:pixel3": np.array([1e40, 5.0, 6.0])}
    x = make_features(SPACE, archs, "path", extra=extra)
    assert x.dtype == np.float64 and x.shape == (3, 42)
    np.testing.assert_array_equal(x[:, :40], encode(SPACE, archs, "path"))
    np.testing.assert_array_equal(x[:, 40], [1e40, 5.0, 6.0])  # float64: no overflow
    np.testing.assert_array_equal(x[:, 41], [1.0, 2.0, np.nan])
    names = feature_names(SPACE, "path", list(extra))
    assert len(names) == 42 and names[-2:] == ["latency_ms:pixel3", "zen"]
    assert len(feature_names(SPACE, "graph")) == 120 and len(feature_names(SPACE, "onehot")) == 30
    np.testing.assert_array_equal(make_features("nb201", archs, "onehot"), SPACE.encode_many(archs))


def test_make_features_rejects_bad_extras() -> None:
    archs = np.concatenate([arch(KNOWN), arch(ALL_NONE)])
    with pytest.raises(LengthMismatchError, match="zen"):
        make_features(SPACE, archs, "onehot", extra={"zen": [1.0, 2.0, 3.0]})
    with pytest.raises(NonFiniteFeatureError, match="synflow"):
        make_features(SPACE, archs, "onehot", extra={"synflow": [np.inf, 1.0]})
