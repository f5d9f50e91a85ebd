"""The NB201 space: strings, index, moves, encodings and isomorphism classes."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tabular.errors import ArchIndexError, ArchStringError, UnknownOpError
from tabular.spaces import NB201Space, get_space
from tabular.spaces.nb201 import OPS

SPACE = NB201Space()
archs = st.tuples(*[st.integers(0, 4)] * 6)
BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_registered_and_sized() -> None:
    space = get_space("nb201")
    assert isinstance(space, NB201Space)
    assert space.size == 15_625
    assert space.n_decisions == 6


def test_parse_standard_string() -> None:
    arch = SPACE.from_str(BEST_C10)
    assert [OPS[o] for o in arch] == [
        "nor_conv_3x3",
        "nor_conv_3x3",
        "nor_conv_3x3",
        "skip_connect",
        "nor_conv_3x3",
        "nor_conv_1x1",
    ]
    assert SPACE.to_str(arch) == BEST_C10


@given(archs)
def test_string_and_index_round_trip(arch: tuple[int, ...]) -> None:
    assert SPACE.from_str(SPACE.to_str(arch)) == arch
    assert SPACE.from_index(SPACE.index(arch)) == arch


def test_vectorised_index_matches_scalar() -> None:
    every = SPACE.all_archs()
    assert np.array_equal(SPACE.indices(every), np.arange(15_625))
    assert SPACE.index(tuple(every[1234])) == 1234


@given(archs, st.integers(0, 2**32 - 1))
def test_mutate_changes_exactly_one_edge(arch: tuple[int, ...], seed: int) -> None:
    child = SPACE.mutate(arch, np.random.default_rng(seed))
    assert sum(a != b for a, b in zip(arch, child, strict=True)) == 1


@given(archs)
def test_neighbours_are_all_one_edge_changes(arch: tuple[int, ...]) -> None:
    neigh = SPACE.neighbors(arch)
    assert len(neigh) == len(set(neigh)) == 6 * 4
    assert all(sum(a != b for a, b in zip(arch, n, strict=True)) == 1 for n in neigh)


def test_sampling_is_seeded_and_uniform() -> None:
    a = [SPACE.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    many = SPACE.sample_many(np.random.default_rng(0), 50_000)
    counts = np.bincount(many[:, 2], minlength=5)
    assert counts.min() > 9_000 and counts.max() < 11_000


def test_encoding_is_one_hot_per_edge() -> None:
    enc = SPACE.encode_many(SPACE.all_archs()[:100])
    assert enc.shape == (100, 30)
    assert np.array_equal(enc.reshape(100, 6, 5).sum(axis=2), np.ones((100, 6)))
    assert np.array_equal(SPACE.encode((0, 1, 2, 3, 4, 0)).reshape(6, 5).argmax(1), [0, 1, 2, 3, 4, 0])


def test_canonical_gives_6466_classes_and_341_degenerate() -> None:
    reps = SPACE.canonical_indices()
    assert np.unique(reps).size == 6_466
    assert np.array_equal(reps[reps], reps)  # a representative is its own representative
    degenerate = sum(SPACE.is_degenerate(tuple(a)) for a in SPACE.all_archs())
    assert degenerate == 341


def test_isomorphic_cells_share_a_class() -> None:
    # swapping the two inputs of node 2 through a skip: conv(x) + skip(x) == skip(x) + conv(x) at node 3
    a = SPACE.from_str("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|skip_connect~1|nor_conv_1x1~2|")
    b = SPACE.from_str("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|skip_connect~1|nor_conv_1x1~2|")
    assert SPACE.canonical(a) == SPACE.canonical(b)
    # a dead edge (into a node that never reaches the output) does not matter
    c = SPACE.from_str("|avg_pool_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    d = SPACE.from_str("|nor_conv_1x1~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    assert SPACE.canonical(c) == SPACE.canonical(d)
    e = SPACE.from_str("|nor_conv_1x1~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|")
    assert SPACE.canonical(c) != SPACE.canonical(e)


def test_classes_agree_with_published_unique_strings(published) -> None:  # type: ignore[no-untyped-def]
    path = published / "nb201-nats-tss-testacc" / "nats_bench.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    ours = np.array(
        [SPACE.canonical_indices()[SPACE.index(SPACE.from_str(r["ArchitectureString"]))] for r in rows]
    )
    theirs = [r["UniqueString"] for r in rows]
    pairs = set(zip(ours.tolist(), theirs, strict=True))
    # the two partitions are identical: a bijection between our classes and theirs
    assert len(pairs) == len(set(ours.tolist())) == len(set(theirs)) == 6_466


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", ArchStringError),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", ArchStringError),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|a~0|b~1|c~2|", ArchStringError),
        ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", UnknownOpError),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", ArchStringError),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", ArchStringError),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|extra~3|", ArchStringError),
    ],
)
def test_bad_strings_raise_typed_errors_naming_the_value(text: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        SPACE.from_str(text)
    assert repr(text)[1:-1][:20] in str(info.value) or "conv_5x5" in str(info.value)


def test_unknown_op_error_lists_the_ops() -> None:
    with pytest.raises(UnknownOpError, match="expected one of none, skip_connect"):
        SPACE.from_str("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")


@pytest.mark.parametrize(
    "arch", [(0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 5), (0, 0, 0, 0, 0, -1), (0, 0, 0, 0, 0, 0, 0)]
)
def test_bad_arch_tuples_raise(arch: tuple[int, ...]) -> None:
    with pytest.raises(ArchIndexError, match="expected"):
        SPACE.index(arch)


def test_bad_index_raises() -> None:
    with pytest.raises(ArchIndexError, match="15625"):
        SPACE.from_index(15_625)
