"""The one-shot clock: real measured wall time, by phase, on a named device.

A multi-trial search is charged the training time a table recorded for each cell it looks at
(:mod:`suite.clock`). A one-shot search trains one supernet for real, so its cost is the wall
time it actually took: the clock times each phase (supernet training, architecture search,
deriving and scoring subnets) with ``time.perf_counter``, synchronising a GPU before reading
the timer, and records the device. A budget, if given, is checked by the strategies between
epochs: a search stops after the epoch that crosses it (and says so), it is never cut mid-step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from suite.clock import SECONDS_PER_DAY
from suite.errors import SearchSettingsError


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


@dataclass
class OneShotClock:
    """Measured seconds per phase; ``budget_seconds`` (``None``: no limit) stops a search early."""

    budget_seconds: float | None = None
    device: str = "cpu"
    phases: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.budget_seconds is not None and not (
            isinstance(self.budget_seconds, int | float)
            and math.isfinite(self.budget_seconds)
            and self.budget_seconds > 0
        ):
            raise SearchSettingsError(
                f"budget_seconds must be a finite number > 0, got {self.budget_seconds!r}"
            )

    @property
    def seconds(self) -> float:
        """All time charged so far."""
        return float(sum(self.phases.values()))

    @property
    def exhausted(self) -> bool:
        return self.budget_seconds is not None and self.seconds >= self.budget_seconds

    def charge(self, phase: str, seconds: float) -> None:
        """Add ``seconds`` of measured time to ``phase``."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise SearchSettingsError(f"cannot charge {seconds!r} seconds to {phase!r}")
        self.phases[phase] = self.phases.get(phase, 0.0) + float(seconds)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Charge the wall time of the ``with`` block to ``phase`` (GPU work included)."""
        _sync(self.device)
        start = time.perf_counter()
        try:
            yield
        finally:
            _sync(self.device)
            self.charge(phase, time.perf_counter() - start)

    def gpu_days(self, speedup: float = 1.0) -> float:
        """Charged seconds as GPU-days; ``speedup``: this device's seconds per reference-GPU second."""
        return self.seconds / speedup / SECONDS_PER_DAY

    def summary(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "phases": dict(self.phases),
            "device": self.device,
            "budget_seconds": self.budget_seconds,
            "exhausted": self.exhausted,
        }
