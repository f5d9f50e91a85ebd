"""Training under a fixed budget: real torch on the synthetic dataset (seconds)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from tabular.budget import PRESETS, TrainBudget, get_budget, override_budget
from tabular.data import DataConfig, load_data
from tabular.errors import BudgetError, UnknownNameError
from tabular.spaces import NB201Space
from tabular.training import MEMORY_FORMATS, TrainResult, network_config, place_network, train_cell

SPACE = NB201Space()
GOOD = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
BUDGET = replace(get_budget("tiny"), epochs=2, train_size=2000, valid_size=500)


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return load_data(DataConfig(name="synthetic", resolution=16, train_size=2000, valid_size=500))


def test_train_records_every_epoch(data) -> None:  # type: ignore[no-untyped-def]
    result = train_cell(SPACE, GOOD, data, BUDGET, seed=0, device="cpu")
    assert result.ok and result.arch == GOOD and len(result.epochs) == 2
    last = result.epochs[-1]
    assert last.valid_acc > 100 / data.num_classes + 10  # it learned something
    assert math.isnan(result.epochs[0].test_acc) and not math.isnan(
        last.test_acc
    )  # test after the last epoch
    assert all(e.train_seconds > 0 for e in result.epochs)
    assert TrainResult.from_dict(result.to_dict()) == result


@pytest.mark.parametrize("memory_format", MEMORY_FORMATS)
def test_same_seed_same_curves_on_cpu(data, memory_format: str) -> None:  # type: ignore[no-untyped-def]
    a = train_cell(SPACE, GOOD, data, BUDGET, seed=3, device="cpu", memory_format=memory_format)
    b = train_cell(SPACE, GOOD, data, BUDGET, seed=3, device="cpu", memory_format=memory_format)
    c = train_cell(SPACE, GOOD, data, BUDGET, seed=4, device="cpu", memory_format=memory_format)
    assert a.memory_format == memory_format
    key = [(e.train_loss, e.valid_acc, e.test_acc) for e in a.epochs]
    assert key == [(e.train_loss, e.valid_acc, e.test_acc) for e in b.epochs]
    assert key != [(e.train_loss, e.valid_acc, e.test_acc) for e in c.epochs]


def test_memory_format_lays_out_every_conv_weight(data) -> None:  # type: ignore[no-untyped-def]
    import torch

    from tabular.models import build_network

    config = network_config(BUDGET, data)
    for name, layout in (("channels_last", torch.channels_last), ("contiguous", torch.contiguous_format)):
        model = place_network(build_network(SPACE, SPACE.from_str(GOOD), config), torch.device("cpu"), name)
        # a 1-input-channel weight (stem, pooling as depthwise conv) is laid out alike in both
        convs = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        convs = [w for w in convs if w.shape[1] > 1]
        assert convs and all(w.is_contiguous(memory_format=layout) for w in convs)
        out = model.stem(torch.zeros(2, *config.input_shape))  # activations follow the weights
        assert out.is_contiguous(memory_format=layout)


def test_both_memory_formats_learn_alike(data) -> None:  # type: ignore[no-untyped-def]
    last = [
        train_cell(SPACE, GOOD, data, BUDGET, seed=0, device="cpu", memory_format=f).epochs[-1].valid_acc
        for f in MEMORY_FORMATS
    ]
    assert min(last) > 100 / data.num_classes + 10 and abs(last[0] - last[1]) < 10


def test_unknown_memory_format_is_a_typed_error(data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownNameError, match="memory format 'nhwc'.*channels_last"):
        train_cell(SPACE, GOOD, data, BUDGET, seed=0, device="cpu", memory_format="nhwc")


def test_global_rng_is_left_alone(data) -> None:  # type: ignore[no-untyped-def]
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_cell(SPACE, GOOD, data, BUDGET, seed=0, device="cpu")
    assert torch.equal(torch.rand(3), expected)


def test_diverging_run_is_recorded_as_failed(data) -> None:  # type: ignore[no-untyped-def]
    wild = replace(BUDGET, name="wild", lr=1e12, weight_decay=0.0)
    result = train_cell(SPACE, GOOD, data, wild, seed=0, device="cpu")
    assert result.status == "failed"
    assert "nan" in result.reason or "inf" in result.reason
    assert all(math.isfinite(e.train_loss) for e in result.epochs)  # nothing made up


def test_augmentation_runs(data) -> None:  # type: ignore[no-untyped-def]
    result = train_cell(SPACE, GOOD, data, replace(BUDGET, augment=True, epochs=1), seed=0, device="cpu")
    assert result.ok


def test_budget_validation() -> None:
    with pytest.raises(BudgetError, match="epochs must be an int >= 1, got 0"):
        TrainBudget(name="zero", epochs=0)
    with pytest.raises(BudgetError, match="lr"):
        TrainBudget(name="neg", epochs=1, lr=-1)
    with pytest.raises(UnknownNameError, match="tiny"):
        get_budget("huge")
    assert {"tiny", "small", "nb201"} <= set(PRESETS)
    assert TrainBudget.from_dict(PRESETS["small"].to_dict()) == PRESETS["small"]


def test_budget_overrides_are_typed_per_field() -> None:
    small = get_budget("small")
    changed = override_budget(small, ["lr=0.05", "cells-per-stage=3", "augment=yes", "train_size=none"])
    assert changed == replace(small, lr=0.05, cells_per_stage=3, augment=True, train_size=None)
    assert override_budget(small, []) == small
    for bad, message in [
        ("lr", "expected FIELD=VALUE"),
        ("name=big", "expected FIELD=VALUE"),
        ("epochs=2.5", "epochs takes a value of type int, got '2.5'"),
        ("augment=maybe", "augment takes a value of type bool"),
        ("momentum=1.5", "0 <= momentum < 1"),
    ]:
        with pytest.raises(BudgetError, match=message):
            override_budget(small, [bad])


def test_resolution_mismatch(data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BudgetError, match="16px"):
        train_cell(SPACE, GOOD, data, replace(BUDGET, resolution=32), seed=0, device="cpu")
