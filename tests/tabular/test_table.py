"""The HDF5 table: round trip, queries, checksum, schema version, atomic writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from tabular.errors import (
    ArchNotInTableError,
    ArchStringError,
    OutputPathError,
    SchemaVersionError,
    TableCorruptError,
    TableError,
    UnknownDatasetError,
    UnknownMetricError,
)
from tabular.spaces import NB201Space
from tabular.table import SEED_MEAN, RunStatus, Table

SPACE = NB201Space()


def small_table(n: int = 50) -> Table:
    rng = np.random.default_rng(0)
    choices = SPACE.sample_many(rng, 400)
    _, first = np.unique(SPACE.indices(choices), return_index=True)
    choices = choices[np.sort(first)][:n]
    table = Table.new(SPACE, choices, provenance={"kind": "test"}, ids={"ext": np.arange(n)[::-1] + 1000})
    table.ensure_dataset("toy", split_source={"test": "toy-test"})
    for seed in (1, 2):
        table.set_metric("toy", "test", 3, seed, rng.random(n) * 100, status=RunStatus.OK)
        table.set_metric("toy", "train_seconds", 3, seed, rng.random(n) * 10)
    table.set_metric("toy", "test", 1, 1, rng.random(n) * 50, schedule=3)
    table.set_metric("toy", "test", 3, SEED_MEAN, np.full(n, np.nan))
    table.set_hardware("params", rng.integers(1000, 5000, n), unit="count", source="test")
    table.set_zero_cost("toy", "synflow", rng.random(n), source="test")
    curves = {"test": rng.random((2, 2, 3)).astype(np.float32)}
    table.set_curves("toy", 3, np.array([0, 5]), [1, 2], curves, source="test")
    return table


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Table, Path]:
    table = small_table()
    path = tmp_path / "toy.h5"
    table.save(path)
    return table, path


def test_round_trip_keeps_every_value(saved: tuple[Table, Path]) -> None:
    table, path = saved
    loaded = Table.open(path)
    assert loaded.checksum == table.checksum
    assert loaded.strings == table.strings
    assert loaded.seeds("toy") == [SEED_MEAN, 1, 2] and loaded.epochs("toy") == [1, 3]
    for name in ("test@3", "test@1", "train_seconds@3"):
        np.testing.assert_array_equal(loaded.metric("toy", name), table.metric("toy", name))
    np.testing.assert_array_equal(loaded.hardware("params"), table.hardware("params"))
    np.testing.assert_array_equal(loaded.zero_cost("toy", "synflow"), table.zero_cost("toy", "synflow"))
    seeds, curve = loaded.curve("toy", 3, 5, "test")
    assert seeds == [1, 2] and curve.shape == (2, 3)
    assert loaded.split_source("toy") == {"test": "toy-test"}
    assert (loaded.status("toy")[:, 1:] == RunStatus.OK).all()


def test_seed_mean_falls_back_to_mean_of_runs(saved: tuple[Table, Path]) -> None:
    table, _ = saved
    _, by_seed = table.metric_by_seed("toy", "test@3")
    np.testing.assert_allclose(table.metric("toy", "test@3"), by_seed[:, 1:].astype(np.float64).mean(axis=1))
    np.testing.assert_array_equal(table.metric("toy", "test@3", seed=2), by_seed[:, 2])


def test_published_mean_wins_over_runs() -> None:
    table = small_table()
    table.set_metric("toy", "test", 3, SEED_MEAN, np.full(table.n_rows, 42.0))
    assert (table.metric("toy", "test@3") == 42.0).all()


def test_schedule_keeps_runs_of_different_length_apart() -> None:
    table = small_table()
    with pytest.raises(TableError, match="3-epoch run, not a 12-epoch"):
        table.set_metric("toy", "test", 3, 1, np.zeros(table.n_rows), schedule=12)


def test_lookup_by_index_id_string_and_row(saved: tuple[Table, Path]) -> None:
    table, _ = saved
    rows = np.arange(table.n_rows)
    np.testing.assert_array_equal(table.rows(table.arch_index, by="index"), rows)
    np.testing.assert_array_equal(table.rows(table.ids("ext"), by="ext"), rows)
    np.testing.assert_array_equal(table.rows(table.strings, by="string"), rows)
    assert table.row(table.strings[7]) == 7


def test_missing_arch_and_bad_string(saved: tuple[Table, Path]) -> None:
    table, _ = saved
    absent = next(i for i in range(SPACE.size) if i not in set(table.arch_index.tolist()))
    with pytest.raises(ArchNotInTableError, match=str(absent)):
        table.rows([absent])
    with pytest.raises(ArchStringError):
        table.row("|not_an_op~0|")
    with pytest.raises(ArchNotInTableError, match="row 50"):
        table.rows([50], by="row")


def test_unknown_dataset_and_metric_name_the_value(saved: tuple[Table, Path]) -> None:
    table, _ = saved
    with pytest.raises(UnknownDatasetError, match="'cifar10'.*toy"):
        table.metric("cifar10", "test@3")
    with pytest.raises(UnknownMetricError, match="'test@200'.*test@3"):
        table.metric("toy", "test@200")
    with pytest.raises(UnknownMetricError, match="accuracy"):
        table.metric("toy", "accuracy")
    with pytest.raises(UnknownMetricError, match="latency"):
        table.hardware("latency")
    with pytest.raises(UnknownMetricError, match="synflow"):
        table.zero_cost("toy", "snip")


def test_optimum_lists_ties_by_external_id() -> None:
    table = small_table()
    values = np.arange(table.n_rows, dtype=float)
    values[[3, 9]] = 1000.0
    table.set_metric("toy", "valid", 3, 1, values)
    rows, best = table.optima("toy", "valid@3")
    assert best == 1000.0 and rows == [9, 3]  # ext id of row 9 (1040) < row 3 (1046)


def _flip_one_value(path: Path) -> None:
    with h5py.File(path, "r+") as f:
        data = f["metrics/toy/test"][()]
        data.ravel()[np.flatnonzero(np.isfinite(data.ravel()))[0]] += 1.0
        f["metrics/toy/test"][...] = data


def test_changed_value_fails_the_checksum(saved: tuple[Table, Path]) -> None:
    _, path = saved
    _flip_one_value(path)
    with pytest.raises(TableCorruptError, match="checksum"):
        Table.open(path)


def test_changed_curve_fails_when_read(saved: tuple[Table, Path]) -> None:
    _, path = saved
    with h5py.File(path, "r+") as f:
        f["curves/toy/hp3/test"][0, 0, 0] += 1.0
    table = Table.open(path)  # curves are lazy
    with pytest.raises(TableCorruptError, match="curves/toy/hp3/test"):
        table.curve("toy", 3, 0, "test")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_file_is_a_typed_error(saved: tuple[Table, Path], keep: float) -> None:
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(TableCorruptError, match="toy.h5"):
        Table.open(path)


def test_other_schema_version_is_refused(saved: tuple[Table, Path]) -> None:
    _, path = saved
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = "2"
    with pytest.raises(SchemaVersionError, match="schema version 2.*reads version 1"):
        Table.open(path)


def test_not_a_table(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="no table file"):
        Table.open(tmp_path / "absent.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(TableCorruptError):
        Table.open(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(TableCorruptError, match="schema_version"):
        Table.open(tmp_path / "plain.h5")


def test_failed_write_leaves_old_file_and_no_temp(
    saved: tuple[Table, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    table, path = saved
    before = path.read_bytes()
    table.set_metric("toy", "test", 3, 1, np.zeros(table.n_rows))

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        table.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["toy.h5"]


def test_unwritable_output_is_a_typed_error(tmp_path: Path) -> None:
    table = small_table()
    with pytest.raises(OutputPathError, match="does not exist"):
        table.save(tmp_path / "missing" / "t.h5")
    with pytest.raises(OutputPathError, match="directory"):
        table.save(tmp_path)
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    # root ignores permission bits; /sys is a folder that even root cannot create files in
    folder = readonly if os.geteuid() != 0 else Path("/sys")
    try:
        with pytest.raises(OutputPathError, match="not writable"):
            table.save(folder / "t.h5")
        assert not (folder / "t.h5").exists()
    finally:
        readonly.chmod(0o700)
        shutil.rmtree(readonly, ignore_errors=True)


def test_bootstrap_interval_of_kendall_tau_holds_the_truth_and_narrows_with_more_classes() -> None:
    from scipy import stats

    from tabular.table.stats import bootstrap_kendall_ci

    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    y = x + rng.normal(size=2000)  # correlation 1/sqrt(2): population Kendall tau is exactly 0.5
    small = bootstrap_kendall_ci(x[:100], y[:100], np.random.default_rng(0), 300)
    large = bootstrap_kendall_ci(x, y, np.random.default_rng(0), 300)
    assert small[0] < stats.kendalltau(x[:100], y[:100]).statistic < small[1]
    assert large[0] < 0.5 < large[1]
    assert (large[1] - large[0]) < (small[1] - small[0]) / 3  # ~1/sqrt(20) as wide
