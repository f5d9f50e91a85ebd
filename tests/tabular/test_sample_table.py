"""Sample tables of spaces too large to list: a prefix-stable sample order and growing rows."""

from __future__ import annotations

import numpy as np
import pytest

from tabular.builder.plan import SAMPLE_BLOCK, is_sampled, sample_order
from tabular.errors import ArchIndexError
from tabular.spaces import NB201Space, SearchSpace
from tabular.table import RunStatus, Table


class WideChain(SearchSpace):
    """A chain space too large to list (not registered: used only in memory)."""

    name = "wide-chain-test"
    cardinalities = (3,) * 20


def test_a_space_beyond_ten_million_is_sampled_and_nb201_is_listed():
    assert is_sampled(WideChain())
    assert not is_sampled(NB201Space())


def test_a_longer_sample_starts_with_the_shorter_one():
    space = WideChain()
    short = sample_order(space, np.random.default_rng(3), 50)
    long = sample_order(space, np.random.default_rng(3), SAMPLE_BLOCK + 200)
    assert long.shape == (SAMPLE_BLOCK + 200,)
    np.testing.assert_array_equal(long[:50], short)
    assert np.unique(long).size == long.size  # distinct architectures


def test_the_sample_is_uniform_per_decision():
    space = WideChain()
    archs = space.from_indices(sample_order(space, np.random.default_rng(0), 3000))
    shares = np.stack([(archs == v).mean(axis=0) for v in range(3)])
    assert np.abs(shares - 1 / 3).max() < 0.05


def test_sample_order_skips_degenerate_architectures():
    class NoZeros(WideChain):
        name = "no-zeros-test"

        def is_degenerate(self, arch):  # type: ignore[no-untyped-def]
            return arch[0] == 0

    space = NoZeros()
    archs = space.from_indices(sample_order(space, np.random.default_rng(1), 300))
    assert (archs[:, 0] != 0).all()


def test_append_archs_grows_every_per_row_array_and_keeps_the_old_rows(tmp_path):
    space = NB201Space()
    first = space.from_indices(np.arange(10))
    table = Table.new(space, first, provenance={})
    table.ensure_dataset("d")
    table.set_metric("d", "test", 1, 0, np.arange(10.0), schedule=1)
    table.set_status("d", 0, RunStatus.OK)
    table.update_hardware("params", np.arange(10), np.arange(10.0) + 5, unit="count", source="t")
    rows = table.append_archs(space.from_indices(np.arange(100, 105)))
    np.testing.assert_array_equal(rows, np.arange(10, 15))
    assert table.n_rows == 15
    assert table.row(102) == 12 and table.strings[12] == space.to_str(space.from_index(102))
    values = table.metric("d", "test@1", seed=0)
    np.testing.assert_array_equal(values[:10], np.arange(10.0))
    assert np.isnan(values[10:]).all()
    assert (table.status("d")[10:] == RunStatus.MISSING).all()
    assert np.isnan(table.hardware("params")[10:]).all()
    path = tmp_path / "grown.h5"
    table.save(path)
    again = Table.open(path)
    assert again.n_rows == 15 and again.row(104) == 14


def test_append_archs_refuses_an_architecture_already_in_the_table():
    space = NB201Space()
    table = Table.new(space, space.from_indices(np.arange(5)), provenance={})
    with pytest.raises(ArchIndexError, match="index 3"):
        table.append_archs(space.from_indices(np.array([3, 7])))
    assert table.n_rows == 5


def test_a_sample_table_grows_with_archs_keeping_what_it_trained(tmp_path):
    from dataclasses import replace

    from tabular.budget import get_budget
    from tabular.builder import BuildOptions, BuildSpec, build_table
    from tabular.errors import BuildError, UnknownNameError

    budget = replace(get_budget("tiny"), train_size=200, valid_size=100)
    spec = BuildSpec(space="macro", dataset="synthetic", budget=budget, seeds=1, archs=3)
    path = tmp_path / "sample.h5"
    options = BuildOptions(workers=0, progress=False)
    build_table(spec, path, options)
    first = Table.open(path)
    before = first.metric("synthetic", "valid@1", seed=0).copy()
    report = build_table(replace(spec, archs=5), path, options)
    grown = Table.open(path)
    assert report.runs_done == 2 and grown.n_rows == 5
    np.testing.assert_array_equal(grown.arch_index[:3], first.arch_index)
    np.testing.assert_array_equal(grown.metric("synthetic", "valid@1", seed=0)[:3], before)
    assert grown.ids("sample_order").tolist() == [0, 1, 2, 3, 4]
    assert grown.raw.root_attrs["sample"]["archs"] == 5
    assert (grown.status("synthetic") == RunStatus.OK).all()
    with pytest.raises(BuildError, match="give --archs N"):
        build_table(replace(spec, archs=None), tmp_path / "other.h5", options)
    # macro networks lay themselves out channels-last: that is what is recorded, and all they take
    assert {s["memory_format"] for s in grown.provenance["sessions"]} == {"channels_last"}
    with pytest.raises(UnknownNameError, match="memory format for macro networks 'contiguous'"):
        build_table(spec, path, replace(options, memory_format="contiguous"))
    assert Table.open(path).provenance["sessions"] == grown.provenance["sessions"]
