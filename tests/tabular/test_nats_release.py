"""Reading the official NATS-Bench topology release into plain, normalised records."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tabular.errors import ImportDataError
from tabular.importers.nats_release import (
    META_FILE,
    RELEASE_NAME,
    EvalCurves,
    NatsRecord,
    available_indices,
    find_release_dir,
    iter_records,
    read_meta,
)

DATASETS = {"cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"}
SPLITS = {"x-valid", "x-test", "ori-test"}


@pytest.fixture(scope="module")
def fixture_dir(published: Path) -> Path:
    return published / "nats-tss-fixture"


@pytest.fixture(scope="module")
def release(fixture_dir: Path) -> Path:
    return fixture_dir / RELEASE_NAME


@pytest.fixture(scope="module")
def converted(fixture_dir: Path) -> dict[str, Any]:
    with open(fixture_dir / "nats_tss_3archs.json") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def records(release: Path) -> list[NatsRecord]:
    return list(iter_records(release))


def _copy_release(release: Path, dest: Path, archs: tuple[int, ...] = (0,)) -> Path:
    out = dest / RELEASE_NAME
    out.mkdir()
    shutil.copyfile(release / META_FILE, out / META_FILE)
    for i in archs:
        shutil.copyfile(release / f"{i:06d}.pickle.pbz2", out / f"{i:06d}.pickle.pbz2")
    return out


# ---- meta --------------------------------------------------------------------------------


def test_meta_matches_official_index_list(release: Path, fixture_dir: Path) -> None:
    meta = read_meta(release)
    with open(fixture_dir / "nats_tss_meta_archs.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["nb201_index"]) for r in rows] == list(range(15625))
    assert meta.arch_strs == tuple(r["arch_str"] for r in rows)
    assert meta.total_archs == len(meta.arch_strs) == 15625
    assert meta.evaluated_indexes == frozenset()
    assert meta.arch_strs[0] == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert meta.index_of(meta.arch_strs[284]) == 284
    with pytest.raises(ImportDataError):
        meta.index_of("|none~0|")


def test_meta_strings_parse_in_nb201_space(release: Path) -> None:
    from tabular.spaces.nb201 import NB201Space

    space = NB201Space()
    meta = read_meta(release)
    assert {space.to_str(space.from_str(s)) for s in meta.arch_strs} == set(meta.arch_strs)


def test_parent_directory_is_accepted(release: Path, fixture_dir: Path) -> None:
    assert find_release_dir(fixture_dir) == release
    assert read_meta(fixture_dir).arch_strs == read_meta(release).arch_strs
    assert available_indices(fixture_dir) == [0, 11, 284]


# ---- records against the JSON conversion -------------------------------------------------


def _expected_curve(values: dict[str, float], epochs: int) -> np.ndarray:
    out = np.full(epochs, np.nan)
    for ep, v in values.items():
        out[int(ep)] = v
    return out


def _expected_eval(rec: dict[str, Any], epochs: int) -> dict[str, tuple[np.ndarray, ...]]:
    splits = {k.rsplit("@", 1)[0] for f in ("eval_acc1es", "eval_losses", "eval_times") for k in rec[f]}
    out = {}
    for split in splits:
        curves = []
        for field in ("eval_acc1es", "eval_losses", "eval_times"):
            part = {k.rsplit("@", 1)[1]: v for k, v in rec[field].items() if k.rsplit("@", 1)[0] == split}
            curves.append(_expected_curve(part, epochs))
        out[split] = tuple(curves)
    return out


def test_records_equal_json_conversion(records: list[NatsRecord], converted: dict[str, Any]) -> None:
    by_key = {(r.hp, r.arch_index, r.dataset, r.seed): r for r in records}
    expected_keys = {
        (int(hp), int(arch), key.rsplit("@", 1)[0], int(key.rsplit("@", 1)[1]))
        for hp, archs in converted.items()
        for arch, block in archs.items()
        for key in block["results"]
    }
    assert len(by_key) == len(records) == len(expected_keys) == 51
    assert set(by_key) == expected_keys
    for (hp, arch, dataset, seed), got in by_key.items():
        block = converted[str(hp)][str(arch)]
        want = block["results"][f"{dataset}@{seed}"]
        where = f"hp {hp} arch {arch} {dataset}@{seed}"
        assert got.arch_str == block["arch_str"], where
        assert got.epochs == want["epochs"] == hp, where
        for arr, field in (
            (got.train_acc, "train_acc1es"),
            (got.train_loss, "train_losses"),
            (got.train_time, "train_times"),
        ):
            np.testing.assert_array_equal(arr, _expected_curve(want[field], hp), err_msg=f"{where} {field}")
        assert not np.isnan(got.train_acc).any() and not np.isnan(got.train_time).any(), where
        exp_eval = _expected_eval(want, hp)
        assert set(got.eval) == set(exp_eval) == set(want["eval_names"]), where
        assert list(got.eval) == want["eval_names"], where  # file order kept
        for split, curves in got.eval.items():
            for g, w in zip(curves, exp_eval[split], strict=True):
                np.testing.assert_array_equal(g, w, err_msg=f"{where} {split}")
        assert got.params_m == want["params"], where
        assert got.flop_m == want["flop"], where
        assert got.latency == float(np.mean(want["latency"])), where


def test_provenance_sanity_figures(records: list[NatsRecord]) -> None:
    arch0 = {(r.hp, r.dataset, r.seed): r for r in records if r.arch_index == 0}
    test199 = [arch0[(200, "cifar10", s)].eval["ori-test"].acc[199] for s in (777, 888, 999)]
    assert test199 == pytest.approx([85.62, 86.18, 85.79])
    assert float(np.mean(test199)) == pytest.approx(85.8633, abs=1e-4)
    c10 = arch0[(200, "cifar10", 777)]
    assert (c10.params_m, c10.flop_m) == (0.129306, 15.64737)
    assert c10.latency == pytest.approx(0.01394, abs=1e-5)
    assert c10.train_time[0] == pytest.approx(14.44, abs=0.01)
    assert arch0[(200, "cifar10-valid", 777)].train_time[0] == pytest.approx(7.22, abs=0.01)
    by_arch = {r.arch_index: r for r in records if r.dataset == "cifar10"}
    assert by_arch[11].params_m == 0.802426 and by_arch[11].flop_m == pytest.approx(113.95, abs=0.01)
    assert by_arch[284].params_m == 0.101306 and by_arch[284].flop_m == pytest.approx(11.72, abs=0.01)


def test_records_are_plain_and_frozen(records: list[NatsRecord]) -> None:
    assert {r.dataset for r in records} == DATASETS
    assert {r.hp for r in records} == {12, 200}
    assert {(r.hp, r.seed) for r in records} == {(12, 111), (12, 777), (200, 777), (200, 888), (200, 999)}
    for r in records:
        for name in ("arch_index", "hp", "seed", "epochs"):
            assert type(getattr(r, name)) is int
        for name in ("params_m", "flop_m", "latency"):
            assert type(getattr(r, name)) is float
        assert type(r.dataset) is str and type(r.arch_str) is str
        assert set(r.eval) <= SPLITS
        arrays = [r.train_acc, r.train_loss, r.train_time] + [a for c in r.eval.values() for a in c]
        for arr in arrays:
            assert type(arr) is np.ndarray and arr.dtype == np.float64 and arr.shape == (r.epochs,)
            assert not arr.flags.writeable
        assert all(isinstance(c, EvalCurves) for c in r.eval.values())
    rec = records[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.seed = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        rec.eval["x-valid"] = rec.eval["ori-test"]  # type: ignore[index]


def test_missing_epochs_are_nan(records: list[NatsRecord]) -> None:
    # 200-epoch cifar10-valid keeps ori-test accuracy only at the last epoch
    r = next(r for r in records if (r.hp, r.dataset) == (200, "cifar10-valid"))
    acc = r.eval["ori-test"].acc
    assert np.isnan(acc[:199]).all() and not math.isnan(acc[199])
    assert not np.isnan(r.eval["ori-test"].time).any()


def test_indices_select_archs(release: Path) -> None:
    got = list(iter_records(release, indices=[11]))
    assert {r.arch_index for r in got} == {11} and len(got) == 17


def test_requested_index_without_file(release: Path) -> None:
    with pytest.raises(ImportDataError, match=re.escape("000005.pickle.pbz2")):
        list(iter_records(release, indices=[5]))
    with pytest.raises(ImportDataError, match="outside"):
        list(iter_records(release, indices=[15625]))


def test_progress_bar(release: Path, capsys: pytest.CaptureFixture[str]) -> None:
    list(iter_records(release, indices=[0]))
    assert capsys.readouterr().err == ""  # fewer than 50 files: no bar
    list(iter_records(release, indices=[0], progress=True))
    captured = capsys.readouterr()
    assert RELEASE_NAME in captured.err and captured.out == ""


# ---- damaged or missing releases ---------------------------------------------------------


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ImportDataError) as info:
        read_meta(tmp_path / "nowhere")
    msg = str(info.value)
    assert "nowhere" in msg and META_FILE in msg and f"{RELEASE_NAME}.tar" in msg


def test_missing_meta(tmp_path: Path) -> None:
    with pytest.raises(ImportDataError) as info:
        list(iter_records(tmp_path))
    msg = str(info.value)
    assert str(tmp_path / META_FILE) in msg and str(tmp_path / RELEASE_NAME / META_FILE) in msg
    assert f"{RELEASE_NAME}.tar" in msg and "extract" in msg


def test_unextracted_tar_is_pointed_out(tmp_path: Path) -> None:
    (tmp_path / f"{RELEASE_NAME}.tar").write_bytes(b"")
    with pytest.raises(ImportDataError, match="extract it first"):
        read_meta(tmp_path)


def test_truncated_record_file(release: Path, tmp_path: Path) -> None:
    out = _copy_release(release, tmp_path, archs=(0, 11))
    path = out / "000011.pickle.pbz2"
    path.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(ImportDataError, match=re.escape("000011.pickle.pbz2")):
        list(iter_records(tmp_path))


def test_truncated_meta(release: Path, tmp_path: Path) -> None:
    out = _copy_release(release, tmp_path)
    (out / META_FILE).write_bytes((release / META_FILE).read_bytes()[:1000])
    with pytest.raises(ImportDataError, match=META_FILE):
        read_meta(out)


def test_record_for_the_wrong_arch(release: Path, tmp_path: Path) -> None:
    out = _copy_release(release, tmp_path)
    shutil.copyfile(release / "000011.pickle.pbz2", out / "000012.pickle.pbz2")
    with pytest.raises(ImportDataError, match="meta says"):
        list(iter_records(out, indices=[12]))
