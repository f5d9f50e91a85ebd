"""LiveBenchmark: real training on the synthetic data (budget "tiny"), cached in the table."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from suite.benchmarks import Benchmark, FidelityError, LiveBenchmark
from suite.errors import SearchSettingsError
from suite.runner.loop import run_search
from suite.runner.setup import build_setup
from suite.runner.spec import SearchSpec
from tabular.budget import get_budget
from tabular.builder.journal import Journal, journal_path
from tabular.errors import BuildError, UnknownDatasetError, UnknownMetricError, UnknownNameError
from tabular.hardware import torch_threads
from tabular.table import RunStatus, Table

#: the "tiny" preset on fewer images (400 train, 200 valid): about a second per cell on one thread
BUDGET = replace(get_budget("tiny"), train_size=400, valid_size=200)


@pytest.fixture(scope="module")
def empty_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty NB201 table on the synthetic data under BUDGET, made once; tests work on copies."""
    path = tmp_path_factory.mktemp("live") / "empty.h5"
    LiveBenchmark.create(path, space="nb201", dataset="synthetic", budget=BUDGET)
    return path


@pytest.fixture
def fresh(empty_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "live.h5"
    shutil.copy(empty_path, path)
    return path


def class_with(table: Table, size: int) -> np.ndarray:
    """The rows of the first non-degenerate isomorphism class with ``size`` members."""
    reps, counts = np.unique(table.iso_class, return_counts=True)
    for rep, count in zip(reps, counts, strict=True):
        rows = np.flatnonzero(table.iso_class == rep)
        if count == size and not table.degenerate[rows[0]]:
            return rows
    raise AssertionError(f"no class of {size} cells")


def test_a_query_trains_once_per_class_and_seed(fresh: Path) -> None:
    bench = LiveBenchmark(fresh, hardware=False, save_every=0)
    assert isinstance(bench, Benchmark) and bench.fidelities == (1,) and bench.n_trained == 0
    rows = class_with(bench.table, 3)
    first, isomorph = (bench.table.arch(int(r)) for r in rows[:2])
    obs = bench.query(first)
    assert bench.n_trained == 1 and "trained now" in obs.source
    assert 0 < obs.metrics["valid"] <= 100 and math.isfinite(obs.metrics["test"]) and obs.train_seconds > 0
    again = bench.query(isomorph)  # same class: the representative's run, not a new one
    assert bench.n_trained == 1 and "from the table" in again.source
    assert again.metrics == obs.metrics and again.train_seconds == obs.train_seconds
    status = bench.table.status("synthetic")[:, 0]
    assert (status[rows] == RunStatus.OK).all() and (status == RunStatus.OK).sum() == 3

    other_seed = bench.query(first, seed=1)
    assert bench.n_trained == 2 and other_seed.seed == 1 and other_seed.metrics != obs.metrics
    mean = bench.query(isomorph)  # seed None reads the mean of the recorded seeds
    assert bench.n_trained == 2
    assert mean.metrics["valid"] == pytest.approx((obs.metrics["valid"] + other_seed.metrics["valid"]) / 2)

    # the run is the builder's: the class representative under the table's budget and data
    from tabular.builder.worker import load_build_data
    from tabular.training import train_cell

    rep = bench.space.index(bench.space.canonical(first))
    with torch_threads(1):
        direct = train_cell(
            bench.space, bench.space.from_index(rep), load_build_data(bench.spec), bench.spec.budget, 0
        )
    assert obs.metrics["valid"] == pytest.approx(direct.epochs[-1].valid_acc, abs=1e-4)


def test_training_keeps_the_tables_memory_format(fresh: Path) -> None:
    from tabular.builder.worker import load_build_data
    from tabular.training import train_cell

    table = Table.open(fresh)  # as a table built before the format was recorded (contiguous)
    del table.raw.root_attrs["provenance"]["sessions"][-1]["memory_format"]
    table.save(fresh)
    bench = LiveBenchmark(fresh, hardware=False, save_every=0)
    assert bench.memory_format == "contiguous"
    arch = bench.table.arch(int(class_with(bench.table, 1)[0]))
    obs = bench.query(arch)
    assert bench.table.provenance["sessions"][-1]["memory_format"] == "contiguous"
    with torch_threads(1):
        direct = train_cell(
            bench.space, arch, load_build_data(bench.spec), bench.spec.budget, 0, memory_format="contiguous"
        )
    assert obs.metrics["valid"] == pytest.approx(direct.epochs[-1].valid_acc, abs=1e-4)
    with pytest.raises(UnknownNameError, match="memory format 'nchw'"):
        LiveBenchmark(fresh, memory_format="nchw")


def test_results_persist_through_autosave_journal_and_reopen(fresh: Path) -> None:
    bench = LiveBenchmark(fresh, hardware=False, save_every=1)
    arch = bench.table.arch(int(class_with(bench.table, 1)[0]))
    obs = bench.query(arch)
    on_disk = Table.open(fresh)  # saved after one new run, without save()
    row = on_disk.row(bench.space.index(arch))
    assert on_disk.status("synthetic")[row, 0] == RunStatus.OK
    assert on_disk.metric("synthetic", "valid@1")[row] == pytest.approx(obs.metrics["valid"])
    assert on_disk.provenance["sessions"][-1]["runs"] == 1

    reopened = LiveBenchmark(fresh, hardware=False, save_every=0)
    assert reopened.query(arch).metrics == obs.metrics and reopened.n_trained == 0
    seed_two = reopened.query(arch, seed=2)  # trained, journaled, not saved: as after a crash
    assert reopened.n_trained == 1 and len(Journal(journal_path(fresh)).read()) == 1
    recovered = LiveBenchmark(fresh, hardware=False)
    assert recovered.query(arch, seed=2).metrics == seed_two.metrics and recovered.n_trained == 0
    recovered.save()
    assert Journal(journal_path(fresh)).read() == []
    assert 2 in Table.open(fresh).seeds("synthetic")


def test_degenerate_cells_are_chance_and_never_trained(fresh: Path) -> None:
    bench = LiveBenchmark(fresh, hardware=False)
    arch = bench.table.arch(int(np.flatnonzero(bench.table.degenerate)[0]))
    for seed in (None, 0, 3):  # seed 3 is not in the table yet: marked, still not trained
        obs = bench.query(arch, seed=seed)
        assert obs.metrics["valid"] == pytest.approx(10.0) and obs.train_seconds == 0
    assert bench.n_trained == 0
    seeds = bench.table.seeds("synthetic")
    assert bench.table.status("synthetic")[bench.table.row(bench.space.index(arch)), seeds.index(3)] == (
        RunStatus.CHANCE
    )


def test_unknown_fidelity_and_bad_settings_raise_before_training(fresh: Path) -> None:
    bench = LiveBenchmark(fresh, hardware=False)
    arch = bench.table.arch(int(class_with(bench.table, 1)[0]))
    for bad in (0, 2):
        with pytest.raises(FidelityError, match=r"\[1\]"):
            bench.query(arch, fidelity=bad)
    with pytest.raises(SearchSettingsError, match="-1"):
        bench.query(arch, seed=-1)
    assert bench.n_trained == 0
    with pytest.raises(UnknownDatasetError, match="synthetic"):
        LiveBenchmark(fresh, dataset="cifar10")
    with pytest.raises(UnknownMetricError, match="accuracy"):
        LiveBenchmark(fresh, search="accuracy")
    with pytest.raises(SearchSettingsError, match="save_every"):
        LiveBenchmark(fresh, save_every=-1)
    with pytest.raises(SearchSettingsError, match="threads"):
        LiveBenchmark(fresh, threads=0)
    space = bench.space
    with pytest.raises(BuildError, match="no build settings"):
        LiveBenchmark(Table.new(space, space.all_archs()[:4], provenance={}))
    with pytest.raises(BuildError, match="different settings"):
        LiveBenchmark.create(fresh, budget="small")
    table = Table.open(fresh)
    table.raw.root_attrs["build"]["data_fingerprint"] = "0" * 64  # the table says other data
    with pytest.raises(BuildError, match="differ"):
        LiveBenchmark(table, hardware=False).query(arch)
    assert (table.status("synthetic") != RunStatus.OK).all()


def test_fidelities_are_the_budget_epochs_of_one_recorded_run(tmp_path: Path) -> None:
    budget = replace(BUDGET, epochs=2)
    bench = LiveBenchmark.create(tmp_path / "e2.h5", budget=budget, hardware=False)
    assert bench.fidelities == (1, 2) and bench.nested_fidelities
    arch = bench.table.arch(int(class_with(bench.table, 1)[0]))
    early = bench.query(arch, fidelity=1)
    final = bench.query(arch)  # the full budget already ran: epoch 2 is known
    assert bench.n_trained == 1 and final.fidelity == 2
    assert 0 < early.train_seconds < final.train_seconds
    assert "test" not in early.metrics and "test" in final.metrics  # test split after the last epoch
    on_test = LiveBenchmark(bench.table, search="test")
    assert on_test.fidelities == (2,) and not on_test.nested_fidelities


def test_hardware_is_measured_like_the_builder(fresh: Path) -> None:
    bench = LiveBenchmark(fresh)
    assert {"params", "flops", "latency_ms:cpu_b1"} <= set(bench.hardware_names())
    arch = bench.table.arch(int(class_with(bench.table, 1)[0]))
    obs = bench.query(arch)
    assert obs.hardware["params"] > 0 and obs.hardware["latency_ms:cpu_b1"] > 0
    assert LiveBenchmark(fresh, hardware=False).hardware_names() == []


def test_random_search_end_to_end(fresh: Path) -> None:
    bench = LiveBenchmark(fresh, hardware=False, save_every=0)
    spec = SearchSpec("random", budget_seconds=1e6, max_evaluations=3)
    setup = build_setup(bench, spec)
    assert setup.context.feasible is None  # no available_by_index: every cell may be proposed
    assert not hasattr(bench, "metric_by_index") and not hasattr(bench, "hardware_by_index")
    result = run_search(bench, spec, seed=0, setup=setup, catch=False)
    assert result.error is None and len(result.evaluations) == 3
    archs = [bench.space.from_str(e.arch) for e in result.evaluations]
    classes = {bench.space.canonical(a) for a in archs if not bench.space.is_degenerate(a)}
    assert bench.n_trained == len(classes)
    for evaluation, arch in zip(result.evaluations, archs, strict=True):
        obs = bench.query(arch)  # cached: the clock charged what training measured
        assert evaluation.values[0] == pytest.approx(obs.metrics["valid"])
        assert evaluation.cost == pytest.approx(obs.train_seconds)
    best = max(result.evaluations, key=lambda e: e.values[0])
    assert result.evaluations[-1].incumbent == best.arch
    final = bench.query(bench.space.from_str(best.arch)).metrics["test"]
    assert result.evaluations[-1].incumbent_final == pytest.approx(final)
    assert bench.n_trained == len(classes)  # judging the incumbent trained nothing
