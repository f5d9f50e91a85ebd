"""Macro chain spaces: a kernel size per layer of a plain VGG or a MobileNetV2-style network.

A macro space searches the whole network, not a repeated cell: a chain of ``L`` layers in
stages, each layer choosing its kernel size from {3, 5, 7}. This is the layer-wise space of
the macro searches of Zoph & Le (ICLR 2017) and, for inverted-residual blocks, of
ProxylessNAS (Cai et al., ICLR 2019) and FBNet (Wu et al., CVPR 2019), whose blocks choose
a kernel size {3, 5, 7} and an expansion ratio {3, 6}. Such spaces are far too large to
tabulate (3^16 = 43,046,721 for kernels alone); they are meant for surrogate and live
benchmarks and for latency lookup tables (:mod:`tabular.latency_lut`).

Decisions, in this order (``Arch`` is one small int per decision):

    [width multiplier per stage]  if the space has ``widths``       (n_stages decisions)
    [kernel size per layer]       always                            (n_layers decisions)
    [expansion ratio per layer]   for inverted-residual spaces      (n_layers decisions)

String form: stages separated by ``|``, layers by ``-``; a plain layer is its kernel size
(``3-5|7-3|3-3-5-7|...``), an inverted-residual layer ``k<kernel>e<expansion>``
(``k5e6-k3e3``), and a stage with a width multiplier is prefixed ``w<mult>:``
(``w0.5:3-5|w1.5:7-3|...``).

There are no isomorphism classes (``canonical`` is the identity) and no degenerate
networks: every choice keeps a conv on the only path from input to output. No torch here;
the networks are in :mod:`tabular.models.macro`.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np

from tabular.errors import ArchStringError, UnknownOpError
from tabular.spaces.base import Arch, SearchSpace, register_space

BLOCKS = ("conv", "ir")
_IR_TOKEN = re.compile(r"k(\d+)e(\d+)")
_WIDTH_PREFIX = re.compile(r"w(\d+(?:\.\d*)?|\.\d+)")


class MacroSpace(SearchSpace):
    """A chain of conv layers in stages; every layer picks a kernel size (layout in the module doc).

    ``block`` is ``"conv"`` (conv-BN-ReLU, max-pooling between stages, as VGG) or ``"ir"``
    (MobileNetV2 inverted residual blocks, stride 2 on a stage's first layer).
    ``stage_channels[s]`` is stage ``s``'s width in units of the network's ``channels``;
    ``downsample[s]`` says whether the resolution halves on entering stage ``s``;
    ``head_channels`` (``ir`` only) is the width of the final 1x1 conv in units of ``channels``.
    ``widths`` (optional) are per-stage width multipliers, ``expansions`` (``ir`` only)
    per-layer expansion ratios. Registered subclasses fix every setting, so that
    ``get_space(name)`` rebuilds the same space.
    """

    #: the networks (:mod:`tabular.models.macro`) lay themselves out channels-last
    fixed_memory_format = "channels_last"

    def __init__(
        self,
        *,
        name: str,
        block: str,
        stages: tuple[int, ...],
        stage_channels: tuple[float, ...],
        downsample: tuple[bool, ...],
        kernels: tuple[int, ...] = (3, 5, 7),
        widths: tuple[float, ...] = (),
        expansions: tuple[int, ...] = (),
        head_channels: float = 0.0,
    ) -> None:
        if block not in BLOCKS:
            raise ValueError(f"MacroSpace block must be one of {BLOCKS}, got {block!r}")
        if not stages or any(not isinstance(n, int) or n < 1 for n in stages):
            raise ValueError(f"MacroSpace stages must be positive layer counts, got {stages!r}")
        for field, value in (("stage_channels", stage_channels), ("downsample", downsample)):
            if len(value) != len(stages):
                raise ValueError(
                    f"MacroSpace {field} has {len(value)} entries, expected one per stage ({len(stages)})"
                )
        if any(not c > 0 for c in stage_channels) or any(not w > 0 for w in widths):
            raise ValueError(
                f"MacroSpace stage_channels and widths must be positive, got {stage_channels}, {widths}"
            )
        if not kernels or any(not isinstance(k, int) or k < 1 or k % 2 == 0 for k in kernels):
            raise ValueError(f"MacroSpace kernels must be odd positive ints, got {kernels!r}")
        if (block == "ir") != bool(expansions) or any(not isinstance(e, int) or e < 1 for e in expansions):
            raise ValueError(
                f"MacroSpace expansions must be positive ints for block 'ir' and empty for 'conv'; "
                f"got {expansions!r} for {block!r}"
            )
        if (block == "ir") != (head_channels > 0):
            raise ValueError(
                f"MacroSpace head_channels must be > 0 for block 'ir' and 0 for 'conv', got {head_channels}"
            )
        for field, values in (("kernels", kernels), ("widths", widths), ("expansions", expansions)):
            if len(set(values)) != len(values):
                raise ValueError(f"MacroSpace {field} holds duplicates: {values!r}")
        self.name = name
        self.block = block
        self.stages = tuple(stages)
        self.stage_channels = tuple(float(c) for c in stage_channels)
        self.downsample = tuple(bool(d) for d in downsample)
        self.kernels = tuple(kernels)
        self.widths = tuple(float(w) for w in widths)
        self.expansions = tuple(expansions)
        self.head_channels = float(head_channels)
        n_layers = sum(stages)
        self.stage_of_layer: tuple[int, ...] = tuple(s for s, n in enumerate(stages) for _ in range(n))
        self.first_layers: tuple[int, ...] = tuple(int(v) for v in np.cumsum([0, *stages[:-1]]))
        self._n_width = len(stages) if widths else 0
        self._n_expansion = n_layers if expansions else 0
        self.cardinalities = (
            (len(widths),) * self._n_width
            + (len(kernels),) * n_layers
            + (len(expansions),) * self._n_expansion
        )

    # ---- layout ---------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.stage_of_layer)

    @property
    def n_stages(self) -> int:
        return len(self.stages)

    def width_decision(self, stage: int) -> int | None:
        """Index of stage ``stage``'s width decision, or None when widths are fixed."""
        return stage if self._n_width else None

    def kernel_decision(self, layer: int) -> int:
        return self._n_width + layer

    def expansion_decision(self, layer: int) -> int | None:
        return self._n_width + self.n_layers + layer if self._n_expansion else None

    def layer_choices(self, arch: Arch) -> tuple[tuple[int, int | None], ...]:
        """``(kernel size, expansion ratio or None)`` of every layer, in order."""
        arch = self.validate(arch)
        out = []
        for layer in range(self.n_layers):
            e = self.expansion_decision(layer)
            out.append(
                (
                    self.kernels[arch[self.kernel_decision(layer)]],
                    None if e is None else self.expansions[arch[e]],
                )
            )
        return tuple(out)

    def stage_multipliers(self, arch: Arch) -> tuple[float, ...]:
        """The width multiplier each stage chose (1.0 everywhere for a space without widths)."""
        arch = self.validate(arch)
        if not self._n_width:
            return (1.0,) * self.n_stages
        return tuple(self.widths[arch[s]] for s in range(self.n_stages))

    def stage_widths(self, arch: Arch, channels: int) -> tuple[int, ...]:
        """Output channels of each stage for a network of base width ``channels`` (ints >= 1)."""
        return tuple(
            max(1, round(channels * c * w))
            for c, w in zip(self.stage_channels, self.stage_multipliers(arch), strict=True)
        )

    # ---- strings --------------------------------------------------------------------
    def to_str(self, arch: Arch) -> str:
        arch = self.validate(arch)
        layers = self.layer_choices(arch)
        mults = self.stage_multipliers(arch)
        parts = []
        for s in range(self.n_stages):
            first = self.first_layers[s]
            tokens = [self._layer_token(k, e) for k, e in layers[first : first + self.stages[s]]]
            prefix = f"w{_fmt(mults[s])}:" if self._n_width else ""
            parts.append(prefix + "-".join(tokens))
        return "|".join(parts)

    def from_str(self, text: str) -> Arch:
        """Parse :meth:`to_str`'s form; raises :class:`ArchStringError` naming the problem."""
        example = self.to_str((0,) * self.n_decisions)
        if not isinstance(text, str):
            raise ArchStringError(f"expected a {self.name} arch string, got {type(text).__name__} {text!r}")
        stages = text.strip().split("|")
        if len(stages) != self.n_stages:
            raise ArchStringError(
                f"{text!r} has {len(stages)} stages separated by '|', expected {self.n_stages} "
                f"as in {example!r}"
            )
        arch = [0] * self.n_decisions
        for s, part in enumerate(stages):
            if self._n_width:
                prefix, sep, part = part.partition(":")
                arch[s] = self._parse_width(prefix if sep else "", s, text)
            tokens = part.split("-")
            if len(tokens) != self.stages[s]:
                raise ArchStringError(
                    f"stage {s} of {text!r} has {len(tokens)} layers separated by '-', "
                    f"expected {self.stages[s]} as in {example!r}"
                )
            for i, token in enumerate(tokens):
                layer = self.first_layers[s] + i
                kernel, expansion = self._parse_layer(token.strip(), layer, text)
                arch[self.kernel_decision(layer)] = kernel
                e = self.expansion_decision(layer)
                if e is not None and expansion is not None:
                    arch[e] = expansion
        return tuple(arch)

    def _layer_token(self, kernel: int, expansion: int | None) -> str:
        return str(kernel) if expansion is None else f"k{kernel}e{expansion}"

    def _parse_layer(self, token: str, layer: int, text: str) -> tuple[int, int | None]:
        if self.block == "ir":
            match = _IR_TOKEN.fullmatch(token)
            if match is None:
                raise ArchStringError(
                    f"layer {layer} of {text!r} is {token!r}; expected 'k<kernel>e<expansion>' as in 'k5e6'"
                )
            kernel, expansion = int(match.group(1)), int(match.group(2))
        else:
            if not token.isdigit():
                raise ArchStringError(
                    f"layer {layer} of {text!r} is {token!r}; expected a kernel size such as '5'"
                )
            kernel, expansion = int(token), None
        if kernel not in self.kernels:
            raise UnknownOpError(
                f"kernel size {kernel} in layer {layer} of {text!r} is not in {self.name}; "
                f"expected one of {', '.join(map(str, self.kernels))}"
            )
        if expansion is None:
            return self.kernels.index(kernel), None
        if expansion not in self.expansions:
            raise UnknownOpError(
                f"expansion ratio {expansion} in layer {layer} of {text!r} is not in {self.name}; "
                f"expected one of {', '.join(map(str, self.expansions))}"
            )
        return self.kernels.index(kernel), self.expansions.index(expansion)

    def _parse_width(self, prefix: str, stage: int, text: str) -> int:
        allowed = ", ".join(f"w{_fmt(w)}:" for w in self.widths)
        match = _WIDTH_PREFIX.fullmatch(prefix.strip())
        if match is None:
            raise ArchStringError(
                f"stage {stage} of {text!r} has no width prefix; expected one of {allowed} before its layers"
            )
        value = float(match.group(1))
        for i, w in enumerate(self.widths):
            if math.isclose(value, w, rel_tol=1e-9, abs_tol=1e-12):
                return i
        raise UnknownOpError(
            f"width multiplier {match.group(1)} of stage {stage} in {text!r} is not in {self.name}; "
            f"expected one of {allowed}"
        )

    # ---- the chain view used by graph encodings --------------------------------------
    def chain_op_names(self) -> tuple[str, ...]:
        """One name per (kernel, expansion, stage width) combination, e.g. ``k5e6w1.5``."""
        names = []
        for k, e, w in itertools.product(self.kernels, self.expansions or (None,), self.widths or (None,)):
            names.append(f"k{k}" + ("" if e is None else f"e{e}") + ("" if w is None else f"w{_fmt(w)}"))
        return tuple(names)

    def chain_ops(self, archs: np.ndarray) -> np.ndarray:
        """One node per layer, labelled by its kernel, expansion and its stage's width multiplier."""
        archs = self._check_array(archs).astype(np.int64)
        layers = np.arange(self.n_layers)
        label = archs[:, self._n_width + layers]
        if self._n_expansion:
            label = label * len(self.expansions) + archs[:, self._n_width + self.n_layers + layers]
        if self._n_width:
            label = label * len(self.widths) + archs[:, np.asarray(self.stage_of_layer)]
        return label

    # ---- identity -------------------------------------------------------------------
    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "block": self.block,
            "stages": list(self.stages),
            "stage_channels": list(self.stage_channels),
            "downsample": list(self.downsample),
            "kernels": list(self.kernels),
            "widths": list(self.widths),
            "expansions": list(self.expansions),
            "head_channels": self.head_channels,
            "decisions": "widths per stage, then kernels per layer, then expansions per layer",
        }


