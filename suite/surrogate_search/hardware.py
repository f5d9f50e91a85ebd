"""A latency lookup table as the surrogate benchmark's hardware model."""

from __future__ import annotations

import os

import numpy as np

from suite.errors import ConstraintError
from tabular.latency_lut import LatencyLUT
from tabular.spaces import SearchSpace


class LatencyModel:
    """Predicted ``latency_ms:cpu_b<batch>`` of any architecture, summed from a :class:`LatencyLUT`.

    The name matches the latency the table builder measures at the same batch size, so one
    constraint (e.g. ``latency_ms:cpu_b1<=2``) reads the prediction during search and the
    measurement after verification.
    """

    def __init__(self, lut: LatencyLUT) -> None:
        self.lut = lut
        self.name = f"latency_ms:cpu_b{lut.batch_size}"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,)

    def predict(self, archs: np.ndarray) -> dict[str, np.ndarray]:
        return {self.name: self.lut.predict_many(np.asarray(archs))}


def load_latency_model(path: str | os.PathLike[str], space: SearchSpace) -> LatencyModel:
    """Read a LUT saved by ``nasuite lut build``; refuses one measured on another space."""
    lut = LatencyLUT.load(path)
    if lut.space != space.name:
        raise ConstraintError(f"latency table {str(path)!r} is for space {lut.space!r}, not {space.name!r}")
    return LatencyModel(lut)
