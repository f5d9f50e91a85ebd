"""Where build jobs run: in this process, a local process pool, or a Ray cluster.

Each yields finished journal entries as they complete. The driver is the only writer of the
table; workers only compute. Jobs are submitted in a small window so that stopping the build
loses at most the runs in flight.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

from tabular.builder.plan import BuildSpec, Job
from tabular.builder.worker import init_worker, run_job
from tabular.training import DEFAULT_MEMORY_FORMAT


class InlineExecutor:
    """Runs jobs one by one in this process (tests, debugging, ``--workers 0``)."""

    name = "inline"

    def __init__(
        self, threads: int = 1, device: str | None = None, memory_format: str = DEFAULT_MEMORY_FORMAT
    ) -> None:
        self.threads, self.device, self.workers = threads, device, 1
        self.memory_format = memory_format

    def run(self, jobs: Sequence[Job], spec: BuildSpec) -> Iterator[dict[str, Any]]:
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            for job in jobs:
                yield run_job(job, spec, self.device, self.memory_format)
        finally:
            torch.set_num_threads(previous)


class LocalExecutor:
    """A pool of ``workers`` processes (spawned, so torch state is never forked)."""

    name = "local"

    def __init__(
        self,
        workers: int,
        threads: int = 1,
        device: str | None = None,
        memory_format: str = DEFAULT_MEMORY_FORMAT,
    ) -> None:
        self.workers, self.threads, self.device = workers, threads, device
        self.memory_format = memory_format

    def run(self, jobs: Sequence[Job], spec: BuildSpec) -> Iterator[dict[str, Any]]:
        import multiprocessing
        import os
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

        context = multiprocessing.get_context("spawn")
        pending = list(jobs)
        running: set[Future[dict[str, Any]]] = set()
        pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=init_worker, initargs=(self.threads, os.getpid())
        )
        try:
            while pending or running:
                while pending and len(running) < 2 * self.workers:
                    running.add(pool.submit(run_job, pending.pop(0), spec, self.device, self.memory_format))
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        except BaseException:  # a stop (or the caller closing us): the runs in flight are lost anyway
            _end_workers_now(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _end_workers_now(pool: Any) -> None:
    """Terminate a process pool's workers instead of letting them finish runs nobody will read.

    Without this a stopped build waits for every run already handed to a worker (minutes), and
    its results are thrown away.
    """
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


class RayExecutor:
    """Jobs as Ray tasks on a cluster (``address``) or a local one (``"local"``).

    Each task asks for one CPU, and one GPU when the cluster has GPUs. Every node must see the
    dataset at the same path (the Debian package, or ``--data-root`` on shared storage).
    """

    name = "ray"

    def __init__(
        self,
        address: str,
        workers: int,
        threads: int = 1,
        device: str | None = None,
        memory_format: str = DEFAULT_MEMORY_FORMAT,
    ) -> None:
        self.address, self.workers, self.threads, self.device = address, workers, threads, device
        self.memory_format = memory_format
        self.started_here = False

    def run(self, jobs: Sequence[Job], spec: BuildSpec) -> Iterator[dict[str, Any]]:
        import ray

        if not ray.is_initialized():
            if self.address == "local":
                ray.init(
                    num_cpus=self.workers,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            else:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
            self.started_here = True
        gpus = ray.cluster_resources().get("GPU", 0)
        task = ray.remote(num_cpus=1, num_gpus=1 if gpus else 0)(_ray_job)
        window = max(2, 2 * int(ray.cluster_resources().get("CPU", self.workers)))
        pending = list(jobs)
        running: list[Any] = []
        try:
            while pending or running:
                while pending and len(running) < window:
                    job = pending.pop(0)
                    running.append(task.remote(job, spec, self.threads, self.device, self.memory_format))
                done, running = ray.wait(running, num_returns=1)
                for ref in done:
                    yield ray.get(ref)
        finally:
            for ref in running:
                ray.cancel(ref)
            if self.started_here:
                ray.shutdown()


def _ray_job(
    job: Job, spec: BuildSpec, threads: int, device: str | None, memory_format: str
) -> dict[str, Any]:
    init_worker(threads)
    return run_job(job, spec, device, memory_format)


def make_executor(
    workers: int,
    ray: str | None,
    threads: int,
    device: str | None,
    memory_format: str = DEFAULT_MEMORY_FORMAT,
) -> Any:
    if ray:
        return RayExecutor(ray, max(1, workers), threads, device, memory_format)
    if workers <= 0:
        return InlineExecutor(threads, device, memory_format)
    return LocalExecutor(workers, threads, device, memory_format)


def describe_host() -> dict[str, Any]:
    """CPU model and core count, for the table's provenance."""
    import os
    import platform

    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(
                (line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), model
            )
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "platform": sys.platform}
