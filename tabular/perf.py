"""How fast training runs here, and how that compares with the CPU's fp32 peak.

Two peaks are reported: a *nominal* one from the CPU's vector width and clock (2 FMA units of
AVX-512: 16 fp32 lanes x 2 flops x 2 units = 64 flops/cycle; AVX2: 32), which assumes the
clock in ``/proc/cpuinfo`` and two FMA ports; and a *measured* one, a large single-thread
``torch.mm``, which is what the hardware actually delivers to a BLAS kernel. Training FLOPs are
taken as 3x the forward FLOPs (forward, input gradients, weight gradients).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CpuPeak:
    model: str
    mhz: float | None
    flops_per_cycle: int | None
    nominal_gflops_per_core: float | None
    measured_gflops_per_core: float
    how: str


def _cpuinfo() -> tuple[str, float | None, set[str]]:
    model: str = "unknown"
    mhz: float | None = None
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = value.strip()
                elif key == "cpu MHz" and mhz is None:
                    mhz = float(value)
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, mhz, flags


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` ("unknown" where that is not readable)."""
    return _cpuinfo()[0]


def matmul_gflops(threads: int = 1, n: int = 1024, repeats: int = 5) -> float:
    """Best-of-``repeats`` fp32 GFLOP/s of an ``n x n`` matrix product with ``threads`` threads."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gen = torch.Generator().manual_seed(0)
        a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
        torch.mm(a, b)
        best = float("inf")
        for _ in range(repeats):
            tic = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - tic)
    finally:
        torch.set_num_threads(previous)
    return 2 * n**3 / best / 1e9


def cpu_peak() -> CpuPeak:
    model, mhz, flags = _cpuinfo()
    width = 64 if "avx512f" in flags else 32 if "avx2" in flags and "fma" in flags else None
    nominal = mhz * width / 1e3 if (mhz and width) else None
    return CpuPeak(
        model=model,
        mhz=mhz,
        flops_per_cycle=width,
        nominal_gflops_per_core=nominal,
        measured_gflops_per_core=matmul_gflops(),
        how="nominal: cpu MHz x fp32 flops/cycle (2 FMA ports); measured: 1024^3 torch.mm, 1 thread",
    )


def training_throughput(
    space: Any, arch: Any, data: Any, budget: Any, seed: int = 0, memory_format: str | None = None
) -> dict[str, Any]:
    """Images/s and achieved GFLOP/s of training ``arch`` for ``budget`` (current thread count;
    ``memory_format`` None: training's default)."""
    import torch

    from tabular.hardware import count_flops
    from tabular.models import build_network
    from tabular.training import DEFAULT_MEMORY_FORMAT, network_config, train_cell

    memory_format = memory_format or DEFAULT_MEMORY_FORMAT
    result = train_cell(space, arch, data, budget, seed, device="cpu", memory_format=memory_format)
    n_train = min(budget.train_size or data.x_train.shape[0], data.x_train.shape[0])
    seconds = sum(e.train_seconds for e in result.epochs)
    config = network_config(budget, data)
    forward = count_flops(build_network(space, arch, config), config.input_shape)
    images_per_second = n_train * len(result.epochs) / seconds
    return {
        "images_per_second": images_per_second,
        "forward_flops": forward,
        "achieved_gflops": 3 * forward * images_per_second / 1e9,
        "threads": torch.get_num_threads(),
        "memory_format": memory_format,
        "train_seconds": seconds,
        "eval_seconds": sum(e.eval_seconds for e in result.epochs),
    }


def report(space: Any, arch: Any, data: Any, budget: Any) -> dict[str, Any]:
    peak = cpu_peak()
    speed = training_throughput(space, arch, data, budget)
    out = {"peak": asdict(peak), "training": speed}
    out["fraction_of_measured_peak"] = speed["achieved_gflops"] / (
        peak.measured_gflops_per_core * speed["threads"]
    )
    if peak.nominal_gflops_per_core:
        out["fraction_of_nominal_peak"] = speed["achieved_gflops"] / (
            peak.nominal_gflops_per_core * speed["threads"]
        )
    return out
