"""The zero-cost proxy registry and the contract every proxy runs under.

A proxy is a function ``fn(model, inputs, targets) -> float`` registered by name::

    @register_proxy("synflow", data_free=True)
    def synflow(model, inputs, targets): ...

The decorator returns a :class:`Proxy`, whose ``__call__`` enforces the contract, so the
function body only computes its score:

* it runs on a deep copy of the caller's model (parameters, buffers, train/eval flags and
  ``.grad`` of the caller are never touched), with gradients enabled and every parameter
  requiring grad; the caller's grad mode is restored afterwards;
* randomness comes from ``seed``: the global CPU (and the model's CUDA) generators are forked
  and seeded, and restored on exit, so the caller's RNG streams are untouched and the same
  model, batch and seed give the same score;
* a NaN or infinite score becomes NaN with a :class:`ProxyWarning`, never a made-up number.

Modules import torch inside functions, so ``import surrogates.proxies`` stays light and the
registry can be listed without torch.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tabular.errors import NasuiteError
from tabular.registry import Registry

if TYPE_CHECKING:
    import torch
    from torch import nn

ProxyFn = Callable[["nn.Module", "torch.Tensor", "torch.Tensor"], float]


class ProxyWarning(RuntimeWarning):
    """A proxy gave no usable score (NaN, infinite, or failed) for one network."""


class ProxyConfigError(NasuiteError, ValueError):
    """Settings a proxy computation cannot work with (missing network, data, clashing scores)."""


@dataclass(frozen=True)
class Proxy:
    """A registered zero-cost proxy. Call it as ``proxy(model, inputs, targets, seed=0)``.

    ``data_free`` proxies use only the batch's shape (synflow, Zen, params, FLOPs), so they
    can score networks without a dataset.
    """

    name: str
    fn: ProxyFn
    data_free: bool = False

    @property
    def reference(self) -> str:
        """First line of the function's docstring (what it computes, and the paper)."""
        return (self.fn.__doc__ or "").strip().splitlines()[0] if self.fn.__doc__ else ""

    def __call__(
        self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0
    ) -> float:
        import torch

        work = private_copy(model)
        device = next((p.device for p in work.parameters()), inputs.device)
        # detached copies: a proxy may set requires_grad on its input, the caller's stays as it was
        x = inputs.detach().to(device).clone()
        y = targets.detach().to(device).clone()
        with seeded(seed, device), torch.enable_grad():
            value = float(self.fn(work, x, y))
        return finite_or_nan(value, self.name)


#: Every registered proxy by name.
PROXIES: Registry[Proxy] = Registry("zero-cost proxy")


def register_proxy(name: str, *, data_free: bool = False) -> Callable[[ProxyFn], Proxy]:
    """Decorator: register ``fn`` as proxy ``name``; a second proxy of that name is rejected."""

    def decorate(fn: ProxyFn) -> Proxy:
        proxy = Proxy(name=name, fn=fn, data_free=data_free)
        PROXIES.add(name, proxy)  # raises DuplicateRegistrationError for a taken name
        return proxy

    return decorate


def get_proxy(name: str) -> Proxy:
    """The proxy ``name``; :class:`~tabular.errors.UnknownNameError` lists the known ones."""
    return PROXIES.get(name)


def proxy_names(data_free: bool | None = None) -> list[str]:
    """Registered names, optionally only the data-free (or only the data-using) ones."""
    return [n for n in PROXIES.names() if data_free is None or PROXIES.get(n).data_free == data_free]


# ---- the contract -----------------------------------------------------------------------
def private_copy(model: nn.Module) -> nn.Module:
    """A deep copy with fresh gradient state: no ``.grad`` from the caller, all params trainable."""
    work = copy.deepcopy(model)
    for p in work.parameters():
        p.grad = None
        p.requires_grad_(True)
    return work


@contextmanager
def seeded(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Fork the global CPU generator (and ``device``'s, if CUDA), seed them, restore on exit.

    ``torch.manual_seed`` would also reseed every CUDA device, which ``fork_rng`` does not
    restore unless listed; seeding only the generators we fork keeps the rest untouched.
    """
    import torch

    cuda = [device.index or 0] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        for index in cuda:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


def finite_or_nan(value: float, name: str) -> float:
    """``value`` if finite; otherwise NaN, with a warning that says which proxy gave what."""
    if math.isfinite(value):
        return value
    warnings.warn(f"zero-cost proxy {name!r} gave {value}; returning NaN", ProxyWarning, stacklevel=3)
    return math.nan


# ---- helpers shared by proxies ----------------------------------------------------------
def weighted_layers(model: nn.Module) -> list[nn.Conv2d | nn.Linear]:
    """Conv2d and Linear modules: the layers whose weights pruning-at-init saliencies score.

    Abdelfattah et al. (ICLR 2021) sum per-weight saliencies over exactly these layers
    (weights only: biases and BatchNorm affine parameters are not scored).
    """
    from torch import nn

    return [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def layer_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weight tensors of :func:`weighted_layers`."""
    return [m.weight for m in weighted_layers(model)]


def cross_entropy(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``model`` on the batch, in train mode (batch statistics in BN)."""
    import torch.nn.functional as F  # noqa: N812 -- the usual torch alias

    model.train()
    return F.cross_entropy(model(inputs), targets)


def total(values: list[torch.Tensor]) -> float:
    """Sum of many tensors' elements, accumulated in float64 (scores span many decades)."""
    import torch

    if not values:
        return 0.0
    return float(torch.stack([v.detach().double().sum() for v in values]).sum())


def rectifiers(model: nn.Module) -> list[nn.Module]:
    """The ReLU-family activations of ``model``: ``nn.ReLU`` and MobileNetV2's ``nn.ReLU6``.

    Both switch a unit off exactly when its input is <= 0, which is the on/off pattern that
    activation-code proxies (NASWOT) read; ReLU6 only adds a ceiling at 6.
    """
    from torch import nn

    return [m for m in model.modules() if isinstance(m, nn.ReLU | nn.ReLU6)]


def unclip_rectifiers(model: nn.Module) -> nn.Module:
    """Replace every ``nn.ReLU6`` in ``model`` by an ``nn.ReLU`` (in place; returns ``model``).

    For proxies that linearise a network with positive weights and inputs (synflow): there
    a ReLU is the identity, as Tanaka et al. (2020) intend, but ReLU6 would clip the growing
    signal at 6 and zero its gradient, so the score would measure saturation, not flow.
    """
    from torch import nn

    for parent in list(model.modules()):
        for child_name, child in parent.named_children():
            if isinstance(child, nn.ReLU6):
                setattr(parent, child_name, nn.ReLU(inplace=child.inplace))
    return model
