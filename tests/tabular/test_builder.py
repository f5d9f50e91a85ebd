"""The table builder on synthetic data: build, resume, extend, kill -9, lock, Ray, bad input."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tabular.budget import get_budget
from tabular.builder import BuildOptions, BuildSpec, build_table
from tabular.builder.journal import BuildLock, Journal, journal_path
from tabular.builder.merge import done_runs
from tabular.errors import BudgetError, BuildError, DatasetNotFoundError, OutputPathError, UnknownNameError
from tabular.table import RunStatus, Table
from tabular.table.info import format_info, table_info
from tabular.table.stats import accuracy_spread, class_rows, seed_agreement

BUDGET = replace(get_budget("tiny"), train_size=400, valid_size=200, epochs=2)
SPEC = BuildSpec(space="nb201", dataset="synthetic", budget=BUDGET, seeds=1, archs=3)
INLINE = BuildOptions(workers=0, progress=False)


def tiny_build_cli(archs: int, *args: str) -> list[str]:
    """The CLI call that builds SPEC's budget (tiny, 2 epochs, 400 images) for ``archs`` classes."""
    return cli(
        "--budget",
        "tiny",
        "--epochs",
        "2",
        "--train-size",
        "400",
        "--valid-size",
        "200",
        "--archs",
        str(archs),
        *args,
    )


def cli(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "suite",
        "table",
        "build",
        "--space",
        "nb201",
        "--dataset",
        "synthetic",
        *args,
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Table]:
    out = tmp_path_factory.mktemp("build") / "syn.h5"
    report = build_table(SPEC, out, INLINE, command="pytest")
    assert report.runs_done == 3 and report.runs_left == 0
    return out, Table.open(out)


def test_build_trains_one_cell_per_class_and_fills_the_others(built: tuple[Path, Table]) -> None:
    _, table = built
    status = table.status("synthetic")[:, 0]
    trained = np.flatnonzero(status == RunStatus.OK)
    assert np.unique(table.iso_class[trained]).size == 3
    test = table.metric("synthetic", "test@2")
    for rep in np.unique(table.iso_class[trained]):
        members = np.flatnonzero(table.iso_class == rep)
        assert np.all(test[members] == test[members[0]]) and np.isfinite(test[members[0]])
    assert {"test@2", "valid@1", "valid@2", "train_seconds@2"} <= set(table.metric_names("synthetic"))
    assert np.isfinite(table.hardware("params")[trained]).all()
    assert np.isfinite(table.hardware("latency_ms:cpu_b1")[trained]).all()


def test_degenerate_cells_are_chance_not_trained(built: tuple[Path, Table]) -> None:
    _, table = built
    rows = np.flatnonzero(table.degenerate)
    assert rows.size == 341
    assert (table.status("synthetic")[rows, 0] == RunStatus.CHANCE).all()
    assert np.allclose(table.metric("synthetic", "test@2")[rows], 10.0)
    assert (table.metric("synthetic", "train_seconds@2")[rows] == 0).all()


def test_provenance_records_how_it_was_built(built: tuple[Path, Table]) -> None:
    _, table = built
    prov = table.provenance
    assert prov["kind"] == "built" and prov["budget"]["name"] == "tiny"
    session = prov["sessions"][-1]
    assert session["threads_per_worker"] == 1 and session["runs"] == 3 and session["host"]["cores"]
    assert session["memory_format"] == "channels_last"  # a new table gets the faster layout
    (ran_on,) = table_info(table)["build"]["ran_on"]
    assert ran_on["runs"] == 3 and ran_on["workers"] == 0 and ran_on["memory_format"] == "channels_last"
    assert "3 runs in 1 sitting(s) on " in format_info(table_info(table))
    assert {"torch", "numpy", "h5py", "nasuite"} <= set(prov["software"])
    assert prov["dataset"]["fingerprint"] == table.raw.root_attrs["build"]["data_fingerprint"]
    # the text summary tells this build from one of the plain 'tiny' preset (overridden settings)
    assert "budget tiny (2 epochs, C=4 N=1, 16x16, 400 training images," in format_info(table_info(table))


