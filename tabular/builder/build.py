"""``build_table``: train a space's cells under a budget into a table, resumably and crash-safely.

The protocol: take the lock; open the table (or start one); replay the journal left by a
crash and save; plan the runs not yet done; run them (pool or Ray), appending each finished
run to the journal and folding it into the table; every ``flush_seconds`` save the table
atomically and clear the journal. ``kill -9`` at any point leaves a valid table plus a journal
whose runs are recovered next time.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tabular.builder.executors import describe_host, make_executor
from tabular.builder.journal import BuildLock, Journal, journal_path, stale_temp_files
from tabular.builder.merge import apply_entry, done_runs, mark_degenerate
from tabular.builder.plan import BuildSpec, class_order, is_sampled, plan_jobs
from tabular.errors import BuildError
from tabular.interrupt import raise_if_stop_requested
from tabular.spaces import get_space
from tabular.table import Table
from tabular.table.info import sitting_memory_format
from tabular.table.store import check_writable
from tabular.training import DEFAULT_MEMORY_FORMAT, check_memory_format


@dataclass(frozen=True)
class BuildOptions:
    """How a build runs (not what it computes): parallelism, device, saving cadence."""

    workers: int = 2
    threads: int = 1
    ray: str | None = None
    device: str | None = None
    flush_seconds: float = 60.0
    progress: bool = True
    max_runs: int | None = None  #: stop after this many runs (for sittings and tests)
    #: "channels_last" or "contiguous"; None: what the table was built with (channels_last if new)
    memory_format: str | None = None

    def __post_init__(self) -> None:
        if self.memory_format is not None:
            check_memory_format(self.memory_format)


@dataclass(frozen=True)
class BuildReport:
    path: str
    runs_done: int
    runs_failed: int
    runs_left: int
    wall_seconds: float
    recovered_from_journal: int


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def build_table(
    spec: BuildSpec, out: str | os.PathLike[str], options: BuildOptions = BuildOptions(), command: str = ""
) -> BuildReport:
    """Build (or resume, or extend) the table at ``out``; see the module docstring."""
    from tabular.builder.worker import load_build_data

    target = check_writable(out)
    space = get_space(spec.space)
    if options.memory_format is not None:
        check_memory_format(options.memory_format, space)
    data = load_build_data(spec)  # fails early, with the data error, before any file is touched
    started, tic = _now(), time.perf_counter()
    with BuildLock(target):
        for stale in stale_temp_files(target):
            with contextlib.suppress(OSError):
                stale.unlink()
        table = _open_or_create(target, spec, space, data)
        journal = Journal(journal_path(target))
        recovered = journal.read()
        for entry in recovered:
            apply_entry(table, entry, spec.dataset, spec.budget.epochs)
        mark_degenerate(table, spec.dataset, range(spec.seeds), spec.budget.epochs, data.num_classes)
        options = replace(options, memory_format=options.memory_format or table_memory_format(table))
        session = _start_session(table, options, command, started)
        table.save(target)
        journal.clear()
        finished_before = done_runs(table, spec.dataset)
        jobs = plan_jobs(class_order(space, spec.order_seed, spec.archs), spec, finished_before)
        todo = jobs if options.max_runs is None else jobs[: options.max_runs]
        try:
            done, failed = _run(table, target, journal, spec, options, todo, session)
        except KeyboardInterrupt:  # keep what finished; the journal already has it
            # the signal may have landed between a run's journal line and the end of its
            # apply_entry: applying the journal again (idempotent) completes that run
            for entry in journal.read():
                apply_entry(table, entry, spec.dataset, spec.budget.epochs)
            session["interrupted"] = True
            runs = len(done_runs(table, spec.dataset) - finished_before)
            _update_session(table, session, runs, finished=True)
            table.save(target)
            journal.clear()
            raise
        _update_session(table, session, done, finished=True)
        table.save(target)
        journal.clear()
    return BuildReport(str(target), done, failed, len(jobs) - done, time.perf_counter() - tic, len(recovered))


def _run(
    table: Table,
    target: Path,
    journal: Journal,
    spec: BuildSpec,
    options: BuildOptions,
    jobs: list[Any],
    session: dict[str, Any],
) -> tuple[int, int]:
    from tqdm import tqdm

    memory_format = options.memory_format or DEFAULT_MEMORY_FORMAT
    executor = make_executor(options.workers, options.ray, options.threads, options.device, memory_format)
    done = failed = 0
    last_save = time.monotonic()
    bar = tqdm(
        total=len(jobs),
        desc=f"build {target.name}",
        unit="run",
        disable=not options.progress,
        dynamic_ncols=True,
        smoothing=0.05,
    )
    try:
        for entry in executor.run(jobs, spec):
            journal.append(entry)
            apply_entry(table, entry, spec.dataset, spec.budget.epochs)
            done += 1
            failed += entry["result"]["status"] != "ok"
            bar.update(1)
            bar.set_postfix(failed=failed)
            if time.monotonic() - last_save >= options.flush_seconds:
                _update_session(table, session, done)
                table.save(target)
                journal.clear()
                last_save = time.monotonic()
            raise_if_stop_requested()
    finally:
        bar.close()
        _update_session(table, session, done)
    return done, failed


def _open_or_create(target: Path, spec: BuildSpec, space: Any, data: Any) -> Table:
    identity = {**spec.identity(), "data_fingerprint": data.fingerprint}
    if target.exists():
        table = Table.open(target)
        have = table.raw.root_attrs.get("build")
        if have != identity:
            diff = sorted(
                k for k in set(identity) | set(have or {}) if (have or {}).get(k) != identity.get(k)
            )
            raise BuildError(
                f"{str(target)!r} was built with different settings ({', '.join(diff)} differ); "
                "build into a new file, or rerun with the same --space/--dataset/--budget and the same "
                "--epochs/--train-size/--valid-size/--set overrides (`nasuite table info` shows them)"
            )
        if is_sampled(space):
            _grow_sample(table, space, spec)
        return table
    if is_sampled(space):
        table = Table.new(space, np.zeros((0, space.n_decisions), dtype=np.int8), provenance={})
        _grow_sample(table, space, spec)
    else:
        table = Table.new(space, space.all_archs(), provenance={})
    table.raw.root_attrs["build"] = identity
    table.ensure_dataset(
        spec.dataset,
        split_source=data.split_source,
        description=f"{spec.dataset}, fingerprint {data.fingerprint[:16]}",
    )
    table.raw.root_attrs["provenance"] = {
        "kind": "built",
        "space": space.name,
        "dataset": data.describe(),
        "budget": spec.budget.to_dict(),
        "order_seed": spec.order_seed,
        "sessions": [],
    }
    return table


def _grow_sample(table: Table, space: Any, spec: BuildSpec) -> None:
    """Give a sample table rows for the first ``spec.archs`` architectures of its sample order.

    The id column ``sample_order`` holds each row's position in that order; rows added on
    demand (a ``LiveBenchmark`` training a cell outside the sample) hold -1, so the uniform
    sample stays identifiable.
    """
    if spec.archs is None:
        raise BuildError(
            f"space {space.name} has {space.size:,} architectures, too many to list; "
            "give --archs N to build a table of a uniform sample of N"
        )
    order = class_order(space, spec.order_seed, spec.archs)
    have = set(table.arch_index.tolist())
    new = [int(i) for i in order if int(i) not in have]
    if new:
        table.append_archs(space.from_indices(np.asarray(new, dtype=np.int64)))
    position = {int(i): p for p, i in enumerate(order.tolist())}
    column = table.ids("sample_order").copy() if "sample_order" in table.id_names() else None
    if column is None:
        column = np.full(table.n_rows, -1, dtype=np.int64)
    for row, index in enumerate(table.arch_index.tolist()):
        column[row] = position.get(int(index), column[row])
    table.raw.put("archs/id:sample_order", column)
    table._cache.clear()  # row lookups by this id were sorted before it changed
    table.raw.root_attrs["sample"] = {
        "kind": "uniform random sample of the space, in a seeded order (tabular.builder.plan)",
        "space_size": int(space.size),
        "archs": int((column >= 0).sum()),
        "order_seed": spec.order_seed,
    }


def table_memory_format(table: Table) -> str:
    """The memory format a table's runs were trained with: its last sitting's.

    Tables built before the format was recorded were trained contiguous (except in spaces whose
    networks fix their layout); a new table gets the default. Keeping a table's format keeps
    its recorded train times comparable.
    """
    sessions = table.raw.root_attrs.get("provenance", {}).get("sessions", [])
    if not sessions:
        return table.space.fixed_memory_format or DEFAULT_MEMORY_FORMAT
    return sitting_memory_format(sessions[-1], table.space)


def _start_session(table: Table, options: BuildOptions, command: str, started: str) -> dict[str, Any]:
    """Add this sitting to the provenance now, so a killed build still says how it ran."""
    import h5py
    import torch

    import tabular

    prov = table.raw.root_attrs.setdefault("provenance", {})
    prov["software"] = {
        "nasuite": tabular.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "h5py": h5py.__version__,
    }
    session: dict[str, Any] = {
        "command": command,
        "started_utc": started,
        "finished_utc": None,
        "wall_seconds": 0.0,
        "runs": 0,
        "workers": options.workers,
        "threads_per_worker": options.threads,
        "memory_format": options.memory_format,
        "executor": "ray" if options.ray else ("inline" if options.workers <= 0 else "local"),
        "ray": options.ray,
        "device": options.device or ("cuda" if torch.cuda.is_available() else "cpu"),
        "host": describe_host(),
        "started_unix": time.time(),
    }
    prov.setdefault("sessions", []).append(session)
    _update_session(table, session, 0)
    return session


def _update_session(table: Table, session: dict[str, Any], runs: int, finished: bool = False) -> None:
    session["runs"] = runs
    session["wall_seconds"] = round(time.time() - session["started_unix"], 1)
    if finished:
        session["finished_utc"] = _now()
    prov = table.raw.root_attrs["provenance"]
    prov["total_wall_seconds"] = round(sum(s.get("wall_seconds", 0.0) for s in prov["sessions"]), 1)
