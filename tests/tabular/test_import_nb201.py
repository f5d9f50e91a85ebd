"""Importing the published NB201 / NATS-Bench data: the figures researchers check first."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tabular.errors import ArchStringError, ImportDataError, UnsafePickleError
from tabular.importers.nb201 import import_nb201
from tabular.table import SEED_MEAN, Table

PUBLISHED_OPTIMA = {  # dataset: (test@200, official NB201 index), NB201 paper / BASELINES.md
    "cifar10": (94.37, 6111),
    "cifar100": (73.51, 9930),
    "ImageNet16-120": (47.31, 857),
}


@pytest.mark.parametrize("dataset", sorted(PUBLISHED_OPTIMA))
def test_optimum_matches_the_paper(nb201_table: Table, dataset: str) -> None:
    value, nb201_index = PUBLISHED_OPTIMA[dataset]
    row, best = nb201_table.optimum(dataset, "test@200")
    assert round(best, 2) == value
    assert nb201_table.ids("nb201")[row] == nb201_index


def test_cifar10_valid_optimum_is_nb201_v1_1(nb201_table: Table) -> None:
    row, best = nb201_table.optimum("cifar10-valid", "valid@200")
    assert round(best, 2) == 91.61 and nb201_table.ids("nb201")[row] == 6111


def test_official_index_and_classes(nb201_table: Table, published: Path) -> None:
    meta = (published / "nats-tss-fixture" / "nats_tss_meta_archs.csv").read_text().splitlines()[1:]
    strings = [line.split(",", 1)[1] for line in meta]
    rows = nb201_table.rows(np.arange(15_625), by="nb201")
    assert [nb201_table.strings[r] for r in rows] == strings
    assert np.unique(nb201_table.iso_class).size == 6_466
    assert int(nb201_table.degenerate.sum()) == 341


def test_values_match_the_published_files(nb201_table: Table) -> None:
    row0 = nb201_table.row(0, by="nb201")
    c10 = nb201_table.metric("cifar10", "test@200")
    assert c10[row0] == pytest.approx(85.8633, abs=1e-4)
    assert nb201_table.metric("cifar10", "test@12", seed=111)[row0] == pytest.approx(69.55, abs=1e-4)
    assert nb201_table.hardware("params")[row0] == 129_306
    assert nb201_table.hardware("latency_ms:eyeriss")[row0] == pytest.approx(3.64562)
    assert np.isnan(nb201_table.zero_cost("cifar10", "naswot")).sum() == 341
    # the three full records: per-seed values and the seed mean agree
    seeds, by_seed = nb201_table.metric_by_seed("cifar10", "test@200")
    runs = by_seed[row0, [seeds.index(s) for s in (777, 888, 999)]]
    assert runs.tolist() == pytest.approx([85.62, 86.18, 85.79], abs=1e-4)
    assert by_seed[row0, seeds.index(SEED_MEAN)] == pytest.approx(runs.mean(), abs=1e-4)


def test_train_time_and_flops_for_full_records(nb201_table: Table) -> None:
    row0 = nb201_table.row(0, by="nb201")
    seconds = nb201_table.metric("cifar10", "train_seconds@200", seed=777)[row0]
    assert seconds == pytest.approx(200 * 14.442186, rel=1e-5)
    assert nb201_table.hardware("mflops_nb201")[row0] == pytest.approx(15.64737)
    seeds, curve = nb201_table.curve("cifar10", 200, row0, "test")
    assert seeds == [777, 888, 999] and curve.shape == (3, 200)
    assert curve[0, -1] == pytest.approx(85.62, abs=1e-4)


def test_dataset_names_are_not_renamed(nb201_table: Table) -> None:
    assert nb201_table.datasets == ["ImageNet16-120", "cifar10", "cifar10-valid", "cifar100"]
    assert nb201_table.split_source("cifar100")["test"] == "x-test"
    assert nb201_table.split_source("cifar10")["test"] == "ori-test"


def test_provenance_names_sources_and_versions(nb201_table: Table) -> None:
    prov = nb201_table.provenance
    files = {s["file"] for s in prov["sources"]}
    assert "nb201-nats-tss-testacc/nats_bench.csv" in files
    assert all(len(s["sha256"]) == 64 for s in prov["sources"] if s["sha256"])
    assert any("v1_1" in note for note in prov["notes"])
    assert {"numpy", "h5py", "python", "nasuite"} <= set(prov["software"])


def _copy(published: Path, dest: Path, names: list[str]) -> Path:
    for name in names:
        shutil.copytree(published / name, dest / name)
    return dest


def test_missing_folder_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ImportDataError, match="no such folder"):
        import_nb201(tmp_path / "nope", tmp_path / "out.h5")
    with pytest.raises(ImportDataError, match="NATS-tss-v1_0-3ffb9-simple"):
        import_nb201(tmp_path, tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()


def test_malformed_csv_leaves_no_output(published: Path, tmp_path: Path) -> None:
    src = _copy(published, tmp_path / "src", ["nb201-nats-tss-testacc"])
    csv_path = src / "nb201-nats-tss-testacc" / "nats_bench.csv"
    csv_path.chmod(0o644)
    lines = csv_path.read_text().splitlines()
    assert "|avg_pool_3x3~0|+" in lines[1]
    lines[1] = lines[1].replace("|avg_pool_3x3~0|+", "|conv_9x9~0|+", 1)
    csv_path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.h5"
    with pytest.raises(ArchStringError, match="conv_9x9"):
        import_nb201(src, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_truncated_csv_leaves_no_output(published: Path, tmp_path: Path) -> None:
    src = _copy(published, tmp_path / "src", ["nb201-nats-tss-testacc"])
    csv_path = src / "nb201-nats-tss-testacc" / "nats_bench.csv"
    csv_path.chmod(0o644)
    csv_path.write_text("\n".join(csv_path.read_text().splitlines()[:100]) + "\n")
    with pytest.raises(ImportDataError, match="100|99 rows"):
        import_nb201(src, tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()


def test_release_with_a_malicious_pickle_is_refused(published: Path, tmp_path: Path) -> None:
    import bz2
    import pickle

    src = _copy(published, tmp_path / "src", ["nb201-nats-tss-testacc", "nats-tss-fixture"])
    release = src / "nats-tss-fixture" / "NATS-tss-v1_0-3ffb9-simple"
    release.chmod(0o755)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return (os.system, (f"touch {marker}",))

    bad = release / "000011.pickle.pbz2"
    bad.chmod(0o644)
    bad.write_bytes(bz2.compress(pickle.dumps(Evil())))
    with pytest.raises(UnsafePickleError, match="system"):
        import_nb201(src, tmp_path / "out.h5")
    assert not marker.exists()
    assert not (tmp_path / "out.h5").exists()


def test_release_only_import(published: Path, tmp_path: Path) -> None:
    """A user's official release folder alone is enough (here the 3-record fixture)."""
    release = published / "nats-tss-fixture" / "NATS-tss-v1_0-3ffb9-simple"
    table = import_nb201(release, tmp_path / "release.h5")
    row = table.row(284, by="nb201")
    assert table.metric("cifar10-valid", "valid@12", seed=777)[row] > 0
    assert np.isfinite(table.metric("cifar10", "test@200")).sum() == 3
    assert Table.open(tmp_path / "release.h5").checksum == table.checksum