def test_resume_after_a_normal_stop_and_extend(tmp_path: Path) -> None:
    out = tmp_path / "t.h5"
    first = build_table(SPEC, out, replace(INLINE, max_runs=2))
    assert (first.runs_done, first.runs_left) == (2, 1)
    before = Table.open(out).metric("synthetic", "valid@2").copy()
    again = build_table(SPEC, out, INLINE)
    assert (again.runs_done, again.runs_left) == (1, 0)
    table = Table.open(out)
    kept = np.isfinite(before)
    assert np.array_equal(table.metric("synthetic", "valid@2")[kept], before[kept])  # not retrained
    extended = build_table(replace(SPEC, seeds=2, archs=4), out, INLINE)
    assert extended.runs_done == 4 + 1  # seed 1 of four classes, seed 0 of the new one
    table = Table.open(out)
    done = done_runs(table, "synthetic")
    assert len(done) == 8 and {s for _, s in done} == {0, 1}
    agreement = seed_agreement(table, "synthetic", "test@2")
    assert agreement["classes"] == 4 and -1 <= agreement["kendall_tau"] <= 1
    a, b = (
        table.metric("synthetic", "test@2", seed=s, rows=class_rows(table, "synthetic", (0, 1)))
        for s in (0, 1)
    )
    assert agreement["pearson_r"] == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert accuracy_spread(table, "synthetic", "test@2")["classes"] == 4


def test_a_resumed_table_keeps_the_memory_format_it_was_built_with(tmp_path: Path) -> None:
    out = tmp_path / "old.h5"
    build_table(SPEC, out, replace(INLINE, max_runs=1))
    table = Table.open(out)  # as a table built before the format was recorded (contiguous)
    del table.raw.root_attrs["provenance"]["sessions"][-1]["memory_format"]
    table.save(out)
    build_table(SPEC, out, replace(INLINE, max_runs=1))
    table = Table.open(out)
    assert table.provenance["sessions"][-1]["memory_format"] == "contiguous"
    assert table.raw.group("metrics/synthetic")["sources"]["test@2/0"].endswith("thread(s), contiguous")
    build_table(SPEC, out, replace(INLINE, memory_format="channels_last"))  # asked for explicitly
    table = Table.open(out)
    assert [s["memory_format"] for s in table.provenance["sessions"][1:]] == ["contiguous", "channels_last"]
    formats = {g["memory_format"]: g["runs"] for g in table_info(table)["build"]["ran_on"]}
    assert formats == {"contiguous": 2, "channels_last": 1}
    assert table.raw.group("metrics/synthetic")["sources"]["test@2/0"].endswith("channels_last")
    assert len(done_runs(table, "synthetic")) == 3


def test_set_overrides_reach_the_table_and_guard_resume(tmp_path: Path) -> None:
    out = tmp_path / "set.h5"
    overridden = tiny_build_cli(1, "--workers", "0", "--no-progress", "--out", str(out))
    overridden += ["--set", "channels=2", "--set", "lr=0.05", "--set", "nesterov=false"]
    subprocess.run(overridden, check=True, capture_output=True)
    table = Table.open(out)
    budget = table.raw.root_attrs["build"]["budget"]
    assert (budget["channels"], budget["lr"], budget["nesterov"]) == (2, 0.05, False)
    assert "C=2 N=1" in format_info(table_info(table)) and "lr 0.05" in format_info(table_info(table))
    plain = tiny_build_cli(2, "--workers", "0", "--no-progress", "--out", str(out))
    proc = subprocess.run(plain, capture_output=True, text=True)
    assert proc.returncode == 2 and "budget differ" in proc.stderr  # no silent mix of two recipes
    assert len(done_runs(Table.open(out), "synthetic")) == 1


def test_same_seed_same_table_values(built: tuple[Path, Table], tmp_path: Path) -> None:
    _, table = built
    other = tmp_path / "again.h5"
    build_table(SPEC, other, INLINE)
    again = Table.open(other)
    np.testing.assert_array_equal(again.metric("synthetic", "valid@1"), table.metric("synthetic", "valid@1"))


