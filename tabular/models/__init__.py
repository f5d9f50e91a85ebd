"""Networks built from architectures, one builder per search space (imports torch).

``build_network("nb201", arch)`` returns a ``torch.nn.Module``; the macro chain spaces
(``macro``, ``macro-ir``, ``macro-width``) are registered by :mod:`tabular.models.macro`.
A new space plugs in by registering a builder ``(arch, config) -> nn.Module`` under the space's name::

    from tabular.models import NETWORKS

    @NETWORKS.register("my_space")
    def build_my_space(arch, config=None): ...

``tabular`` and ``tabular.spaces`` never import this package, so they stay torch-free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from tabular.models.config import NetworkConfig
from tabular.models.macro import MacroNetwork, NetworkPart, build_macro, macro_builder, network_parts
from tabular.models.nb201 import NB201Cell, NB201Network, build_nb201
from tabular.models.ops import FastAvgPool2d, ReLUConvBN, ResidualReduction
from tabular.registry import Registry
from tabular.spaces.base import SearchSpace, get_space
from tabular.spaces.macro import MACRO_SPACE_NAMES

NetworkBuilder = Callable[..., nn.Module]

NETWORKS: Registry[NetworkBuilder] = Registry("network")
NETWORKS.add("nb201", build_nb201)
for _name in MACRO_SPACE_NAMES:
    NETWORKS.add(_name, macro_builder(_name))


def build_network(space: str | SearchSpace, arch: Sequence[int] | str, config: Any = None) -> nn.Module:
    """Build the network of ``arch`` in ``space`` (a registered name or a space instance).

    ``arch`` is a tuple of choices or the space's string form; ``config`` is the builder's
    settings (a :class:`NetworkConfig` for every built-in space; ``None`` means the builder's
    default).
    """
    space_obj = get_space(space) if isinstance(space, str) else space
    builder = NETWORKS.get(space_obj.name)
    parsed = space_obj.from_str(arch) if isinstance(arch, str) else space_obj.validate(arch)
    return builder(parsed) if config is None else builder(parsed, config)


__all__ = [
    "NETWORKS",
    "FastAvgPool2d",
    "MacroNetwork",
    "NB201Cell",
    "NB201Network",
    "NetworkBuilder",
    "NetworkConfig",
    "NetworkPart",
    "ReLUConvBN",
    "ResidualReduction",
    "build_macro",
    "build_nb201",
    "build_network",
    "macro_builder",
    "network_parts",
]
