"""FBNet-style latency lookup tables: entries, additive prediction, files, and the measured error."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from tabular.errors import LatencyTableError
from tabular.latency_lut import LatencyLUT, PartTable, build_lut, lut_error
from tabular.models import NetworkConfig
from tabular.spaces import get_space

#: 8x8 input and 2 channels: every entry is a sub-millisecond module
SMALL = NetworkConfig(channels=2, in_channels=1, num_classes=10, resolution=8)
QUICK = {"warmup": 1, "repeats": 3}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # the machine is shared; tiny nets need no more


@pytest.fixture(scope="module")
def vgg_lut() -> LatencyLUT:
    return build_lut("macro", SMALL, **QUICK)


@pytest.fixture(scope="module")
def width_lut() -> LatencyLUT:
    return build_lut("macro-width", SMALL, **QUICK)


def test_entries_cover_every_choice(vgg_lut: LatencyLUT) -> None:
    names = [p.name for p in vgg_lut.parts]
    # 8px: three pools (8 -> 4 -> 2 -> 1); the fourth would go below 1x1
    assert names == (
        ["layout", "layer0", "layer1", "pool1", "layer2", "layer3", "pool2"]
        + [f"layer{i}" for i in range(4, 8)]
        + ["pool3"]
        + [f"layer{i}" for i in range(8, 16)]
        + ["classifier"]
    )
    layers = [p for p in vgg_lut.parts if p.layer is not None]
    assert [p.decisions for p in layers] == [(i,) for i in range(16)]
    assert all(len(p.latency_ms) == 3 and p.radix == (3,) for p in layers)
    assert all(p.decisions == () and len(p.latency_ms) == 1 for p in vgg_lut.parts if p.layer is None)
    assert all(t > 0 for p in vgg_lut.parts for t in p.latency_ms)
    assert vgg_lut.parts[2].input_shapes == ((2, 8, 8),) * 3
    assert vgg_lut.batch_size == 1 and vgg_lut.threads == 1 and vgg_lut.repeats == 3
    assert vgg_lut.network["resolution"] == 8 and vgg_lut.space_hash == get_space("macro").space_hash()


def test_width_entries_depend_on_the_widths_they_see(width_lut: LatencyLUT) -> None:
    space = get_space("macro-width")
    parts = {p.name: p for p in width_lut.parts}
    # a stage's first layer: its kernel, its stage's width and the previous stage's width
    assert parts["layer2"].decisions == (0, 1, space.kernel_decision(2))
    assert len(parts["layer2"].latency_ms) == 27
    assert parts["layer3"].decisions == (1, space.kernel_decision(3))
    assert parts["pool1"].decisions == (0,) and parts["classifier"].decisions == (4,)
    # the shapes each entry saw: w0 = 0.5, 1, 1.5 of 2 channels -> 1, 2, 3 input channels
    assert [s[0] for s in parts["layer2"].input_shapes[::9]] == [1, 2, 3]


def test_prediction_is_the_sum_of_the_parts(vgg_lut: LatencyLUT, width_lut: LatencyLUT) -> None:
    for lut in (vgg_lut, width_lut):
        space = get_space(lut.space)
        archs = space.sample_many(np.random.default_rng(0), 25)
        many = lut.predict_many(archs)
        for arch, value in zip(archs, many, strict=True):
            parts = lut.breakdown(tuple(arch))
            assert list(parts) == [p.name for p in lut.parts]
            assert value == pytest.approx(sum(parts.values()), rel=1e-12)
            assert lut.predict(tuple(arch)) == pytest.approx(value, rel=1e-12)
    space = get_space("macro")
    arch = space.from_str("3-5|7-3|3-3-5-7|5-5-5-5|7-7-7-3")
    by_hand = sum(
        p.latency_ms[arch[p.layer]] if p.layer is not None else p.latency_ms[0] for p in vgg_lut.parts
    )
    assert vgg_lut.predict(arch) == pytest.approx(by_hand, rel=1e-12)


def test_prediction_is_additive_on_a_hand_made_table() -> None:
    space = get_space("macro")
    layers = [
        PartTable(f"layer{i}", i, (i,), (3,), (1.0 * 10**i, 2.0 * 10**i, 3.0 * 10**i), ((1, 8, 8),) * 3)
        for i in range(16)
    ]
    parts = (*layers, PartTable("classifier", None, (), (), (0.5,), ((1, 1, 1),)))
    lut = LatencyLUT("macro", space.space_hash(), dict(dataclasses.asdict(SMALL)), 1, 1, 0, 1, parts)
    arch = (0, 1, 2) + (0,) * 13
    assert lut.predict(arch) == pytest.approx(0.5 + 1 + 20 + 300 + sum(10**i for i in range(3, 16)))
    with pytest.raises(LatencyTableError, match="2 entries .* expected 3"):
        PartTable("layer0", 0, (0,), (3,), (1.0, 2.0), ())
    with pytest.raises(Exception, match="choices outside"):
        lut.predict_many(np.full((1, 16), 3))


def test_json_round_trip_and_bad_files(vgg_lut: LatencyLUT, tmp_path: Path) -> None:
    path = vgg_lut.save(tmp_path / "lut.json")
    loaded = LatencyLUT.load(path)
    assert loaded == vgg_lut
    archs = get_space("macro").sample_many(np.random.default_rng(1), 10)
    np.testing.assert_array_equal(loaded.predict_many(archs), vgg_lut.predict_many(archs))
    data = json.loads(path.read_text())
    assert {"batch_size", "threads", "warmup", "repeats", "network", "torch_version", "cpu_model"} <= set(
        data
    )
    with pytest.raises(LatencyTableError, match="format"):
        LatencyLUT.from_dict({**data, "format": "something-else"})
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(LatencyTableError, match="cannot read"):
        LatencyLUT.load(tmp_path / "broken.json")
    del data["parts"][0]["radix"]
    with pytest.raises(LatencyTableError, match="missing or has unexpected fields"):
        LatencyLUT.from_dict(data)


def test_a_table_of_another_space_definition_is_refused(vgg_lut: LatencyLUT) -> None:
    stale = dataclasses.replace(vgg_lut, space_hash="0" * 16)
    with pytest.raises(LatencyTableError, match="measure it again"):
        stale.predict((0,) * 16)


def test_cell_spaces_have_no_chain_table() -> None:
    with pytest.raises(LatencyTableError, match="chain network"):
        build_lut("nb201", NetworkConfig(channels=2, cells_per_stage=1, in_channels=1, resolution=8), **QUICK)


def test_error_against_whole_networks(vgg_lut: LatencyLUT) -> None:
    archs = get_space("macro").sample_many(np.random.default_rng(2), 4)
    report = lut_error(vgg_lut, archs)
    assert len(report.measured_ms) == len(report.predicted_ms) == 4
    np.testing.assert_allclose(report.predicted_ms, vgg_lut.predict_many(archs))
    rel = np.abs(np.subtract(report.predicted_ms, report.measured_ms)) / np.asarray(report.measured_ms)
    np.testing.assert_allclose(report.relative_error, rel)
    assert report.worst_relative_error == max(rel) and report.median_relative_error == np.median(rel)
    # A sane factor, not a precision claim: parts are timed with few repeats, the hand-over
    # between modules is not counted, and this machine is shared, which slows whole forwards more.
    ratio = np.asarray(report.predicted_ms) / np.asarray(report.measured_ms)
    assert ((ratio > 0.05) & (ratio < 3)).all(), ratio
    with pytest.raises(LatencyTableError, match="at least one"):
        lut_error(vgg_lut, [])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["macro", "macro-ir", "macro-width"])
def test_error_at_the_table_scale(name: str) -> None:
    """The table budget's network (C=8, 16x16x1), 20 random archs, timed by the fastest repeat.

    Only a sane factor is asserted. On the shared 2-core development machine the median
    relative error of 20 archs ranged from 9 % to 75 % between runs as the other processes'
    load changed (whole forwards of a few ms are interrupted far more often than sub-ms parts),
    and the table always underestimated (then with parts timed alone, in warm caches).
    """
    config = NetworkConfig(channels=8, in_channels=1, resolution=16)
    lut = build_lut(name, config, warmup=5, repeats=15, statistic="min")
    assert lut.statistic == "min"
    report = lut_error(lut, get_space(name).sample_many(np.random.default_rng(0), 20))
    ratio = np.asarray(report.predicted_ms) / np.asarray(report.measured_ms)
    assert ((ratio > 0.1) & (ratio < 3)).all(), report


def test_placement_is_recorded_checked_and_read_from_old_files(vgg_lut: LatencyLUT) -> None:
    assert vgg_lut.placement == "in-network"  # the default
    isolated = build_lut("macro", SMALL, placement="isolated", **QUICK)
    assert isolated.placement == "isolated" and len(isolated.parts) == len(vgg_lut.parts)
    with pytest.raises(LatencyTableError, match="placement must be one of .* got 'alone'"):
        build_lut("macro", SMALL, placement="alone", **QUICK)
    old = vgg_lut.to_dict()
    del old["placement"]  # files written before placement existed timed parts alone
    assert LatencyLUT.from_dict(old).placement == "isolated"
