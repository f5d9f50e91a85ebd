"""Hardware-aware DARTS: an expected-latency term from a per-op latency table measured here.

As in FBNet (Wu et al., CVPR 2019) and ProxylessNAS (Cai, Zhu & Han, ICLR 2019), the latency of
a cell network is modelled as a sum over its parts, each op's latency measured once on this
machine at the shape it runs at (each stage's channels and resolution; CPU, ``threads`` fixed,
batch ``latency_batch``, median of repeats, :func:`tabular.hardware.latency_ms`). A non-``none``
op also pays the addition into its node's sum. The network's fixed part (stem, reductions, head)
is the measured latency of the network whose cells are all ``none``. With ``p = softmax(alpha)``
the expected latency is ``base + sum_e sum_o p[e, o] * lat[o]`` (``lat[o]``: op ``o`` summed
over the network's cells, since all cells share ``alpha``), and the architecture loss becomes

* ``L_val + latency_weight * E[cell latency] / cell latency of the all-3x3 cell`` (no target), or
* ``L_val + latency_weight * max(0, E[latency] - target) / target`` (a hinge on the target).

The cell is the most probable one (sum of per-edge log-softmax, i.e. the argmax per edge when
that is allowed) among the cells with a path from input to output whose predicted latency meets
the target, found exactly over all 15,625 cells. Its real latency is then measured and reported
beside the target (``projected``: whether it differs from the plain argmax).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from suite.errors import OneShotError, SearchSettingsError
from suite.oneshot.base import register_oneshot
from suite.oneshot.darts import Bilevel, DARTSSettings
from tabular.spaces.nb201 import EDGES, OPS

if TYPE_CHECKING:
    import torch

    from suite.oneshot.clock import OneShotClock
    from suite.oneshot.setup import OneShotSetup
    from tabular.models.nb201 import NetworkConfig
    from tabular.spaces.base import SearchSpace

_CACHE: dict[str, LatencyTable] = {}
_ALIVE: dict[str, tuple[np.ndarray, np.ndarray]] = {}


@dataclass(frozen=True)
class LatencyTable:
    """Per-op latencies (ms) of one network configuration on this machine."""

    per_op_ms: tuple[float, ...]  #: op -> ms, summed over every cell of the network
    stage_op_ms: tuple[tuple[float, ...], ...]  #: stage -> op -> ms of one edge
    base_ms: float  #: the network with all-``none`` cells
    batch: int
    threads: int
    key: str

    def predict(self, arch: tuple[int, ...]) -> float:
        return self.base_ms + float(sum(self.per_op_ms[o] for o in arch))

    def predict_all(self, archs: np.ndarray) -> np.ndarray:
        return self.base_ms + np.asarray(self.per_op_ms)[archs].sum(1)

    def expected(self, probs: torch.Tensor) -> torch.Tensor:
        """``base + sum p[e, o] * lat[o]``, differentiable in ``probs``."""
        import torch

        lat = torch.tensor(self.per_op_ms, dtype=probs.dtype, device=probs.device)
        return self.base_ms + (probs * lat).sum()

    def smallest_cell_ms(self, space: SearchSpace) -> float:
        """The lowest predicted latency of a cell with a path from input to output."""
        archs, alive = _alive_cells(space)
        return float(self.predict_all(archs[alive]).min())


def _alive_cells(space: SearchSpace) -> tuple[np.ndarray, np.ndarray]:
    """Every cell of ``space`` and which have a path from input to output (cached per space)."""
    if space.name not in _ALIVE:
        archs = space.all_archs()
        alive = np.array([not space.is_degenerate(tuple(int(v) for v in a)) for a in archs])
        _ALIVE[space.name] = (archs, alive)
    return _ALIVE[space.name]


def _config_key(config: NetworkConfig, batch: int, threads: int) -> str:
    import torch

    return json.dumps(
        {"config": asdict(config), "batch": batch, "threads": threads, "torch": torch.__version__}
    )


def measure_latency_table(
    config: NetworkConfig,
    batch: int = 1,
    threads: int = 1,
    repeats: int = 30,
    cache: str | None = None,
    statistic: str = "median",
) -> LatencyTable:
    """Measure (or read from the in-process or JSON ``cache``) the per-op latency table.

    ``statistic`` summarises the timed repeats (:func:`tabular.hardware.latency_ms`): ``min``
    keeps the uncontended time on a machine busy with other work.
    """
    key = _config_key(config, batch, threads) + ("" if statistic == "median" else f"|{statistic}")
    if key in _CACHE:
        return _CACHE[key]
    stored: dict[str, Any] = {}
    if cache and Path(cache).is_file():
        stored = json.loads(Path(cache).read_text())
        if key in stored:
            entry = stored[key]
            table = LatencyTable(
                tuple(entry["per_op_ms"]),
                tuple(tuple(s) for s in entry["stage_op_ms"]),
                entry["base_ms"],
                batch,
                threads,
                key,
            )
            _CACHE[key] = table
            return table
    table = _measure(config, batch, threads, repeats, key, statistic)
    _CACHE[key] = table
    if cache:
        stored[key] = asdict(table)
        Path(cache).write_text(json.dumps(stored, indent=1))
    return table


def _measure(
    config: NetworkConfig, batch: int, threads: int, repeats: int, key: str, statistic: str
) -> LatencyTable:
    from torch import nn

    from tabular.hardware import latency_ms
    from tabular.models.nb201 import NB201Network
    from tabular.models.ops import make_cell_op

    class Add(nn.Module):  # the node sum's addition that every non-none op pays
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + x

    stages = []
    for width, side in ((config.channels, config.resolution), (2 * config.channels, config.resolution // 2)):
        stages.append((width, side))
    stages.append((4 * config.channels, config.resolution // 4))
    stage_ms = []
    for width, side in stages:
        shape = (width, side, side)
        add = latency_ms(Add(), shape, batch, threads, repeats=repeats, statistic=statistic)
        row = []
        for op in OPS:
            module = make_cell_op(op, width)
            if op == "none":
                row.append(0.0)
            elif module is None:  # skip: only the addition
                row.append(add)
            else:
                row.append(
                    latency_ms(module, shape, batch, threads, repeats=repeats, statistic=statistic) + add
                )
        stage_ms.append(tuple(row))
    per_op = tuple(config.cells_per_stage * sum(s[o] for s in stage_ms) for o in range(len(OPS)))
    base = latency_ms(
        NB201Network((0,) * len(EDGES), config),
        config.input_shape,
        batch,
        threads,
        repeats=repeats,
        statistic=statistic,
    )
    return LatencyTable(per_op, tuple(stage_ms), base, batch, threads, key)


@dataclass(frozen=True)
class LatencySettings(DARTSSettings):
    """DARTS's settings plus the latency term: weight, optional target (ms), measurement."""

    latency_weight: float = 0.1
    latency_target_ms: float | None = None
    latency_batch: int = 1
    latency_repeats: int = 30
    latency_cache: str | None = None
    latency_statistic: str = "median"  #: or "min", on a machine busy with other work

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.latency_statistic not in ("median", "min"):
            raise SearchSettingsError(
                f"latency_statistic must be 'median' or 'min', got {self.latency_statistic!r}"
            )
        if self.latency_target_ms is not None and not self.latency_target_ms > 0:
            raise SearchSettingsError(
                f"latency_target_ms must be > 0 or None, got {self.latency_target_ms!r}"
            )


