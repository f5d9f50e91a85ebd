"""Hardware metrics against the official NATS-Bench records, and the measurement helpers."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from tabular import hardware as hw
from tabular.models import NetworkConfig, build_network

# (dataset key in the record, network config) as NB201 trains them
DATASETS = {
    "cifar10": NetworkConfig(num_classes=10, resolution=32),
    "cifar100": NetworkConfig(num_classes=100, resolution=32),
    "ImageNet16-120": NetworkConfig(num_classes=120, resolution=16),
}
NATS_ARCHS = ("0", "11", "284")


@pytest.fixture(scope="module")
def nats_records(published: Path) -> dict[str, dict]:
    data = json.loads((published / "nats-tss-fixture" / "nats_tss_3archs.json").read_text())
    return {idx: data["200"][idx] for idx in NATS_ARCHS}


def _cell_pool_outputs(arch_str: str, config: NetworkConfig) -> int:
    """Per-sample output elements of all the cells' avg_pool_3x3 edges."""
    c, r = config.channels, config.resolution
    per_cell = c * r * r + 2 * c * (r // 2) ** 2 + 4 * c * (r // 4) ** 2
    return arch_str.count("avg_pool_3x3") * config.cells_per_stage * per_cell


@pytest.mark.parametrize("idx", NATS_ARCHS)
def test_params_and_flops_match_nats_records(nats_records: dict[str, dict], idx: str) -> None:
    arch_str = nats_records[idx]["arch_str"]
    for dataset, config in DATASETS.items():
        record = nats_records[idx]["results"][f"{dataset}@777"]
        model = build_network("nb201", arch_str, config)
        assert round(hw.count_params(model) / 1e6, 6) == record["params"], dataset
        mflops = hw.nb201_mflops(model, config.input_shape)
        assert round(mflops, 5) == record["flop"], dataset

        # torch's counter: 2 per multiply-add, no bias adds, the cell pools as depthwise convs
        nb201_ops = round(mflops * 1e6)
        expected = 2 * (nb201_ops - config.num_classes) + 18 * _cell_pool_outputs(arch_str, config)
        assert hw.count_flops(model, config.input_shape) == expected, dataset


def test_nb201_flops_exclude_pooling_unless_asked(nats_records: dict[str, dict]) -> None:
    arch_str, config = nats_records["0"]["arch_str"], DATASETS["cifar10"]
    model = build_network("nb201", arch_str, config)
    base = hw.nb201_mflops(model, config.input_shape)
    with_pools = hw.nb201_mflops(model, config.input_shape, include_pooling=True)
    c, r = config.channels, config.resolution
    # 2x2 shortcut pools of the two reductions: 4 ops per output element
    shortcut = 4 * (c * (r // 2) ** 2 + 2 * c * (r // 4) ** 2)
    assert round((with_pools - base) * 1e6) == 9 * _cell_pool_outputs(arch_str, config) + shortcut


def test_flop_conventions_on_a_tiny_model() -> None:
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=True), nn.Flatten(), nn.Linear(4 * 5 * 5, 3))
    conv_macs = 4 * 5 * 5 * 2 * 9
    linear_macs = 100 * 3
    assert hw.nb201_mflops(model, (2, 5, 5)) * 1e6 == pytest.approx(conv_macs + 100 + linear_macs + 3)
    assert hw.count_flops(model, (2, 5, 5)) == 2 * (conv_macs + linear_macs)


def test_count_params_includes_bn_affine_not_running_stats() -> None:
    assert hw.count_params(nn.BatchNorm2d(8)) == 16
    assert hw.count_params(nn.BatchNorm2d(8, affine=False)) == 0
    shared = nn.Linear(3, 3)
    assert hw.count_params(nn.Sequential(shared, shared)) == 12  # shared weights once


def test_latency_is_positive_and_restores_threads_and_mode() -> None:
    model = build_network("nb201", (3, 2, 4, 1, 3, 2), NetworkConfig(channels=4, cells_per_stage=1))
    model.train()
    before = torch.get_num_threads()
    other = 2 if before != 2 else 1
    torch.set_num_threads(other)
    try:
        ms = hw.latency_ms(model, (3, 16, 16), batch_size=2, threads=1, warmup=1, repeats=3)
        assert math.isfinite(ms) and ms > 0
        assert torch.get_num_threads() == other
        assert model.training and all(m.training for m in model.modules())
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError):
        hw.latency_ms(model, (3, 16, 16), threads=0)
    with pytest.raises(ValueError, match="statistic must be 'median' or 'min', got 'mean'"):
        hw.latency_ms(model, (3, 16, 16), statistic="mean")
    fastest = hw.latency_ms(model, (3, 16, 16), threads=1, warmup=1, repeats=5, statistic="min")
    assert math.isfinite(fastest) and fastest > 0


