"""Macro networks: structure, shapes, training, hardware metrics and zero-cost proxies."""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from surrogates.proxies import PROXIES, get_proxy
from tabular import hardware as hw
from tabular.budget import get_budget
from tabular.data import DataConfig, load_data
from tabular.models import NETWORKS, MacroNetwork, NetworkConfig, build_network, network_parts
from tabular.models.macro import InvertedResidual, build_macro, plan_network
from tabular.spaces import MACRO_SPACE_NAMES, SPACES, MacroSpace, get_space
from tabular.training import train_cell

TINY = NetworkConfig(channels=4, in_channels=1, num_classes=10, resolution=16)
CIFAR = NetworkConfig(channels=4, in_channels=3, num_classes=10, resolution=32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # the machine is shared; tiny nets need no more


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return load_data(DataConfig(name="synthetic", resolution=16, train_size=300, valid_size=100))


def sample(name: str, seed: int) -> tuple[int, ...]:
    return get_space(name).sample(np.random.default_rng(seed))


def network(name: str, arch: tuple[int, ...], config: NetworkConfig = TINY, seed: int = 0) -> MacroNetwork:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_network(name, arch, config)
    assert isinstance(model, MacroNetwork)
    return model


def test_every_macro_space_has_a_network() -> None:
    macro = [n for n in SPACES.names() if isinstance(get_space(n), MacroSpace)]
    assert sorted(macro) == sorted(MACRO_SPACE_NAMES)
    assert all(name in NETWORKS for name in macro)


def test_network_config_moved_but_old_imports_work() -> None:
    from tabular.models import config, nb201

    assert nb201.NetworkConfig is config.NetworkConfig is NetworkConfig


@pytest.mark.parametrize("name", MACRO_SPACE_NAMES)
@pytest.mark.parametrize("config", [TINY, CIFAR], ids=["16px-1ch", "32px-3ch"])
def test_forward_shape_and_parts_replay_the_forward(name: str, config: NetworkConfig) -> None:
    arch = sample(name, 0)
    model = network(name, arch, config).eval()
    x = torch.randn(2, *config.input_shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(x)
        assert out.shape == (2, config.num_classes) and torch.isfinite(out).all()
        h = x
        for part in network_parts(model):
            assert tuple(h.shape[1:]) == part.input_shape, part.name
            h = part.module(h)
    torch.testing.assert_close(h, out, rtol=0, atol=0)
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in model.parameters() if p.dim() == 4)
    parts = network_parts(model)
    assert [p.layer for p in parts if p.layer is not None] == list(range(16))
    # a string builds the same network
    same = network(name, get_space(name).to_str(arch), config)
    assert same.arch == model.arch


def test_vgg_layers_widths_and_pools() -> None:
    space = get_space("macro")
    arch = space.from_str("3-5|7-3|3-3-5-7|5-5-5-5|7-7-7-3")
    model = network("macro", arch, NetworkConfig(channels=8, in_channels=1, resolution=16))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size[0] for c in convs] == [3, 5, 7, 3, 3, 3, 5, 7, 5, 5, 5, 5, 7, 7, 7, 3]
    assert [c.padding[0] for c in convs] == [k.kernel_size[0] // 2 for k in convs]
    assert [c.out_channels for c in convs] == [8] * 2 + [16] * 2 + [32] * 4 + [64] * 8
    # 16 -> 8 -> 4 -> 2 -> 1: four pools; at 8px the last would go below 1x1, so only three
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 4
    small = network("macro", arch, NetworkConfig(channels=8, in_channels=1, resolution=8))
    assert sum(isinstance(m, nn.MaxPool2d) for m in small.modules()) == 3
    # parameters: conv k*k*cin*cout, BN 2*cout, classifier 64*10+10
    cins = [1, 8, 8, 16, 16, 32, 32, 32, 32, 64, 64, 64, 64, 64, 64, 64]
    expected = sum(
        c.kernel_size[0] ** 2 * ci * c.out_channels + 2 * c.out_channels
        for c, ci in zip(convs, cins, strict=True)
    )
    assert hw.count_params(model) == expected + 64 * 10 + 10


def test_width_multipliers_scale_stages() -> None:
    space = get_space("macro-width")
    arch = space.from_str("w0.5:3-3|w1.5:3-3|w1:3-3-3-3|w0.5:3-3-3-3|w1.5:3-3-3-3")
    model = network("macro-width", arch, NetworkConfig(channels=8, in_channels=1, resolution=16))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs[::2]] == [4, 24, 32, 32, 32, 32, 96, 96]
    # channels 1 with multiplier 0.5 still gives a 1-wide stage
    assert space.stage_widths(arch, 1)[0] == 1