def test_lock_refuses_a_second_builder(tmp_path: Path) -> None:
    out = tmp_path / "t.h5"
    with BuildLock(out), pytest.raises(BuildError, match="another builder"):
        build_table(SPEC, out, INLINE)


def test_mismatched_settings_refused(built: tuple[Path, Table], tmp_path: Path) -> None:
    path, _ = built
    copy = tmp_path / "copy.h5"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(BuildError, match="budget"):
        build_table(replace(SPEC, budget=replace(BUDGET, epochs=3)), copy, INLINE)


def test_journal_replay_recovers_runs_and_ignores_a_torn_line(tmp_path: Path) -> None:
    out = tmp_path / "t.h5"
    build_table(SPEC, out, replace(INLINE, max_runs=1))
    from tabular.builder.plan import Job, class_order
    from tabular.builder.worker import run_job
    from tabular.spaces import NB201Space

    journal = Journal(journal_path(out))
    done = done_runs(Table.open(out), "synthetic")
    order = class_order(NB201Space(), SPEC.order_seed, None)
    todo = [int(i) for i in order[:1] if (int(i), 0) not in done]
    assert todo == [] and len(done) == 1  # max_runs=1 trained the first class in build order
    todo = [int(order[1])]
    entry = run_job(Job(todo[0], 0), SPEC, "cpu")
    journal.append(entry)
    with open(journal.path, "a") as fh:
        fh.write('{"sha": "torn')
    report = build_table(replace(SPEC, archs=2), out, INLINE)
    assert report.recovered_from_journal == 1 and report.runs_done == 0
    assert (todo[0], 0) in done_runs(Table.open(out), "synthetic")


def _wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(c) for c in task.read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_and_check(out: Path, delay: float) -> None:
    args = tiny_build_cli(6, "--workers", "1", "--flush-seconds", "0", "--no-progress", "--out", str(out))
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(out, 120)
    time.sleep(delay)
    children = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if _alive(c)], "worker processes outlived the killed builder"
    table = Table.open(out)  # opens, checksum holds
    finished = done_runs(table, "synthetic") | {
        (e["index"], e["seed"]) for e in Journal(journal_path(out)).read()
    }
    report = build_table(replace(SPEC, archs=6), out, INLINE)
    assert report.runs_done == 6 - len(finished)  # nothing finished was lost or retrained
    assert len(done_runs(Table.open(out), "synthetic")) == 6


def test_kill_minus_9_then_resume(tmp_path: Path) -> None:
    _kill_and_check(tmp_path / "k.h5", delay=float(np.random.default_rng().uniform(0.5, 3.0)))


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(4))
def test_kill_minus_9_at_random_moments(tmp_path: Path, attempt: int) -> None:
    _kill_and_check(
        tmp_path / f"k{attempt}.h5", delay=float(np.random.default_rng(attempt).uniform(0.0, 6.0))
    )


@pytest.mark.slow
def test_build_through_a_local_ray_cluster(tmp_path: Path) -> None:
    out = tmp_path / "ray.h5"
    report = build_table(replace(SPEC, archs=2), out, BuildOptions(workers=2, ray="local", progress=False))
    assert report.runs_done == 2
    table = Table.open(out)
    assert table.provenance["sessions"][-1]["executor"] == "ray"
    assert len(done_runs(table, "synthetic")) == 2


