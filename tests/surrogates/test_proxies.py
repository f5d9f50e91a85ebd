"""Zero-cost proxies: the contract every registered proxy keeps, and sanity checks from the papers."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import pytest
import torch
from torch import nn

from surrogates.proxies import PROXIES, Proxy, ProxyWarning, get_proxy, proxy_names, register_proxy
from tabular.data import DataConfig, load_data
from tabular.errors import DuplicateRegistrationError, UnknownNameError
from tabular.hardware import count_flops, count_params
from tabular.models import build_network
from tabular.models.nb201 import NetworkConfig
from tabular.spaces import NB201Space

SPACE = NB201Space()
TINY = NetworkConfig(channels=4, cells_per_stage=1, in_channels=1, num_classes=10, resolution=16)
MIXED = SPACE.from_str(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
ALL_NONE = (0,) * 6
ALL_SKIP = (1,) * 6
ALL_CONV3 = (3,) * 6
#: scores that the papers leave undefined when the output ignores the input (every cell ``none``):
#: constant Jacobians (jacob_cov), identical ReLU codes (naswot), zero feature difference (zen)
UNDEFINED_ON_ALL_NONE = {"jacob_cov", "naswot", "zen"}
#: counts: NaN weights do not change how many there are
COUNTS = {"params", "flops"}
ALL = PROXIES.names()


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # the machine is shared; tiny nets need no more


@pytest.fixture(scope="module")
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    data = load_data(DataConfig(name="synthetic", resolution=16, train_size=200, valid_size=100))
    return data.x_train[:16].clone(), data.y_train[:16].clone()


def network(arch: tuple[int, ...], config: NetworkConfig = TINY, seed: int = 0) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_network("nb201", arch, config)


def score(name: str, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor], seed: int = 0) -> float:
    return get_proxy(name)(model, *batch, seed=seed)


class PoisonNaN(nn.Module):
    """Adds a NaN buffer: every activation after it is NaN, whatever the weights."""

    nan: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("nan", torch.tensor(float("nan")))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.nan


# ---- the contract, for every registered proxy ---------------------------------------------
def test_the_documented_proxies_are_registered() -> None:
    expected = {
        "synflow",
        "snip",
        "grasp",
        "fisher",
        "grad_norm",
        "jacob_cov",
        "naswot",
        "zen",
        "params",
        "flops",
    }
    assert expected <= set(ALL)
    assert set(proxy_names(data_free=True)) >= {"synflow", "params", "flops", "zen"}
    assert not set(proxy_names(data_free=False)) & set(proxy_names(data_free=True))


@pytest.mark.parametrize("name", ALL)
def test_finite_float_for_a_normal_cell(name: str, batch) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProxyWarning)
        value = score(name, network(MIXED), batch)
    assert isinstance(value, float) and math.isfinite(value)


@pytest.mark.parametrize("name", ALL)
def test_same_model_batch_and_seed_give_the_same_score(name: str, batch) -> None:  # type: ignore[no-untyped-def]
    model = network(MIXED)
    first = score(name, model, batch, seed=3)
    assert score(name, model, batch, seed=3) == first
    assert score(name, network(MIXED), batch, seed=3) == first  # an identical fresh copy too


@pytest.mark.parametrize("name", ALL)
def test_the_callers_model_is_not_changed(name: str, batch) -> None:  # type: ignore[no-untyped-def]
    model = network(MIXED)
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [m.training for m in model.modules()]
    dtypes = {k: v.dtype for k, v in before.items()}
    score(name, model, batch)
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) and after[k].dtype == dtypes[k] for k in before)
    assert [m.training for m in model.modules()] == flags
    assert all(p.grad is None and p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("name", ALL)
def test_global_rng_and_grad_mode_are_untouched(name: str, batch) -> None:  # type: ignore[no-untyped-def]
    model = network(MIXED)
    rng = torch.get_rng_state()
    with torch.no_grad():
        inside = score(name, model, batch)
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()
    assert torch.equal(torch.get_rng_state(), rng)
    assert inside == score(name, model, batch)  # gradient proxies work under the caller's no_grad


@pytest.mark.parametrize("name", ALL)
def test_inputs_are_not_changed(name: str, batch) -> None:  # type: ignore[no-untyped-def]
    x, y = batch[0].clone(), batch[1].clone()
    score(name, network(MIXED), (x, y))
    assert torch.equal(x, batch[0]) and torch.equal(y, batch[1]) and not x.requires_grad


@pytest.mark.parametrize("name", ALL)
def test_all_none_cell_works(name: str, batch) -> None:  # type: ignore[no-untyped-def]
    model = network(ALL_NONE)  # no parameter inside the cells; the stem, reductions and classifier have some
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = score(name, model, batch)
    assert isinstance(value, float)
    warned = any(issubclass(w.category, ProxyWarning) for w in caught)
    assert math.isfinite(value) or warned  # never a silent NaN
    assert math.isfinite(value) != (name in UNDEFINED_ON_ALL_NONE)


@pytest.mark.parametrize("name", [n for n in ALL if n not in COUNTS])
def test_nan_in_the_network_gives_nan_and_a_warning(name: str, batch) -> None:  # type: ignore[no-untyped-def]
    model = network(MIXED)
    stem = model.get_submodule("stem")
    assert isinstance(stem, nn.Sequential)
    stem.append(PoisonNaN())
    with pytest.warns(ProxyWarning, match=name):
        value = score(name, model, batch)
    assert math.isnan(value)


@pytest.mark.parametrize("name", ALL)
def test_nan_weights_give_nan_or_are_not_read(name: str, batch) -> None:  # type: ignore[no-untyped-def]
    model = network(MIXED)
    with torch.no_grad():
        stem_conv = model.get_submodule("stem.0")
        assert isinstance(stem_conv, nn.Conv2d)
        stem_conv.weight[0, 0, 0, 0] = float("nan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = score(name, model, batch)
    if name in COUNTS or name == "zen":  # counts ignore values; Zen redraws every weight
        assert math.isfinite(value)
    else:
        assert math.isnan(value) and any(issubclass(w.category, ProxyWarning) for w in caught)


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_score_becomes_nan_with_a_warning(bad: float, batch) -> None:  # type: ignore[no-untyped-def]
    proxy = Proxy(name="constant", fn=lambda m, x, y: bad)  # not registered: a private test proxy
    with pytest.warns(ProxyWarning, match="constant"):
        assert math.isnan(proxy(network(ALL_SKIP), *batch))


# ---- registry -------------------------------------------------------------------------------
def test_a_second_proxy_with_a_taken_name_is_rejected() -> None:
    with pytest.raises(DuplicateRegistrationError, match="synflow"):

        @register_proxy("synflow", data_free=True)
        def another(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
            return 0.0

    assert get_proxy("synflow").fn.__module__ == "surrogates.proxies.saliency"


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_proxy("synflw")
    assert "synflw" in str(info.value) and all(n in str(info.value) for n in ALL)


def test_every_proxy_cites_its_source() -> None:
    for name in ALL:
        doc = PROXIES.get(name).fn.__doc__ or ""
        assert PROXIES.get(name).reference and ("20" in doc or "tabular.hardware" in doc), name


def test_importing_the_proxies_does_not_import_torch() -> None:
    code = "import sys, surrogates.proxies as p; assert len(p.PROXIES) >= 10; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- sanity relations from the papers ---------------------------------------------------------
def test_params_and_flops_match_the_hardware_counts(batch) -> None:  # type: ignore[no-untyped-def]
    for arch in (MIXED, ALL_NONE, ALL_CONV3):
        model = network(arch)
        assert score("params", model, batch) == count_params(model)
        assert score("flops", model, batch) == count_flops(model, TINY.input_shape)


def test_synflow_grows_with_conv_width_and_depth(batch) -> None:  # type: ignore[no-untyped-def]
    # Tanaka et al.: synaptic flow sums over all input-output paths, so more conv paths score higher
    skip, conv = score("synflow", network(ALL_SKIP), batch), score("synflow", network(ALL_CONV3), batch)
    assert conv > skip > 0
    wide = NetworkConfig(channels=8, cells_per_stage=1, in_channels=1, num_classes=10, resolution=16)
    deep = NetworkConfig(channels=4, cells_per_stage=2, in_channels=1, num_classes=10, resolution=16)
    assert score("synflow", network(ALL_CONV3, wide), batch) > conv
    assert score("synflow", network(ALL_CONV3, deep), batch) > conv
    assert score("synflow", network(ALL_NONE), batch) == 0.0  # no path from input to output


def test_synflow_ignores_the_data_and_the_weights_signs(batch) -> None:  # type: ignore[no-untyped-def]
    model = network(MIXED)
    assert score("synflow", model, batch) == score("synflow", model, (torch.randn_like(batch[0]), batch[1]))
    flipped = network(MIXED)
    with torch.no_grad():
        for p in flipped.parameters():
            p.neg_()
    assert score("synflow", flipped, batch) == pytest.approx(score("synflow", model, batch), rel=1e-12)


def test_naswot_tells_cells_apart(batch) -> None:  # type: ignore[no-untyped-def]
    values = [score("naswot", network(a), batch) for a in (MIXED, ALL_SKIP, ALL_CONV3)]
    assert len({round(v, 6) for v in values}) == 3
    # NASWOT's kernel is at most N_A everywhere; its log-det is finite and positive for distinct codes
    assert all(math.isfinite(v) and v > 0 for v in values)


def test_naswot_ignores_relus_whose_output_is_unused(batch) -> None:  # type: ignore[no-untyped-def]
    # node 1 feeds nothing: the 3x3 conv on edge 0->1 runs but never reaches the cell output
    dead = network(
        SPACE.from_str("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|")
    )
    alive = network(SPACE.from_str("|none~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"))
    alive.load_state_dict(dead.state_dict(), strict=False)  # the same weights on every shared module
    assert score("naswot", dead, batch) == pytest.approx(score("naswot", alive, batch), rel=1e-12)


def test_data_free_proxies_need_only_the_shape(batch) -> None:  # type: ignore[no-untyped-def]
    model = network(MIXED)
    zeros = (torch.zeros_like(batch[0]), torch.zeros_like(batch[1]))
    for name in proxy_names(data_free=True):
        assert score(name, model, batch) == score(name, model, zeros), name


def test_zen_depends_on_the_seed_not_on_the_weights(batch) -> None:  # type: ignore[no-untyped-def]
    assert score("zen", network(MIXED, seed=0), batch) == score("zen", network(MIXED, seed=1), batch)
    assert score("zen", network(MIXED), batch, seed=0) != score("zen", network(MIXED), batch, seed=1)
    assert score("zen", network(ALL_CONV3), batch) > score("zen", network(ALL_SKIP), batch)


def test_gradient_proxies_see_the_labels(batch) -> None:  # type: ignore[no-untyped-def]
    model = network(MIXED)
    shuffled = (batch[0], (batch[1] + 1) % 10)
    for name in ("snip", "grasp", "fisher", "grad_norm"):
        assert score(name, model, batch) != score(name, model, shuffled), name