@register_oneshot("darts-latency")
class DARTSLatency(Bilevel):
    """Hardware-aware DARTS (FBNet / ProxylessNAS style): loss + weight x expected latency."""

    paper = (
        "Wu et al., FBNet, CVPR 2019; Cai, Zhu & Han, ProxylessNAS, ICLR 2019; "
        "on DARTS (Liu et al., ICLR 2019)"
    )
    Settings = LatencySettings
    settings: LatencySettings

    def prepare_search(self, setup: OneShotSetup, clock: OneShotClock) -> dict[str, Any]:
        s = self.settings
        with clock.timed("latency_table"):
            self.table = measure_latency_table(
                setup.config,
                s.latency_batch,
                s.threads,
                s.latency_repeats,
                s.latency_cache,
                statistic=s.latency_statistic,
            )
        self.space = setup.space
        smallest = self.table.smallest_cell_ms(setup.space)
        if s.latency_target_ms is not None and s.latency_target_ms < smallest:
            raise OneShotError(
                f"latency target {s.latency_target_ms:.4g} ms is below the smallest cell's predicted latency "
                f"{smallest:.4g} ms on this machine (batch {s.latency_batch}, {s.threads} thread(s)); "
                "no cell meets it"
            )
        conv3 = OPS.index("nor_conv_3x3")
        self._reference = len(EDGES) * self.table.per_op_ms[conv3]
        return {"latency_table": asdict(self.table), "smallest_cell_ms": smallest}

    def penalty(self, alpha: torch.Tensor) -> torch.Tensor:
        s = self.settings
        expected = self.table.expected(alpha.softmax(-1))
        if s.latency_target_ms is None:
            return s.latency_weight * (expected - self.table.base_ms) / self._reference
        return s.latency_weight * (expected - s.latency_target_ms).clamp(min=0) / s.latency_target_ms

    def derive(self, alpha: torch.Tensor) -> tuple[int, ...]:
        """The most probable cell (largest sum of per-edge log-softmax) that has a path from input
        to output and, with a target, whose predicted latency meets it: exact, over every cell.

        The latency term pushes weight onto ``none``; a plain argmax can then be the empty cell,
        which is never an answer to "the best cell under a latency budget".
        """
        archs, alive = _alive_cells(self.space)
        logp = alpha.detach().log_softmax(-1).cpu().numpy()
        score = logp[np.arange(archs.shape[1]), archs].sum(1)
        ok = alive.copy()
        if self.settings.latency_target_ms is not None:
            ok &= self.table.predict_all(archs) <= self.settings.latency_target_ms
        score[~ok] = -np.inf
        return tuple(int(v) for v in archs[int(np.argmax(score))])

    def _run(self, setup: OneShotSetup, clock: OneShotClock) -> Any:
        from tabular.hardware import latency_ms
        from tabular.models.nb201 import NB201Network

        arch, history, extra = super()._run(setup, clock)
        s = self.settings
        # reporting, not searching: the derived cell's real latency is not charged to the clock
        measured = latency_ms(
            NB201Network(arch, setup.config),
            setup.config.input_shape,
            s.latency_batch,
            s.threads,
            repeats=s.latency_repeats,
            statistic=s.latency_statistic,
        )
        argmax = Bilevel.derive(self, alpha=_tensor(extra["alpha"]))
        extra.update(
            latency_target_ms=s.latency_target_ms,
            latency_weight=s.latency_weight,
            predicted_ms=self.table.predict(arch),
            measured_ms=measured,
            meets_target=None if s.latency_target_ms is None else bool(measured <= s.latency_target_ms),
            projected=tuple(arch) != tuple(argmax),
            argmax_arch=setup.space.to_str(argmax),
        )
        return arch, history, extra


def _tensor(values: Any) -> torch.Tensor:
    import torch

    return torch.tensor(values)
