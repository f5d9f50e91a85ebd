"""One build job, run in a worker process (local pool or Ray): train, then measure hardware.

Workers load the dataset once per process and keep it; the thread count is fixed per worker
because it changes both speed and, through reduction order, the numbers themselves.
"""

from __future__ import annotations

import traceback
from typing import Any

from tabular.builder.plan import BuildSpec, Job
from tabular.training import DEFAULT_MEMORY_FORMAT

_DATA_CACHE: dict[tuple[Any, ...], Any] = {}
LATENCY_BATCH = 64


def init_worker(threads: int, parent_pid: int | None = None) -> None:
    _die_with_parent(parent_pid)
    import torch

    torch.set_num_threads(threads)


def _die_with_parent(parent_pid: int | None) -> None:
    """Ask Linux to SIGKILL this worker when the builder dies, so a killed build leaves no orphans."""
    import ctypes
    import os
    import signal

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: an orphan finishes its run, then fails on the pipe
        return
    if parent_pid is not None and os.getppid() != parent_pid:  # the builder died while we started
        os._exit(1)


def load_build_data(spec: BuildSpec) -> Any:
    """The dataset as the spec's budget wants it, loaded once per process."""
    from tabular.data import DataConfig, load_data

    config = DataConfig(
        name=spec.dataset,
        root=spec.data_root,
        resolution=spec.budget.resolution,
        train_size=spec.budget.train_size,
        valid_size=spec.budget.valid_size,
        split_seed=spec.split_seed,
    )
    key = (config,)
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()
        _DATA_CACHE[key] = load_data(config)
    return _DATA_CACHE[key]


def class_members(space: Any, index: int) -> list[int]:
    """Our indices of every cell in ``index``'s isomorphism class."""
    import numpy as np

    if hasattr(space, "canonical_indices"):
        reps = space.canonical_indices()
        return [int(i) for i in np.flatnonzero(reps == reps[index])]
    return [index]


def run_job(
    job: Job, spec: BuildSpec, device: str | None = None, memory_format: str = DEFAULT_MEMORY_FORMAT
) -> dict[str, Any]:
    """Train ``job`` and return a journal entry; an exception becomes a failed entry."""
    from tabular.spaces import get_space
    from tabular.training import TrainResult, train_cell

    space = get_space(spec.space)
    try:
        data = load_build_data(spec)
        result = train_cell(
            space, space.from_index(job.index), data, spec.budget, job.seed, device, memory_format
        )
        # hardware does not depend on the seed: measure it with the class's first run
        hardware = measure_members(space, job.index, spec, data) if job.seed == 0 else {}
    except Exception as exc:  # a broken run is recorded, the build goes on
        result = TrainResult(
            arch=space.to_str(space.from_index(job.index)),
            seed=job.seed,
            budget=spec.budget.name,
            status="failed",
            reason=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
        )
        hardware = {}
    return {
        "kind": "run",
        "index": job.index,
        "seed": job.seed,
        "result": result.to_dict(),
        "hardware": hardware,
    }


def measure_members(space: Any, index: int, spec: BuildSpec, data: Any) -> dict[str, dict[str, Any]]:
    """Params, FLOPs, CPU latency (batch 1 and 64) and peak forward memory of every class member."""
    import torch

    from tabular.hardware import latency_ms, measure
    from tabular.models import build_network
    from tabular.training import network_config

    config = network_config(spec.budget, data)
    threads = torch.get_num_threads()
    out: dict[str, dict[str, Any]] = {}
    for member in class_members(space, index):
        # peak memory needs the profiler (slow): measure it for the trained representative only
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = build_network(space, space.from_index(member), config)
        metrics = measure(
            model,
            config.input_shape,
            latency=True,
            memory=member == index,
            batch_size=1,
            threads=threads,
            warmup=5,
            repeats=21,
        )
        out[str(member)] = {
            "params": metrics.params,
            "flops": metrics.flops,
            "mflops_nb201": metrics.nb201_mflops,
            "latency_ms_b1": metrics.latency_ms,
            "peak_memory_bytes_b1": metrics.peak_memory_bytes,
            "latency_ms_b64": latency_ms(model, config.input_shape, LATENCY_BATCH, threads, 2, 5),
            "threads": threads,
        }
    return out