def test_inverted_residual_blocks() -> None:
    space = get_space("macro-ir")
    arch = space.from_str("k3e3|k5e6-k7e3|k3e6-k3e6-k3e6|k5e3-k5e3-k5e3-k5e3|k7e6-k7e6-k7e6|k3e3-k3e3-k3e3")
    model = network("macro-ir", arch, NetworkConfig(channels=8, in_channels=1, resolution=16))
    blocks = [m for m in model.modules() if isinstance(m, InvertedResidual)]
    assert len(blocks) == 16
    depthwise = [b.block[3] for b in blocks]
    assert [d.kernel_size[0] for d in depthwise] == [3, 5, 7, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 3, 3, 3]
    assert all(d.groups == d.in_channels == d.out_channels for d in depthwise)
    assert [b.block[0].out_channels // b.block[0].in_channels for b in blocks][:3] == [3, 6, 3]
    # MobileNetV2 strides 1,2,2,2,1,2 by stage at 16px: 16 -> 8 -> 4 -> 2 -> 2 -> 1
    assert [b.stride for b in blocks] == [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1]
    assert [int(b.residual) for b in blocks] == [1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1]
    assert any(isinstance(m, nn.ReLU6) for m in model.modules())
    # at 4px the maps reach 1x1 early and then keep stride 1
    tiny = plan_network(space, arch, NetworkConfig(channels=8, in_channels=1, resolution=4))
    assert [p.output_shape[1] for p in tiny if p.kind == "ir"][-3:] == [1, 1, 1]
    assert [p.stride for p in tiny if p.kind == "ir"].count(2) == 2


def test_build_macro_rejects_other_spaces() -> None:
    with pytest.raises(TypeError, match="needs a MacroSpace"):
        build_macro("nb201", (0,) * 6)


@pytest.mark.parametrize("name", MACRO_SPACE_NAMES)
def test_train_cell_runs_and_records(name: str, data) -> None:  # type: ignore[no-untyped-def]
    budget = replace(get_budget("tiny"), epochs=1, train_size=256, valid_size=100, batch_size=128)
    result = train_cell(get_space(name), sample(name, 1), data, budget, seed=0, device="cpu")
    assert result.ok, result.reason
    assert result.arch == get_space(name).to_str(sample(name, 1)) and len(result.epochs) == 1
    assert math.isfinite(result.epochs[0].train_loss) and math.isfinite(result.epochs[0].test_acc)


@pytest.mark.parametrize("name", MACRO_SPACE_NAMES)
def test_hardware_metrics_are_finite(name: str) -> None:
    model = network(name, sample(name, 2))
    metrics = hw.measure(model, TINY.input_shape, latency=True, memory=True, warmup=1, repeats=3)
    assert metrics.params == sum(p.numel() for p in model.parameters()) > 0
    assert metrics.flops > 0 and metrics.nb201_mflops > 0
    assert metrics.latency_ms is not None and 0 < metrics.latency_ms < 1e4
    assert metrics.peak_memory_bytes is not None and metrics.peak_memory_bytes > 0
    # torch counts 2 per multiply-add and no bias; the classifier's bias is NB201's only extra
    assert metrics.flops == pytest.approx(2 * (metrics.nb201_mflops * 1e6 - TINY.num_classes), rel=1e-9)


@pytest.mark.parametrize("name", MACRO_SPACE_NAMES)
def test_every_proxy_scores_a_macro_network(name: str, data) -> None:  # type: ignore[no-untyped-def]
    model = network(name, sample(name, 3))
    batch = (data.x_train[:8].clone(), data.y_train[:8].clone())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NaN would warn: none is expected here
        scores = {p: get_proxy(p)(model, *batch, seed=0) for p in PROXIES.names()}
    assert all(math.isfinite(v) for v in scores.values()), scores


def test_naswot_and_synflow_see_relu6_blocks(data) -> None:  # type: ignore[no-untyped-def]
    """MobileNetV2 blocks use ReLU6: NASWOT reads their codes, synflow treats them as ReLU."""
    model = network("macro-ir", sample("macro-ir", 4))
    batch = (data.x_train[:8].clone(), data.y_train[:8].clone())
    naswot = get_proxy("naswot")(model, *batch, seed=0)
    assert math.isfinite(naswot) and naswot > 0  # with nn.ReLU alone there was no code: NaN
    relu = copy.deepcopy(model)
    for parent in list(relu.modules()):
        for child_name, child in parent.named_children():
            if isinstance(child, nn.ReLU6):
                setattr(parent, child_name, nn.ReLU(inplace=True))
    synflow = get_proxy("synflow")(model, *batch, seed=0)
    assert synflow == get_proxy("synflow")(relu, *batch, seed=0) and synflow > 1e6
    assert any(isinstance(m, nn.ReLU6) for m in model.modules())  # the caller's model is untouched
