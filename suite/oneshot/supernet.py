"""The NAS-Bench-201 weight-sharing supernet: every edge of every cell holds all five ops.

The skeleton (stem, the three stages of ``N`` cells at ``C``, ``2C``, ``4C`` channels, the
residual reduction blocks, BN-ReLU, pooling and classifier) is taken from the table's own
:class:`~tabular.models.nb201.NB201Network` at the table's ``NetworkConfig``, and every searched
cell is replaced by a :class:`SuperCell` whose ops come from :func:`tabular.models.ops.make_cell_op`
(ReLU-Conv-BN 1x1 / 3x3 and ``FastAvgPool2d``), so a subnet of the supernet is exactly the
table's network for that cell. As in NB201's own reproductions of DARTS, GDAS and SPOS (Dong &
Yang, ICLR 2020, section 5), one set of architecture parameters is shared by all cells.

Three ways to run the cells:

* ``forward(x, weights=W)``: a weighted mixture, ``W`` of shape ``(6, 5)`` (DARTS's softmax);
* ``forward(x, path=arch, scale=S)``: one op per edge (GDAS, SPOS); ``S[e]`` multiplies edge
  ``e``'s output, which is how GDAS's straight-through one-hot passes gradients to its logits;
* ``forward(x)``: the uniform mixture (used to count the supernet's FLOPs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from suite.errors import OneShotError
from tabular.models.nb201 import NB201Cell, NB201Network
from tabular.models.ops import make_cell_op
from tabular.spaces.base import SearchSpace
from tabular.spaces.nb201 import EDGES, N_NODES, OPS, SKIP

if TYPE_CHECKING:
    from tabular.models.nb201 import NetworkConfig

#: spaces that have a supernet here
SUPERNET_SPACES = ("nb201",)
N_EDGES, N_OPS = len(EDGES), len(OPS)
_NONE = OPS.index("none")


def check_space(space: SearchSpace) -> None:
    """Raise :class:`OneShotError` unless ``space`` has a supernet."""
    if space.name not in SUPERNET_SPACES:
        raise OneShotError(
            f"space {space.name!r} has no weight-sharing supernet; one-shot search supports "
            f"{', '.join(SUPERNET_SPACES)}"
        )


def build_supernet(space: SearchSpace, config: NetworkConfig) -> SuperNet:
    """The supernet of ``space`` at ``config`` (the table's C, N, classes and resolution)."""
    check_space(space)
    return SuperNet(config)


class _Slot(nn.Module):
    """Holds one op's module (``None`` for none/skip), so ``ops[e][o]`` exists for every op."""

    def __init__(self, op: nn.Module | None) -> None:
        super().__init__()
        self.op = op


class SuperCell(nn.Module):
    """An NB201 cell with every op on every edge: ``ops[e][o].op`` is op ``o`` of edge ``e``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.ops = nn.ModuleList(
            nn.ModuleList(_Slot(make_cell_op(op, channels)) for op in OPS) for _ in EDGES
        )

    def _run_op(self, e: int, o: int, h: torch.Tensor) -> torch.Tensor:
        if o == SKIP:
            return h
        module = self.ops[e][o].op  # type: ignore[index]
        return module(h)  # type: ignore[no-any-return]

    def forward(
        self,
        x: torch.Tensor,
        weights: torch.Tensor | None = None,
        path: Sequence[int] | None = None,
        scale: torch.Tensor | None = None,
    ) -> torch.Tensor:
        nodes: list[torch.Tensor] = [x]
        for j in range(1, N_NODES):
            total: torch.Tensor | None = None
            for e, (i, jj) in enumerate(EDGES):
                if jj != j:
                    continue
                if path is not None:
                    o = int(path[e])
                    if o == _NONE:  # contributes zero (its GDAS gradient is zero, as in GDAS's code)
                        continue
                    term = self._run_op(e, o, nodes[i])
                    if scale is not None:
                        term = term * scale[e]
                    total = term if total is None else total + term
                    continue
                assert weights is not None
                # 'none' adds w * 0: not computed; its alpha still acts through the softmax
                for o in range(N_OPS):
                    if o != _NONE:
                        term = weights[e, o] * self._run_op(e, o, nodes[i])
                        total = term if total is None else total + term
            nodes.append(torch.zeros_like(x) if total is None else total)
        return nodes[-1]


class SuperNet(nn.Module):
    """The NB201 skeleton at ``config`` with :class:`SuperCell` cells (see the module docstring)."""

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        # the table's network, built around any cell; its searched cells are then swapped out
        skeleton = NB201Network((SKIP,) * N_EDGES, config)
        self.config = config
        self.stem = skeleton.stem
        self.cells = skeleton.cells
        for k, module in enumerate(self.cells):
            if isinstance(module, NB201Cell):
                self.cells[k] = SuperCell(module.channels)
        self.lastact = skeleton.lastact
        self.global_pool = skeleton.global_pool
        self.classifier = skeleton.classifier

    def forward(
        self,
        x: torch.Tensor,
        weights: torch.Tensor | None = None,
        path: Sequence[int] | None = None,
        scale: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if weights is None and path is None:
            weights = torch.full((N_EDGES, N_OPS), 1.0 / N_OPS, device=x.device, dtype=x.dtype)
        h = self.stem(x)
        for module in self.cells:
            h = module(h, weights, path, scale) if isinstance(module, SuperCell) else module(h)
        h = self.lastact(h)
        return self.classifier(torch.flatten(self.global_pool(h), 1))

    def subnet_state(self, arch: Sequence[int]) -> dict[str, torch.Tensor]:
        """The state of the subnet ``arch`` under :class:`NB201Network`'s parameter names.

        ``NB201Network(arch, config).load_state_dict(state)`` gives the standalone network with
        the supernet's inherited weights (the ops of ``arch`` only).
        """
        state: dict[str, torch.Tensor] = {}
        for name, tensor in self.state_dict().items():
            parts = name.split(".")
            if parts[0] != "cells" or not isinstance(self.cells[int(parts[1])], SuperCell):
                state[name] = tensor
                continue
            # cells.<k>.ops.<e>.<o>.op.<rest>  ->  cells.<k>.edges.<i>_<j>.<rest>
            k, e, o, rest = parts[1], int(parts[3]), int(parts[4]), parts[6:]
            if int(arch[e]) == o:
                i, j = EDGES[e]
                state[".".join(["cells", k, "edges", f"{i}_{j}", *rest])] = tensor
        return state
