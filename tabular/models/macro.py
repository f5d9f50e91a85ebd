"""Networks of the macro chain spaces (:mod:`tabular.spaces.macro`): VGG and MobileNetV2 styles.

``conv`` spaces (VGG, Simonyan & Zisserman, ICLR 2015): every layer is conv(k, padding k//2,
no bias)-BN-ReLU; stage ``s`` is ``channels * stage_channels[s] * width`` wide (rounded, at
least 1); a 2x2 max-pool enters each downsampling stage while the map is at least 2x2 (never
below 1x1); then global average pooling and a linear classifier.

``ir`` spaces (MobileNetV2, Sandler et al., CVPR 2018; the blocks of ProxylessNAS and FBNet):
a 3x3 conv-BN-ReLU6 stem to the first stage's width, then inverted residual blocks: 1x1
expansion by ``e``, BN, ReLU6, depthwise ``k x k``, BN, ReLU6, 1x1 projection, BN, plus the
input when the block keeps stride 1 and the width. A downsampling stage's first block has
stride 2 while the map is larger than 1x1. A 1x1 conv-BN-ReLU6 head, global average pooling
and a linear classifier close the network.

The network is one ``nn.Sequential`` of named parts (``layout``, ``stem``, ``layer<i>``,
``pool<s>``, ``head``, ``classifier``); :func:`network_parts` lists them with the input
shape each sees and the decisions that fix it, which is what the per-layer latency lookup
table (:mod:`tabular.latency_lut`) measures.

Memory format: the weights are channels-last and the first part (``layout``) makes the input
channels-last, because oneDNN's CPU kernels for that layout are much faster here. Measured
on one core at the ``small`` table budget (C=8, 16x16x1, batch 128), one SGD step went from
0.27 to 0.07 s (``macro``), 0.97 to 0.28 s (``macro-ir``: NCHW depthwise 7x7 backward is
slow) and 0.13 to 0.07 s (``macro-width``). Values are the same up to float rounding.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from tabular.models.config import NetworkConfig
from tabular.spaces.base import Arch, get_space
from tabular.spaces.macro import MacroSpace

Shape = tuple[int, int, int]


class ChannelsLast(nn.Module):
    """Return the input in channels-last memory format (a no-op when it already is)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last)


class ConvBNReLU(nn.Sequential):
    """conv(k x k, stride 1, padding k//2, no bias) -> BN -> ReLU: one VGG layer."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )


class InvertedResidual(nn.Module):
    """MobileNetV2's block (Sandler et al. 2018, table 1): expand, depthwise, project, (+ input)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, expansion: int, stride: int) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.stride = stride
        self.residual = stride == 1 and c_in == c_out
        self.block = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(
                hidden,
                hidden,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                groups=hidden,
                bias=False,
            ),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return x + out if self.residual else out

    def extra_repr(self) -> str:
        return f"stride={self.stride}, residual={self.residual}"


class Classifier(nn.Module):
    """Global average pooling then a linear layer (the fixed end of every macro network)."""

    def __init__(self, c_in: int, num_classes: int) -> None:
        super().__init__()
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.global_pool(x), 1))


@dataclass(frozen=True)
class PartPlan:
    """One part of a macro network: what it is, what it sees, and which decisions fix it.

    ``layer`` is the chain position of a searchable layer (None for fixed parts: layout,
    stem, pools, head, classifier). ``decisions`` are the indices of every decision the part's
    module and input shape depend on (its kernel and expansion, its stage's width and, for
    a stage's first layer, the width of the stage before).
    """

    name: str
    layer: int | None
    decisions: tuple[int, ...]
    input_shape: Shape
    output_shape: Shape
    kind: str  #: "layout", "stem", "conv", "ir", "pool", "head" or "classifier"
    kernel: int = 1
    expansion: int = 1
    stride: int = 1


