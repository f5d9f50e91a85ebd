"""The NAS-Bench-201 network (Dong & Yang, ICLR 2020, "NAS-Bench-201", section 2.1, figure 1).

A 3x3 conv stem, three stages of ``N`` copies of the searched cell with ``C``, ``2C`` and
``4C`` channels, a residual block with stride 2 between stages, then BN-ReLU, global
average pooling and a linear classifier. The cell is a DAG on 4 nodes; node ``j`` is the
sum of ``op(node_i)`` over its incoming edges ``i -> j``, and the cell returns node 3.
"""

from __future__ import annotations

import torch
from torch import nn

from tabular.models.config import NetworkConfig
from tabular.models.ops import ResidualReduction, make_cell_op
from tabular.spaces.base import Arch
from tabular.spaces.nb201 import EDGES, N_NODES, NONE, OPS, NB201Space

_SPACE = NB201Space()

__all__ = ["NB201Cell", "NB201Network", "NetworkConfig", "build_nb201"]


# A term of a node's sum: (key in ``edges``, or None for skip; index of the source node)
_Term = tuple[str | None, int]


class NB201Cell(nn.Module):
    """One NB201 cell with ``channels`` in and out (stride 1).

    Modules exist only for conv and pool edges. Which nodes are identically zero (all
    incoming edges ``none``, or fed only from zero nodes through skip/pool) is decided
    when the cell is built, so ``forward`` runs a fixed list of terms and never multiplies
    by zero. A conv on a zero node is still run on zeros: its BatchNorm adds a learnable
    bias, so in NB201 the result is not zero (and its parameters count).
    """

    def __init__(self, arch: Arch, channels: int) -> None:
        super().__init__()
        arch = _SPACE.validate(arch)
        self.arch = arch
        self.channels = channels
        self.edges = nn.ModuleDict()
        zero = [False] * N_NODES
        plan: list[tuple[_Term, ...]] = []
        for j in range(1, N_NODES):
            terms: list[_Term] = []
            for e, (i, jj) in enumerate(EDGES):
                if jj != j or arch[e] == NONE:
                    continue
                key = f"{i}_{j}"
                module = make_cell_op(OPS[arch[e]], channels)
                if module is not None:
                    self.edges[key] = module
                # skip or pool of a zero node is zero; a conv of one is not (BN bias)
                if zero[i] and OPS[arch[e]] not in ("nor_conv_1x1", "nor_conv_3x3"):
                    continue
                terms.append((key if module is not None else None, i))
            zero[j] = not terms
            plan.append(tuple(terms))
        # keys, not module references: whoever swaps a module in self.edges is obeyed
        self._plan = tuple(plan)
        self._zero = tuple(zero)

    @property
    def output_is_zero(self) -> bool:
        """True when the cell's output is identically zero (no path from its input)."""
        return self._zero[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x]
        zeros: torch.Tensor | None = None
        for terms in self._plan:
            total: torch.Tensor | None = None
            for key, src in terms:
                h = nodes[src]
                if h is None:  # only convs read zero nodes (see __init__)
                    if zeros is None:
                        zeros = torch.zeros_like(x)
                    h = zeros
                if key is not None:
                    h = self.edges[key](h)
                total = h if total is None else total + h
            nodes.append(total)
        out = nodes[-1]
        return torch.zeros_like(x) if out is None else out

    def extra_repr(self) -> str:
        return _SPACE.to_str(self.arch)


class NB201Network(nn.Module):
    """The NAS-Bench-201 macro skeleton around one cell (Dong & Yang 2020, figure 1)."""

    def __init__(self, arch: Arch, config: NetworkConfig | None = None) -> None:
        super().__init__()
        config = config or NetworkConfig()
        self.arch = _SPACE.validate(arch)
        self.config = config
        c = config.channels
        self.stem = nn.Sequential(
            nn.Conv2d(config.in_channels, c, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c),
        )
        layers: list[nn.Module] = []
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                layers.append(ResidualReduction(width // 2, width))
            layers.extend(NB201Cell(self.arch, width) for _ in range(config.cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU(inplace=True))
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * c, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.global_pool(x), 1))

    def extra_repr(self) -> str:
        return f"arch={_SPACE.to_str(self.arch)}"


def build_nb201(arch: Arch | str, config: NetworkConfig | None = None) -> NB201Network:
    """Build the NB201 network for ``arch`` (a tuple of 6 op ids or the standard string)."""
    if isinstance(arch, str):
        arch = _SPACE.from_str(arch)
    return NB201Network(arch, config)