def test_peak_memory_counts_live_activations() -> None:
    # ReLU -> ReLU -> ReLU (not in place): at most two activations are alive at once
    model = nn.Sequential(nn.ReLU(), nn.ReLU(), nn.ReLU())
    one = 8 * 16 * 16 * 4
    assert hw.peak_forward_memory_bytes(model, (8, 16, 16), batch_size=1) == 2 * one
    assert hw.peak_forward_memory_bytes(model, (8, 16, 16), batch_size=4) == 8 * one


def test_measure_collects_everything(nats_records: dict[str, dict]) -> None:
    config = NetworkConfig(num_classes=10)
    model = build_network("nb201", nats_records["284"]["arch_str"], config)
    metrics = hw.measure(model, config.input_shape, warmup=1, repeats=2, memory=True)
    assert metrics.params_m == 0.101306
    assert round(metrics.nb201_mflops, 5) == 11.71521
    assert metrics.flops == hw.count_flops(model, config.input_shape)
    assert metrics.latency_ms is not None and metrics.latency_ms > 0
    assert metrics.peak_memory_bytes is not None and metrics.peak_memory_bytes > 0
    assert metrics.input_shape == (3, 32, 32) and metrics.threads == 1
    assert metrics.to_dict()["params"] == 101306
    with pytest.raises(dataclasses.FrozenInstanceError):
        metrics.params = 0  # type: ignore[misc]
    assert hw.measure(model, config.input_shape, latency=False).latency_ms is None


def test_example_inputs_follow_a_models_channels_last_weights() -> None:
    nchw = nn.Conv2d(8, 16, 1)  # 1x1 weights are contiguous in both formats: keep NCHW
    x = hw._example(nchw, (8, 4, 4), 2)
    assert x.is_contiguous() and not x.is_contiguous(memory_format=torch.channels_last)
    last = nn.Conv2d(8, 16, 1).to(memory_format=torch.channels_last)
    x = hw._example(last, (8, 4, 4), 2)
    assert x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


class _Sleep(nn.Module):
    """A module whose forward takes at least ``seconds`` (time.sleep: not CPU contention)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import time

        time.sleep(self.seconds)
        return x * self.scale


def test_latency_in_model_times_only_the_submodule() -> None:
    slow, fast = _Sleep(0.02), _Sleep(0.0)
    model = nn.Sequential(slow, fast, nn.Flatten())
    model.train()
    whole = hw.latency_ms(model, (1, 4, 4), warmup=1, repeats=3, statistic="min")
    slow_ms = hw.latency_in_model_ms(model, slow, (1, 4, 4), warmup=1, repeats=3, statistic="min")
    fast_ms = hw.latency_in_model_ms(model, fast, (1, 4, 4), warmup=1, repeats=3)
    # the sleeping submodule is nearly all of the model: separate minima of 3 may differ by jitter
    assert 20 <= slow_ms <= whole + 1.0 and fast_ms < 20 <= whole
    assert model.training  # the mode is restored
    assert not slow._forward_pre_hooks and not slow._forward_hooks  # the hooks are removed
    with pytest.raises(ValueError, match="ran 0 times in 3 forwards"):
        hw.latency_in_model_ms(model, nn.ReLU(), (1, 4, 4), warmup=0, repeats=3)
    with pytest.raises(ValueError, match="statistic must be"):
        hw.latency_in_model_ms(model, fast, (1, 4, 4), statistic="mean")