def plan_network(space: MacroSpace, arch: Arch, config: NetworkConfig) -> tuple[PartPlan, ...]:
    """The parts of ``arch``'s network in forward order (no torch needed)."""
    arch = space.validate(arch)
    widths = space.stage_widths(arch, config.channels)
    choices = space.layer_choices(arch)
    size = config.resolution
    shape: Shape = config.input_shape
    parts: list[PartPlan] = []

    def width_deps(*stages: int) -> tuple[int, ...]:
        return tuple(d for s in stages if s >= 0 and (d := space.width_decision(s)) is not None)

    def add(name: str, layer: int | None, deps: tuple[int, ...], out: Shape, kind: str, **kw: int) -> None:
        nonlocal shape
        parts.append(PartPlan(name, layer, tuple(sorted(set(deps))), shape, out, kind, **kw))
        shape = out

    add("layout", None, (), shape, "layout")
    if space.block == "ir":
        add("stem", None, width_deps(0), (widths[0], size, size), "stem", kernel=3)
    for layer, (kernel, expansion) in enumerate(choices):
        s = space.stage_of_layer[layer]
        first = layer == space.first_layers[s]
        halve = first and s > 0 and space.downsample[s]
        deps = (space.kernel_decision(layer), *width_deps(s))
        e_dec = space.expansion_decision(layer)
        deps += () if e_dec is None else (e_dec,)
        # the input width: the stage before for a stage's first layer (or the stem's/image's)
        if first and s > 0:
            deps += width_deps(s - 1)
        if space.block == "conv":
            if halve and size >= 2:
                size //= 2
                add(f"pool{s}", None, width_deps(s - 1), (shape[0], size, size), "pool")
            add(f"layer{layer}", layer, deps, (widths[s], size, size), "conv", kernel=kernel)
        else:
            stride = 2 if halve and size > 1 else 1
            size = (size + 1) // 2 if stride == 2 else size
            assert expansion is not None
            add(
                f"layer{layer}",
                layer,
                deps,
                (widths[s], size, size),
                "ir",
                kernel=kernel,
                expansion=expansion,
                stride=stride,
            )
    last = width_deps(space.n_stages - 1)
    if space.block == "ir":
        head = max(1, round(config.channels * space.head_channels))
        add("head", None, last, (head, size, size), "head")
        last = ()  # the classifier's input is the head's fixed width
    add("classifier", None, last, (config.num_classes, 1, 1), "classifier")
    return tuple(parts)


def _make(part: PartPlan) -> nn.Module:
    c_in, c_out = part.input_shape[0], part.output_shape[0]
    if part.kind == "layout":
        return ChannelsLast()
    if part.kind == "conv":
        return ConvBNReLU(c_in, c_out, part.kernel)
    if part.kind == "ir":
        return InvertedResidual(c_in, c_out, part.kernel, part.expansion, part.stride)
    if part.kind == "pool":
        return nn.MaxPool2d(2)
    if part.kind in ("stem", "head"):
        k = part.kernel
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU6(inplace=True),
        )
    if part.kind == "classifier":
        return Classifier(c_in, c_out)
    raise ValueError(f"unknown macro network part kind {part.kind!r}")


class MacroNetwork(nn.Sequential):
    """The network of one architecture of a :class:`~tabular.spaces.macro.MacroSpace`.

    An ``nn.Sequential`` of the named parts of :func:`plan_network`, so ``forward`` has no
    Python beyond the module calls. ``plan`` keeps each part's shapes and decisions. Weights
    are channels-last (see the module docstring).
    """

    def __init__(self, space: MacroSpace, arch: Arch, config: NetworkConfig | None = None) -> None:
        config = config or NetworkConfig()
        plan = plan_network(space, arch, config)
        super().__init__(OrderedDict((part.name, _make(part)) for part in plan))
        self.to(memory_format=torch.channels_last)
        self.space_name = space.name
        self.arch = space.validate(arch)
        self.arch_str = space.to_str(self.arch)
        self.config = config
        self.plan = plan

    def extra_repr(self) -> str:
        return f"arch={self.arch_str}"


@dataclass(frozen=True)
class NetworkPart:
    """A part of a built :class:`MacroNetwork` with the shape of one input sample it sees."""

    name: str
    layer: int | None
    decisions: tuple[int, ...]
    module: nn.Module
    input_shape: Shape


def network_parts(model: MacroNetwork) -> list[NetworkPart]:
    """Every part of ``model`` in forward order: searchable layers (``layer`` set) and the
    fixed stem, pools, head and classifier; running them in turn is ``model``'s forward."""
    modules = dict(model.named_children())
    return [NetworkPart(p.name, p.layer, p.decisions, modules[p.name], p.input_shape) for p in model.plan]


def build_macro(
    space: MacroSpace | str, arch: Arch | str, config: NetworkConfig | None = None
) -> MacroNetwork:
    """The network of ``arch`` (a tuple of choices or the space's string) in a macro space."""
    space_obj = get_space(space) if isinstance(space, str) else space
    if not isinstance(space_obj, MacroSpace):
        raise TypeError(f"build_macro needs a MacroSpace, got {type(space_obj).__name__} {space_obj.name!r}")
    parsed = space_obj.from_str(arch) if isinstance(arch, str) else space_obj.validate(arch)
    return MacroNetwork(space_obj, parsed, config)


def macro_builder(name: str) -> Callable[..., MacroNetwork]:
    """The ``(arch, config) -> nn.Module`` builder that :data:`tabular.models.NETWORKS` holds for ``name``."""
    space = get_space(name)
    if not isinstance(space, MacroSpace):
        raise TypeError(f"macro_builder needs a MacroSpace name, got {name!r} ({type(space).__name__})")

    def build(arch: Arch | str, config: NetworkConfig | None = None) -> MacroNetwork:
        return build_macro(space, arch, config)

    build.__name__ = build.__qualname__ = f"build_{name.replace('-', '_')}"
    build.__doc__ = f"Build the {name!r} network of ``arch`` (see :mod:`tabular.models.macro`)."
    return build
