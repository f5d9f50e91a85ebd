"""One-shot and differentiable NAS on a weight-sharing supernet: DARTS, GDAS, SPOS, hardware-aware DARTS.

``get_oneshot("darts-v1")(seed=0, epochs=4).search(benchmark, OneShotClock())`` trains the
NB201 supernet on the benchmark's table data (its dataset, split, C, N and resolution), derives
one cell, looks it up in the table and charges the clock the measured wall time. Strategies:
``darts-v1``, ``darts-v2`` (Liu et al. 2019), ``gdas`` (Dong & Yang 2019), ``spos`` (Guo et al.
2020), ``darts-latency`` (FBNet / ProxylessNAS style). Importing this package does not import
torch; running a search does.
"""

from __future__ import annotations

from suite.oneshot.base import (
    ONESHOT,
    OneShotSettings,
    OneShotStrategy,
    get_oneshot,
    oneshot_names,
    register_oneshot,
)
from suite.oneshot.clock import OneShotClock

__all__ = [
    "ONESHOT",
    "OneShotClock",
    "OneShotSettings",
    "OneShotStrategy",
    "get_oneshot",
    "oneshot_names",
    "register_oneshot",
]
