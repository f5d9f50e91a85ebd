"""The settings every network builder receives: ``NetworkConfig`` (no torch here).

Training (:func:`tabular.training.network_config`) fills one from the budget and the data and
hands it to whichever builder the space registered, so one config serves every space:

* cell spaces (NB201) repeat their cell ``cells_per_stage`` times in each of their stages,
  starting at ``channels`` wide;
* chain spaces (:mod:`tabular.models.macro`) fix their own depth in the space and ignore
  ``cells_per_stage``; ``channels`` is the width of their first stage, later stages are
  multiples of it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkConfig:
    """Macro skeleton of a network. Defaults are NB201's CIFAR-10 network (C=16, N=5, 32x32x3).

    ``resolution`` is the input height and width; the networks themselves work at any size
    (global pooling), the field is what hardware metrics and callers use as input shape and
    where chain networks decide how often they can still halve the map.
    """

    channels: int = 16
    cells_per_stage: int = 5
    in_channels: int = 3
    num_classes: int = 10
    resolution: int = 32

    def __post_init__(self) -> None:
        for name in ("channels", "cells_per_stage", "in_channels", "num_classes", "resolution"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"NetworkConfig.{name} must be a positive int, got {value!r}")
        if self.resolution % 4:
            # NB201's two stride-2 reductions: on an odd size the conv path rounds up, the pool down
            raise ValueError(f"NetworkConfig.resolution must be a multiple of 4, got {self.resolution}")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(channels, height, width)`` of one input sample."""
        return (self.in_channels, self.resolution, self.resolution)
