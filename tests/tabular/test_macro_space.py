"""The macro chain spaces: layout, sizes, strings, index, moves and encodings (no torch)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surrogates.encodings import ChainGraph, encode, encoding_names, graph_builder, graph_shape
from surrogates.errors import EncodingError
from tabular.errors import ArchIndexError, ArchStringError, UnknownOpError
from tabular.spaces import (
    MACRO_SPACE_NAMES,
    SPACES,
    MacroIRSpace,
    MacroSpace,
    MacroVGGSpace,
    MacroWidthSpace,
    get_space,
)

VGG, IR, WIDTH = MacroVGGSpace(), MacroIRSpace(), MacroWidthSpace()
ALL = (VGG, IR, WIDTH)


def archs_of(space: MacroSpace) -> st.SearchStrategy[tuple[int, ...]]:
    return st.tuples(*[st.integers(0, c - 1) for c in space.cardinalities])


def test_registered_sizes_and_layouts() -> None:
    assert set(MACRO_SPACE_NAMES) <= set(SPACES.names())
    assert {name: get_space(name).size for name in MACRO_SPACE_NAMES} == {
        "macro": 43_046_721,
        "macro-ir": 6**16,
        "macro-width": 3**5 * 3**16,
    }
    assert 3**16 == 43_046_721
    assert VGG.cardinalities == (3,) * 16 and VGG.stages == (2, 2, 4, 4, 4) and VGG.n_layers == 16
    # IR: kernels of the 16 layers, then their expansions
    assert IR.cardinalities == (3,) * 16 + (2,) * 16 and sum(IR.stages) == 16
    # width: one multiplier per stage first, then the kernels
    assert WIDTH.cardinalities == (3,) * 5 + (3,) * 16
    assert [WIDTH.kernel_decision(i) for i in (0, 15)] == [5, 20] and WIDTH.width_decision(4) == 4
    assert [IR.expansion_decision(i) for i in (0, 15)] == [16, 31] and IR.width_decision(0) is None
    assert all(s.enumerable for s in ALL)


def test_space_hashes_tell_variants_apart() -> None:
    hashes = {s.space_hash() for s in ALL}
    assert len(hashes) == 3
    assert get_space("macro").space_hash() == VGG.space_hash()  # stable across instances
    desc = IR.describe()
    for key in ("block", "stages", "stage_channels", "downsample", "kernels", "expansions", "head_channels"):
        assert key in desc
    custom = MacroSpace(
        name="macro", block="conv", stages=(2, 2, 4, 4, 4), stage_channels=(1, 2, 4, 8, 8),
        downsample=(False, True, True, True, True), kernels=(3, 5),
    )  # fmt: skip
    assert custom.space_hash() != VGG.space_hash()  # same name, other kernels: other space


def test_known_strings() -> None:
    text = "3-5|7-3|3-3-5-7|5-5-5-5|7-7-7-3"
    arch = VGG.from_str(text)
    assert arch == (0, 1, 2, 0, 0, 0, 1, 2, 1, 1, 1, 1, 2, 2, 2, 0)
    assert VGG.to_str(arch) == text
    assert VGG.layer_choices(arch)[:3] == ((3, None), (5, None), (7, None))
    ir = IR.from_str("k3e3|k5e6-k7e3|k3e6-k3e6-k3e6|k5e3-k5e3-k5e3-k5e3|k7e6-k7e6-k7e6|k3e3-k3e3-k3e3")
    assert ir[:3] == (0, 1, 2) and ir[16:19] == (0, 1, 0)
    assert IR.layer_choices(ir)[1] == (5, 6)
    wide = WIDTH.from_str("w0.5:3-5|w1:7-3|w1.5:3-3-5-7|w1.0:5-5-5-5|w.5:7-7-7-3")
    assert wide[:5] == (0, 1, 2, 1, 0) and wide[5:] == arch
    assert WIDTH.to_str(wide) == "w0.5:3-5|w1:7-3|w1.5:3-3-5-7|w1:5-5-5-5|w0.5:7-7-7-3"
    assert WIDTH.stage_widths(wide, 8) == (4, 16, 48, 64, 32)
    assert VGG.stage_widths(arch, 8) == (8, 16, 32, 64, 64)
    assert IR.stage_widths(ir, 8) == (8, 12, 16, 32, 48, 80)
    assert VGG.from_str("  " + text + " ") == arch  # outer whitespace is forgiven


@pytest.mark.parametrize("space", ALL, ids=lambda s: s.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_string_index_and_encoding_round_trips(space: MacroSpace, data: st.DataObject) -> None:
    arch = data.draw(archs_of(space))
    assert space.from_str(space.to_str(arch)) == arch
    index = space.index(arch)
    assert 0 <= index < space.size and space.from_index(index) == arch
    assert int(space.indices(np.asarray([arch]))[0]) == index
    onehot = space.encode(arch)
    assert onehot.shape == (sum(space.cardinalities),) and onehot.sum() == space.n_decisions
    offsets = np.cumsum([0, *space.cardinalities[:-1]])
    assert tuple(int(v) for v in np.flatnonzero(onehot) - offsets) == arch
    assert space.canonical(arch) == arch and not space.is_degenerate(arch)


@pytest.mark.parametrize("space", ALL, ids=lambda s: s.name)
def test_extreme_indices_and_vectorised_decoding(space: MacroSpace) -> None:
    last = tuple(c - 1 for c in space.cardinalities)
    assert space.index((0,) * space.n_decisions) == 0 and space.index(last) == space.size - 1
    rng = np.random.default_rng(0)
    many = space.sample_many(rng, 500)
    np.testing.assert_array_equal(space.from_indices(space.indices(many)), many)
    with pytest.raises(ArchIndexError):
        space.from_index(space.size)


@pytest.mark.parametrize("space", ALL, ids=lambda s: s.name)
def test_mutate_and_neighbours_stay_valid(space: MacroSpace) -> None:
    rng = np.random.default_rng(1)
    arch = space.sample(rng)
    for _ in range(50):
        child = space.mutate(arch, rng)
        assert space.validate(child) == child
        assert sum(a != b for a, b in zip(arch, child, strict=True)) == 1
        arch = child
    neighbours = space.neighbors(arch)
    assert len(neighbours) == len(set(neighbours)) == sum(c - 1 for c in space.cardinalities)
    assert all(sum(a != b for a, b in zip(arch, n, strict=True)) == 1 for n in neighbours)
    assert all(space.from_str(space.to_str(n)) == n for n in neighbours)


@pytest.mark.parametrize(
    ("space", "text", "error", "match"),
    [
        (VGG, "3-5|7-3|3-3-5-7|5-5-5-5", ArchStringError, "4 stages separated by '|', expected 5"),
        (VGG, "3-5|7-3|3-3-5|5-5-5-5|7-7-7-3", ArchStringError, "stage 2 .* 3 layers .* expected 4"),
        (VGG, "3-5|7-3|3-3-5-9|5-5-5-5|7-7-7-3", UnknownOpError, "kernel size 9 in layer 7 .* 3, 5, 7"),
        (VGG, "3-5|7-x|3-3-5-7|5-5-5-5|7-7-7-3", ArchStringError, "layer 3 .* 'x'; expected a kernel size"),
        (VGG, "k3-5|7-3|3-3-5-7|5-5-5-5|7-7-7-3", ArchStringError, "layer 0"),
        (IR, "k3|k5e6-k7e3|k3e6-k3e6-k3e6|k5e3-k5e3-k5e3-k5e3|k7e6-k7e6-k7e6|k3e3-k3e3-k3e3",
         ArchStringError, "layer 0 .* 'k3'; expected 'k<kernel>e<expansion>'"),
        (IR, "k3e4|k5e6-k7e3|k3e6-k3e6-k3e6|k5e3-k5e3-k5e3-k5e3|k7e6-k7e6-k7e6|k3e3-k3e3-k3e3",
         UnknownOpError, "expansion ratio 4 in layer 0 .* 3, 6"),
        (WIDTH, "3-5|w1:7-3|w1:3-3-5-7|w1:5-5-5-5|w1:7-7-7-3", ArchStringError, "stage 0 .* no width prefix"),
        (WIDTH, "w2:3-5|w1:7-3|w1:3-3-5-7|w1:5-5-5-5|w1:7-7-7-3", UnknownOpError,
         "width multiplier 2 of stage 0 .* w0.5:, w1:, w1.5:"),
        (VGG, "", ArchStringError, "1 stages"),
    ],
)  # fmt: skip
def test_bad_strings_raise_typed_errors(space: MacroSpace, text: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        space.from_str(text)


def test_non_string_and_bad_tuples() -> None:
    with pytest.raises(ArchStringError, match="got tuple"):
        VGG.from_str((0,) * 16)  # type: ignore[arg-type]
    with pytest.raises(ArchIndexError, match="has 15 decisions, expected 16"):
        VGG.validate((0,) * 15)
    with pytest.raises(ArchIndexError, match="decision 16 .* expected an int in 0..1"):
        IR.validate((0,) * 16 + (2,) + (0,) * 15)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"block": "resnet"}, "block must be one of"),
        ({"stages": (2, 0)}, "positive layer counts"),
        ({"downsample": (False,)}, "downsample has 1 entries"),
        ({"kernels": (3, 4)}, "odd positive ints"),
        ({"kernels": (3, 3)}, "duplicates"),
        ({"expansions": (3, 6)}, "expansions must be positive ints for block 'ir' and empty for 'conv'"),
        ({"widths": (0.0, 1.0)}, "must be positive"),
    ],
)
def test_space_settings_are_checked(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {
        "name": "t", "block": "conv", "stages": (2, 2), "stage_channels": (1, 2), "downsample": (False, True),
    }  # fmt: skip
    with pytest.raises(ValueError, match=match):
        MacroSpace(**{**base, **kwargs})  # type: ignore[arg-type]


# ---- encodings (surrogates.encodings treats these spaces as chains) -----------------------
@pytest.mark.parametrize(("space", "n_labels"), [(VGG, 3), (IR, 6), (WIDTH, 9)], ids=lambda v: str(v))
def test_graph_encoding_is_one_node_per_layer(space: MacroSpace, n_labels: int) -> None:
    builder = graph_builder(space)
    assert isinstance(builder, ChainGraph)
    assert graph_shape(space) == (16 + 2, 2 + n_labels)
    archs = space.sample_many(np.random.default_rng(2), 7)
    x = encode(space, archs, "graph")
    n = 18
    assert x.shape == (7, n * n + n * (2 + n_labels))
    np.testing.assert_array_equal(x[:, : n * n].reshape(7, n, n), np.broadcast_to(np.eye(n, k=1), (7, n, n)))
    labels = x[:, n * n :].reshape(7, n, 2 + n_labels).argmax(axis=2)
    names = builder.label_names
    for row, arch in zip(labels, archs, strict=True):
        assert names[row[0]] == "input" and names[row[-1]] == "output"
        choices = space.layer_choices(tuple(int(v) for v in arch))
        mults = space.stage_multipliers(tuple(int(v) for v in arch))
        for layer, (kernel, expansion) in enumerate(choices):
            want = f"k{kernel}" + (f"e{expansion}" if expansion else "")
            if space.widths:
                want += f"w{mults[space.stage_of_layer[layer]]:g}"
            assert names[row[1 + layer]] == want
    assert len(encoding_names(space, "graph")) == x.shape[1]


@pytest.mark.parametrize("space", ALL, ids=lambda s: s.name)
def test_onehot_works_and_path_is_refused_with_a_reason(space: MacroSpace) -> None:
    archs = space.sample_many(np.random.default_rng(3), 5)
    x = encode(space, archs, "onehot")
    assert x.shape == (5, sum(space.cardinalities)) and (x.sum(axis=1) == space.n_decisions).all()
    # one route through a chain: the path encoding would be a one-hot of 3^16 or more archs
    with pytest.raises(EncodingError, match="single input-to-output route.*'onehot' or 'graph'"):
        encode(space, archs, "path")