def _fmt(value: float) -> str:
    return f"{value:g}"


#: VGG's configuration E (Simonyan & Zisserman, ICLR 2015, table 1), "VGG-19": 16 conv layers in
#: five stages of 2, 2, 4, 4, 4, widths 64-128-256-512-512 = 64 x (1, 2, 4, 8, 8). It is the
#: only VGG with exactly 16 conv layers (VGG-16 has 13); its fully connected layers are
#: replaced by global pooling and one linear layer, as in the CIFAR variants of VGG.
VGG_STAGES = (2, 2, 4, 4, 4)
VGG_CHANNELS = (1.0, 2.0, 4.0, 8.0, 8.0)
VGG_DOWNSAMPLE = (False, True, True, True, True)
#: MobileNetV2's first six bottleneck stages (Sandler et al., CVPR 2018, table 2): n = 1, 2, 3,
#: 4, 3, 3 blocks (16 in all), widths 16-24-32-64-96-160 = 16 x (1, 1.5, 2, 4, 6, 10), strides
#: 1, 2, 2, 2, 1, 2 (the stride-1 fifth stage is MobileNetV2's). Its last block (320 channels)
#: is dropped to keep 16 layers; the 1x1 head is 4x the last stage, MobileNetV2's 320 -> 1280.
IR_STAGES = (1, 2, 3, 4, 3, 3)
IR_CHANNELS = (1.0, 1.5, 2.0, 4.0, 6.0, 10.0)
IR_DOWNSAMPLE = (False, True, True, True, False, True)
IR_HEAD = 40.0


