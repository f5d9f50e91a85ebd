"""Per-layer latency lookup tables for the macro chain spaces (FBNet, Wu et al., CVPR 2019).

FBNet (section 3.3) models a network's latency as the sum of its layers' latencies, each
measured once in isolation at the input shape it sees, so that the latency of any of the
space's architectures is a sum of table entries. Here every part of a
:class:`~tabular.models.macro.MacroNetwork` (searchable layers, and the fixed stem, pools,
head and classifier) is timed for every combination of the decisions that fix it (its
kernel and expansion; its stage's width and, for a stage's first layer, the previous
stage's width), with the same helper the tables use (:func:`tabular.hardware.latency_ms`:
median after warm-up, eval mode, fixed batch and thread count). A space with 16 layers of 3
kernels needs 48 layer entries to cover 3^16 networks.

FBNet times each layer alone. A layer timed alone in a loop keeps its weights and input in
cache, which it never does inside the network, so on small inputs the sum underestimates the
whole network; ``placement="in-network"`` (the default) times each part in place instead,
inside whole forwards of a network that holds the part. Either way :func:`lut_error` measures
whole networks and reports the relative error of the sum. Torch is imported inside the functions that measure.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tabular.errors import LatencyTableError
from tabular.spaces.base import Arch, SearchSpace, get_space

LUT_FORMAT = "nasuite-latency-lut/1"
PLACEMENTS = ("in-network", "isolated")


@dataclass(frozen=True)
class PartTable:
    """Latencies of one network part, one per combination of the decisions that fix it.

    Entry ``j`` belongs to the combination whose mixed-radix number (first decision most
    significant, radices ``radix``) is ``j``; a fixed part has no decisions and one entry.
    """

    name: str
    layer: int | None
    decisions: tuple[int, ...]
    radix: tuple[int, ...]
    latency_ms: tuple[float, ...]
    input_shapes: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        expected = int(np.prod(self.radix, dtype=np.int64))
        if len(self.decisions) != len(self.radix) or len(self.latency_ms) != expected:
            raise LatencyTableError(
                f"part {self.name!r}: {len(self.latency_ms)} entries for decisions {self.decisions} "
                f"with radices {self.radix}, expected {expected}"
            )

    def entry(self, archs: np.ndarray) -> np.ndarray:
        """Row index into ``latency_ms`` for each architecture of an ``(n, n_decisions)`` array."""
        idx = np.zeros(archs.shape[0], dtype=np.int64)
        for d, r in zip(self.decisions, self.radix, strict=True):
            idx = idx * r + archs[:, d]
        return idx


@dataclass(frozen=True)
class LatencyLUT:
    """A space's per-part latency table and the settings it was measured under.

    ``network`` holds the :class:`~tabular.models.config.NetworkConfig` fields; ``latency_ms``
    of a part is the ``statistic`` (median, or min) of ``repeats`` timed forwards after
    ``warmup`` untimed ones, at ``batch_size`` and ``threads`` intra-op threads, on ``device``
    (``cpu_model``).
    """

    space: str
    space_hash: str
    network: dict[str, int]
    batch_size: int
    threads: int
    warmup: int
    repeats: int
    parts: tuple[PartTable, ...]
    statistic: str = "median"
    placement: str = "isolated"  #: "isolated" (FBNet) or "in-network" (see the module docstring)
    device: str = "cpu"
    cpu_model: str = ""
    torch_version: str = ""

    # ---- prediction -------------------------------------------------------------------
    def predict(self, arch: Sequence[int]) -> float:
        """Predicted latency (ms) of one architecture: the sum of its parts' entries."""
        return float(self.predict_many(np.asarray([arch]))[0])

    def predict_many(self, archs: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`predict` over an ``(n, n_decisions)`` int array (float64 ms)."""
        archs = self._space()._check_array(np.asarray(archs)).astype(np.int64)
        total = np.zeros(archs.shape[0], dtype=np.float64)
        for part in self.parts:
            total += np.asarray(part.latency_ms, dtype=np.float64)[part.entry(archs)]
        return total

    def breakdown(self, arch: Sequence[int]) -> dict[str, float]:
        """Each part's entry (ms) for ``arch``, in forward order; they sum to :meth:`predict`."""
        row = np.asarray([self._space().validate(arch)], dtype=np.int64)
        return {part.name: float(part.latency_ms[int(part.entry(row)[0])]) for part in self.parts}

    def _space(self) -> SearchSpace:
        return _checked_space(self.space, self.space_hash)

    # ---- files --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": LUT_FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencyLUT:
        if data.get("format") != LUT_FORMAT:
            raise LatencyTableError(
                f"not a latency table: format {data.get('format')!r}, expected {LUT_FORMAT!r}"
            )
        body = {k: v for k, v in data.items() if k != "format"}
        try:
            parts = tuple(
                PartTable(
                    name=p["name"],
                    layer=p["layer"],
                    decisions=tuple(p["decisions"]),
                    radix=tuple(p["radix"]),
                    latency_ms=tuple(float(v) for v in p["latency_ms"]),
                    input_shapes=tuple(tuple(s) for s in p["input_shapes"]),
                )
                for p in body.pop("parts")
            )
            return cls(**body, parts=parts)
        except (KeyError, TypeError) as error:
            raise LatencyTableError(f"latency table is missing or has unexpected fields: {error}") from None

    def save(self, path: str | os.PathLike[str]) -> Path:
        out = Path(path)
        out.write_text(json.dumps(self.to_dict(), indent=1))
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LatencyLUT:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise LatencyTableError(f"cannot read latency table {str(path)!r}: {error}") from None
        return cls.from_dict(data)


@lru_cache(maxsize=64)
def _checked_space(name: str, space_hash: str) -> SearchSpace:
    """The registered space ``name``, if its definition still hashes to ``space_hash``."""
    space = get_space(name)
    if space.space_hash() != space_hash:
        raise LatencyTableError(
            f"the latency table was measured on space {name!r} with hash {space_hash}, "
            f"but that space now has hash {space.space_hash()}; measure it again"
        )
    return space


# ---- measuring --------------------------------------------------------------------------
def _network_config(network: dict[str, int] | Any) -> Any:
    from tabular.models.config import NetworkConfig

    return network if isinstance(network, NetworkConfig) else NetworkConfig(**network)


def _build(space: SearchSpace, arch: Arch, config: Any) -> Any:
    import torch

    from tabular.models import build_network

    with torch.random.fork_rng(devices=[]):  # weights do not change dense latency; keep RNG untouched
        torch.manual_seed(0)
        return build_network(space, arch, config)


def build_lut(
    space: SearchSpace | str,
    config: Any,
    *,
    batch_size: int = 1,
    threads: int = 1,
    warmup: int = 10,
    repeats: int = 30,
    statistic: str = "median",
    placement: str = "in-network",
) -> LatencyLUT:
    """Time every part of ``space``'s networks at ``config`` (a ``NetworkConfig``) on this CPU.

    For each part and each combination of its decisions, a network whose other decisions are
    0 is built and the part's module is timed alone on a random input of its shape, with
    :func:`tabular.hardware.latency_ms` (``statistic``: ``"median"`` as the tables use, or
    ``"min"`` on a busy shared machine; see there). ``placement="in-network"`` times the part
    inside whole forwards of that network (:func:`tabular.hardware.latency_in_model_ms`);
    ``"isolated"`` times it alone, as FBNet does.
    """
    import torch

    from tabular.hardware import latency_in_model_ms, latency_ms
    from tabular.models.macro import MacroNetwork, network_parts

    if placement not in PLACEMENTS:
        raise LatencyTableError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
    from tabular.perf import cpu_model

    space = get_space(space) if isinstance(space, str) else space
    config = _network_config(config)
    cache: dict[Arch, tuple[Any, list[Any]]] = {}

    def network_of(arch: Arch) -> tuple[Any, list[Any]]:
        if arch not in cache:
            model = _build(space, arch, config)
            if not isinstance(model, MacroNetwork):
                raise LatencyTableError(
                    f"latency tables need a chain network; {space.name!r} built {type(model).__name__}"
                )
            cache[arch] = model, network_parts(model)
        return cache[arch]

    def time_part(arch: Arch, p: int) -> float:
        model, parts = network_of(arch)
        part = parts[p]
        if placement == "isolated":
            return latency_ms(part.module, part.input_shape, batch_size, threads, warmup, repeats, statistic)
        return latency_in_model_ms(
            model, part.module, config.input_shape, batch_size, threads, warmup, repeats, statistic
        )

    zero: Arch = (0,) * space.n_decisions
    tables = []
    for p, template in enumerate(network_of(zero)[1]):
        radix = tuple(space.cardinalities[d] for d in template.decisions)
        times, shapes = [], []
        for combo in np.ndindex(*radix):
            arch = list(zero)
            for d, v in zip(template.decisions, combo, strict=True):
                arch[d] = int(v)
            part = network_of(tuple(arch))[1][p]
            if part.name != template.name:
                raise LatencyTableError(
                    f"{space.name}: part {p} is {part.name!r} in one network, {template.name!r} in another"
                )
            times.append(time_part(tuple(arch), p))
            shapes.append(tuple(part.input_shape))
        tables.append(
            PartTable(template.name, template.layer, template.decisions, radix, tuple(times), tuple(shapes))
        )
    return LatencyLUT(
        space=space.name,
        space_hash=space.space_hash(),
        network=asdict(config),
        batch_size=batch_size,
        threads=threads,
        warmup=warmup,
        repeats=repeats,
        parts=tuple(tables),
        statistic=statistic,
        placement=placement,
        device="cpu",
        cpu_model=cpu_model() if cpu_model() != "unknown" else platform.processor(),
        torch_version=str(torch.__version__),
    )


@dataclass(frozen=True)
class LUTError:
    """How well a table's sums match whole-network measurements (relative error |p - m| / m)."""

    measured_ms: tuple[float, ...]
    predicted_ms: tuple[float, ...]
    relative_error: tuple[float, ...]
    median_relative_error: float
    worst_relative_error: float
    mean_signed_error: float  #: mean of (p - m) / m: > 0 when the table overestimates


def measure_network_ms(lut: LatencyLUT, arch: Sequence[int]) -> float:
    """The whole network of ``arch`` timed under ``lut``'s own settings (batch, threads, repeats,
    statistic), so that it compares with :meth:`LatencyLUT.predict` on this machine."""
    from tabular.hardware import latency_ms

    space = get_space(lut.space)
    config = _network_config(lut.network)
    return latency_ms(
        _build(space, space.validate(arch), config),
        config.input_shape,
        lut.batch_size,
        lut.threads,
        lut.warmup,
        lut.repeats,
        lut.statistic,
    )


def lut_error(lut: LatencyLUT, archs: Iterable[Sequence[int]]) -> LUTError:
    """Measure each whole network of ``archs`` under the table's own settings and compare.

    The table's settings include its ``statistic``: whole networks are timed as its parts were.
    """
    space = get_space(lut.space)
    rows = np.asarray([space.validate(a) for a in archs], dtype=np.int64)
    if rows.shape[0] == 0:
        raise LatencyTableError("lut_error needs at least one architecture")
    measured = [measure_network_ms(lut, row) for row in rows]
    predicted = lut.predict_many(rows).tolist()
    signed = [(p - m) / m for p, m in zip(predicted, measured, strict=True)]
    rel = [abs(s) for s in signed]
    return LUTError(
        measured_ms=tuple(measured),
        predicted_ms=tuple(predicted),
        relative_error=tuple(rel),
        median_relative_error=statistics.median(rel),
        worst_relative_error=max(rel),
        mean_signed_error=statistics.fmean(signed),
    )