def test_local_process_pool(tmp_path: Path) -> None:
    report = build_table(
        replace(SPEC, archs=2), tmp_path / "pool.h5", BuildOptions(workers=2, progress=False)
    )
    assert report.runs_done == 2 and report.runs_failed == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--space", "nb999", "--budget", "tiny"], "unknown search space 'nb999'"),
        (["--budget", "huge"], "unknown budget preset 'huge'"),
        (["--archs", "-3", "--budget", "tiny"], "--archs must be"),
        (["--budget", "tiny", "--set", "lr=fast"], "lr takes a value of type float, got 'fast'"),
        (["--budget", "tiny", "--set", "colour=red"], "expected FIELD=VALUE with FIELD one of"),
        (["--budget", "tiny", "--set", "channels=0"], "channels must be an int >= 1, got 0"),
        (["--budget", "tiny", "--memory-format", "nhwc"], "unknown memory format 'nhwc'"),
    ],
)
def test_bad_cli_input_is_a_typed_error(tmp_path: Path, args: list[str], error: str) -> None:
    out = tmp_path / "x.h5"
    proc = subprocess.run([*cli(*args), "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2 and error in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_in_python(tmp_path: Path) -> None:
    out = tmp_path / "x.h5"
    with pytest.raises(UnknownNameError, match="imagenet-1k"):
        build_table(replace(SPEC, dataset="imagenet-1k"), out, INLINE)
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        build_table(replace(SPEC, dataset="fashion-mnist", data_root=str(tmp_path / "nope")), out, INLINE)
    with pytest.raises(BudgetError, match="epochs"):
        build_table(replace(SPEC, budget=replace(BUDGET, epochs=0)), out, INLINE)
    with pytest.raises(OutputPathError):
        build_table(SPEC, Path("/sys") / "x.h5", INLINE)
    assert list(tmp_path.iterdir()) == []


def test_a_stop_between_journal_and_table_keeps_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal that lands after a run's journal line but before the table has it (the window
    the stop-signal test hits under load) must neither lose the run nor miscount the sitting."""
    import tabular.builder.build as build_module

    real_apply = build_module.apply_entry
    calls = {"n": 0}

    def apply_then_stop_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # the first finished run: journaled, not yet in the table
            raise KeyboardInterrupt
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(build_module, "apply_entry", apply_then_stop_once)
    out = tmp_path / "window.h5"
    with pytest.raises(KeyboardInterrupt):
        build_table(SPEC, out, INLINE)
    table = Table.open(out)
    assert len(done_runs(table, "synthetic")) == 1
    assert table.provenance["sessions"][-1]["runs"] == 1
    assert Journal(journal_path(out)).read() == []


def _worker_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in _cmdline(c)]


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # the process ended between listing and reading
        return b""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads worker processes from /proc")
def test_a_stop_ends_the_workers_runs_instead_of_waiting_for_them(tmp_path: Path) -> None:
    """Runs in flight are lost on a stop; the builder must end them, not wait for them (it used
    to wait, and could hang for good when the signal landed inside the process pool)."""
    out = tmp_path / "long.h5"
    # minutes per run here: 100 epochs of a C=32, N=3 network on 2,000 images
    endless = ["--budget", "tiny", "--epochs", "100", "--train-size", "2000", "--valid-size", "200"]
    endless += ["--set", "channels=32", "--set", "cells_per_stage=3"]
    args = cli(*endless, "--archs", "4", "--workers", "2", "--no-progress", "--out", str(out))
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_worker_pids(proc.pid)) < 2:
            time.sleep(0.2)
        workers = _worker_pids(proc.pid)
        time.sleep(5)  # the workers take their runs, which would last for hours
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert len(workers) == 2
    assert proc.returncode == 130 and "rerun the command to resume" in err
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert done_runs(Table.open(out), "synthetic") == set()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stop_signal_saves_and_records_the_sitting(tmp_path: Path, sig: int) -> None:
    out = tmp_path / "int.h5"
    args = tiny_build_cli(200, "--workers", "1", "--no-progress", "--out", str(out))
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    journal = journal_path(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (journal.exists() and journal.stat().st_size > 0):
        time.sleep(0.1)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "rerun the command to resume" in err
    table = Table.open(out)
    session = table.provenance["sessions"][-1]
    assert session["interrupted"] and session["finished_utc"] and session["runs"] >= 1
    assert len(done_runs(table, "synthetic")) >= 1  # the finished run was saved, not just journaled
    assert len(done_runs(table, "synthetic")) < 200  # it stopped early (200 runs leave time to signal)