@register_space("macro")
class MacroVGGSpace(MacroSpace):
    """16 conv-BN-ReLU layers in VGG-19's stages, kernel {3, 5, 7} each: 3^16 = 43,046,721 archs."""

    def __init__(self) -> None:
        super().__init__(
            name="macro",
            block="conv",
            stages=VGG_STAGES,
            stage_channels=VGG_CHANNELS,
            downsample=VGG_DOWNSAMPLE,
        )


@register_space("macro-width")
class MacroWidthSpace(MacroSpace):
    """``macro`` plus a width multiplier {0.5, 1, 1.5} per stage: 3^5 x 3^16 = 10,460,353,203 archs."""

    def __init__(self) -> None:
        super().__init__(
            name="macro-width",
            block="conv",
            stages=VGG_STAGES,
            stage_channels=VGG_CHANNELS,
            downsample=VGG_DOWNSAMPLE,
            widths=(0.5, 1.0, 1.5),
        )


@register_space("macro-ir")
class MacroIRSpace(MacroSpace):
    """16 MobileNetV2 blocks, kernel {3, 5, 7} x expansion {3, 6} each: 6^16 = 2,821,109,907,456 archs.

    The per-block choice is ProxylessNAS's and FBNet's (kernel 3/5/7, expansion 3/6).
    """

    def __init__(self) -> None:
        super().__init__(
            name="macro-ir",
            block="ir",
            stages=IR_STAGES,
            stage_channels=IR_CHANNELS,
            downsample=IR_DOWNSAMPLE,
            expansions=(3, 6),
            head_channels=IR_HEAD,
        )


MACRO_SPACE_NAMES: tuple[str, ...] = ("macro", "macro-ir", "macro-width")
