"""Zero-cost scores into tables: built and imported-style tables, resume, failures, the CLI."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from suite.cli import main
from surrogates.proxies import PROXIES, Proxy, ProxyConfigError, ProxyWarning
from surrogates.proxies.compute import DATA_FREE_KEY, STATUS_GROUP, RowStatus, compute_proxies
from tabular.budget import get_budget
from tabular.builder import BuildOptions, BuildSpec, build_table
from tabular.builder.journal import BuildLock
from tabular.errors import ArchNotInTableError, BuildError, UnknownNameError
from tabular.hardware import count_params
from tabular.models import build_network
from tabular.models.nb201 import NetworkConfig
from tabular.spaces import NB201Space
from tabular.table import Table

SPACE = NB201Space()
BUDGET = replace(get_budget("tiny"), train_size=400, valid_size=200, epochs=2)
TINY = {"channels": 4, "cells_per_stage": 1, "in_channels": 1, "num_classes": 10, "resolution": 16}
ROWS = [0, 3906, 11166, 15624]  # all-none (degenerate), all-skip, a mixed cell, all-pool


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # the machine is shared; tiny nets need no more


@pytest.fixture(scope="module")
def built_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny built synthetic table (3 trained classes, C=4, N=1, 16x16), built once."""
    out = tmp_path_factory.mktemp("built") / "syn.h5"
    spec = BuildSpec(space="nb201", dataset="synthetic", budget=BUDGET, seeds=1, archs=3)
    build_table(spec, out, BuildOptions(workers=0, progress=False), command="pytest")
    return out


@pytest.fixture
def built(built_master: Path, tmp_path: Path) -> Path:
    path = tmp_path / "syn.h5"
    shutil.copy(built_master, path)
    return path


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """A table without a build budget (as imported tables are), over six cells."""
    strings = [
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
        "|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|nor_conv_3x3~2|",
        "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|avg_pool_3x3~1|skip_connect~2|",
    ]
    choices = np.array([SPACE.from_str(s) for s in strings])
    table = Table.new(SPACE, choices, provenance={"kind": "imported", "source": "test"})
    path = tmp_path / "plain.h5"
    table.save(path)
    return path


@pytest.fixture
def extra_proxies(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Test-only proxies, registered for one test: a call counter, NaN on cell 0, a raiser."""
    calls = {"counting": 0, "nan_on_none": 0, "raising": 0}

    def counting(model, inputs, targets):  # type: ignore[no-untyped-def]
        calls["counting"] += 1
        return float(inputs.shape[0])

    def nan_on_none(model, inputs, targets):  # type: ignore[no-untyped-def]
        calls["nan_on_none"] += 1
        return float("nan") if model.arch == (0,) * 6 else 1.0

    def raising(model, inputs, targets):  # type: ignore[no-untyped-def]
        calls["raising"] += 1
        raise RuntimeError("boom")

    for name, fn in (("counting", counting), ("nan_on_none", nan_on_none), ("raising", raising)):
        monkeypatch.setitem(PROXIES._items, f"test_{name}", Proxy(name=f"test_{name}", fn=fn))
    return calls


# ---- built tables -----------------------------------------------------------------------------
def test_scores_go_into_the_table_for_the_requested_rows(built: Path) -> None:
    with pytest.warns(ProxyWarning, match=r"'naswot' gave no score for 1 of 4 rows.*row 0 \(\|none~0"):
        report = compute_proxies(
            built, ["synflow", "naswot", "params"], batch_size=8, rows=ROWS, progress=False
        )
    assert report.dataset == "synthetic" and report.data == "synthetic"
    assert report.network == TINY and report.batch_size == 8
    table = Table.open(built)  # verifies the content checksum, which covers the status arrays
    assert table.zero_cost_names("synthetic") == ["naswot", "params", "synflow"]
    for name in ("synflow", "naswot", "params"):
        values = table.zero_cost("synthetic", name)
        status = table.raw.arrays[f"{STATUS_GROUP}/synthetic/{name}"]
        others = np.setdiff1d(np.arange(table.n_rows), ROWS)
        assert np.isnan(values[others]).all() and (status[others] == RowStatus.PENDING).all()
        assert (status[ROWS] != RowStatus.PENDING).all()
        source = table.raw.array_attrs[f"zero_cost/synthetic/{name}"]["source"]
        assert all(s in source for s in (name, "batch 8", "seed 0", "C=4 N=1", "16x16"))
        assert report.proxies[["synflow", "naswot", "params"].index(name)].rows_computed == len(ROWS)
    cfg = NetworkConfig(**TINY)
    params = table.zero_cost("synthetic", "params")
    for row in ROWS:
        assert params[row] == count_params(build_network(SPACE, table.arch(row), cfg))
    assert table.degenerate[0] and np.isnan(table.zero_cost("synthetic", "naswot")[0])  # all-none cell
    assert np.isfinite(table.zero_cost("synthetic", "naswot")[ROWS[1:]]).all()
    assert table.raw.arrays[f"{STATUS_GROUP}/synthetic/naswot"][0] == RowStatus.NONFINITE
    runs = table.raw.group_attrs[f"{STATUS_GROUP}/synthetic"]["runs"]
    assert runs[-1]["rows"] == {"synflow": 4, "naswot": 4, "params": 4} and runs[-1]["torch"]


def test_the_same_settings_give_the_same_scores(built: Path, tmp_path: Path) -> None:
    other = tmp_path / "again.h5"
    shutil.copy(built, other)
    compute_proxies(built, ["snip", "zen"], batch_size=8, rows=ROWS[1:], progress=False)
    compute_proxies(other, ["snip", "zen"], batch_size=8, rows=ROWS[1:], progress=False)
    a, b = Table.open(built), Table.open(other)
    for name in ("snip", "zen"):
        assert np.array_equal(a.zero_cost("synthetic", name), b.zero_cost("synthetic", name), equal_nan=True)


def test_a_rerun_resumes_without_recomputing(built: Path, extra_proxies: dict[str, int]) -> None:
    first = compute_proxies(built, ["test_counting", "params"], batch_size=8, rows=ROWS[:2], progress=False)
    assert extra_proxies["counting"] == 2 and first.proxies[0].rows_computed == 2
    second = compute_proxies(built, ["test_counting", "params"], batch_size=8, rows=ROWS, progress=False)
    assert extra_proxies["counting"] == 4  # only the two new rows
    assert [p.rows_computed for p in second.proxies] == [2, 2]
    assert second.proxies[0].rows_done == 4
    third = compute_proxies(built, ["test_counting"], batch_size=8, rows=3, progress=False)
    assert extra_proxies["counting"] == 7 and third.proxies[0].rows_done == 7
    done = Table.open(built).raw.arrays[f"{STATUS_GROUP}/synthetic/test_counting"]
    assert set(np.flatnonzero(done).tolist()) == {*ROWS, 1, 2, 3}  # --rows N takes the first rows still to do


def test_a_nan_score_is_stored_warned_and_not_recomputed(built: Path, extra_proxies: dict[str, int]) -> None:
    with pytest.warns(ProxyWarning, match=r"test_nan_on_none.*1 of 4 rows.*row 0"):
        report = compute_proxies(built, ["test_nan_on_none"], batch_size=8, rows=ROWS, progress=False)
    assert report.proxies[0].nans == 1
    table = Table.open(built)
    values = table.zero_cost("synthetic", "test_nan_on_none")
    assert math.isnan(values[0]) and (values[ROWS[1:]] == 1.0).all()
    assert table.raw.arrays[f"{STATUS_GROUP}/synthetic/test_nan_on_none"][0] == RowStatus.NONFINITE
    compute_proxies(built, ["test_nan_on_none"], batch_size=8, rows=ROWS, progress=False)
    assert extra_proxies["nan_on_none"] == 4  # the stored NaN is a result, not a gap
    with pytest.warns(ProxyWarning):
        compute_proxies(
            built, ["test_nan_on_none"], batch_size=8, rows=ROWS, progress=False, retry_failed=True
        )
    assert extra_proxies["nan_on_none"] == 5


def test_a_raising_proxy_stores_nan_and_the_run_goes_on(built: Path, extra_proxies: dict[str, int]) -> None:
    with pytest.warns(ProxyWarning, match=r"test_raising.*RuntimeError: boom"):
        report = compute_proxies(built, ["test_raising", "params"], batch_size=8, rows=ROWS, progress=False)
    assert report.proxies[0].errors == 4 and report.proxies[1].rows_computed == 4
    table = Table.open(built)
    assert np.isnan(table.zero_cost("synthetic", "test_raising")[ROWS]).all()
    assert (table.raw.arrays[f"{STATUS_GROUP}/synthetic/test_raising"][ROWS] == RowStatus.ERROR).all()


def test_an_interrupted_run_keeps_what_it_finished(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def stop_on_third(model, inputs, targets):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return 1.0

    monkeypatch.setitem(PROXIES._items, "test_stop", Proxy(name="test_stop", fn=stop_on_third))
    with pytest.raises(KeyboardInterrupt):
        compute_proxies(built, ["test_stop"], batch_size=8, rows=ROWS, progress=False, flush_seconds=3600)
    status = Table.open(built).raw.arrays[f"{STATUS_GROUP}/synthetic/test_stop"]
    assert (status[ROWS[:2]] == RowStatus.OK).all() and (status[ROWS[2:]] == RowStatus.PENDING).all()


def test_flushes_save_during_the_run(built: Path) -> None:
    report = compute_proxies(built, ["params"], batch_size=8, rows=ROWS, progress=False, flush_seconds=0)
    assert report.saves == len(ROWS) + 1  # after every cell, and once more with the run's record


def test_other_settings_are_refused_unless_overwriting(built: Path) -> None:
    compute_proxies(built, ["synflow"], batch_size=8, rows=ROWS[:1], progress=False)
    with pytest.raises(ProxyConfigError, match="other settings"):
        compute_proxies(built, ["synflow"], batch_size=8, seed=1, rows=ROWS, progress=False)
    report = compute_proxies(
        built, ["synflow"], batch_size=8, seed=1, rows=ROWS, progress=False, overwrite=True
    )
    assert report.proxies[0].rows_computed == len(ROWS) and "seed 1" in report.proxies[0].source


def test_a_built_table_keeps_its_dataset_and_data_shape(built: Path) -> None:
    with pytest.raises(ProxyConfigError, match="built on 'synthetic'"):
        compute_proxies(built, ["snip"], dataset="cifar10", rows=ROWS, progress=False)
    with pytest.raises(ProxyConfigError, match="10 classes"):
        compute_proxies(built, ["snip"], network={"num_classes": 3}, rows=ROWS, progress=False)
    report = compute_proxies(
        built, ["params"], network={"channels": 8}, batch_size=8, rows=ROWS, progress=False
    )
    assert report.network["channels"] == 8 and report.network["in_channels"] == 1 and report.notes


def test_bad_arguments_are_typed_errors(built: Path) -> None:
    with pytest.raises(UnknownNameError, match="synflow"):
        compute_proxies(built, ["synflw"], progress=False)
    with pytest.raises(ArchNotInTableError):
        compute_proxies(built, ["params"], rows=[20_000], progress=False)
    with pytest.raises(ProxyConfigError, match="exceeds"):
        compute_proxies(built, ["snip"], batch_size=10_000, rows=ROWS, progress=False)
    with BuildLock(built), pytest.raises(BuildError):
        compute_proxies(built, ["params"], rows=ROWS, progress=False)


# ---- tables without a build budget --------------------------------------------------------------
def test_data_free_proxies_with_an_explicit_network(plain: Path) -> None:
    net = {**TINY, "in_channels": 3, "resolution": 32, "num_classes": 10}
    report = compute_proxies(plain, ["synflow", "params", "flops"], network=net, batch_size=4, progress=False)
    assert report.dataset == DATA_FREE_KEY and report.data is None
    table = Table.open(plain)
    assert np.isfinite(table.zero_cost(DATA_FREE_KEY, "params")).all()
    synflow = table.zero_cost(DATA_FREE_KEY, "synflow")
    assert synflow[0] == 0.0 and synflow[2] > synflow[1] > 0  # all-none < all-skip < all-conv
    expected = count_params(build_network(SPACE, table.arch(3), NetworkConfig(**net)))
    assert table.zero_cost(DATA_FREE_KEY, "params")[3] == expected


def test_a_table_without_budget_says_what_it_needs(plain: Path) -> None:
    with pytest.raises(ProxyConfigError, match="no build budget.*--channels"):
        compute_proxies(plain, ["synflow"], progress=False)
    with pytest.raises(ProxyConfigError, match=r"proxy naswot needs data.*--dataset.*synflow"):
        compute_proxies(plain, ["synflow", "naswot"], network=TINY, progress=False)
    with pytest.raises(ProxyConfigError, match="missing"):
        compute_proxies(plain, ["synflow"], network={"channels": 4}, progress=False)


def test_a_table_without_budget_with_a_dataset(plain: Path) -> None:
    with pytest.warns(ProxyWarning, match="naswot"):  # the all-none cell: identical ReLU codes
        report = compute_proxies(
            plain, ["naswot", "synflow"], network=TINY, dataset="synthetic", batch_size=8
        )
    assert report.dataset == "synthetic"
    values = Table.open(plain).zero_cost("synthetic", "naswot")
    assert np.isnan(values[0]) and np.isfinite(values[1:]).all()


def test_scores_from_elsewhere_are_kept_unless_overwriting(plain: Path) -> None:
    table = Table.open(plain)
    table.set_zero_cost(DATA_FREE_KEY, "params", np.arange(6.0), source="published")
    table.save(plain)
    with pytest.raises(ProxyConfigError, match="from elsewhere"):
        compute_proxies(plain, ["params"], network=TINY, progress=False)
    compute_proxies(plain, ["params"], network=TINY, progress=False, overwrite=True)
    assert Table.open(plain).zero_cost(DATA_FREE_KEY, "params")[0] > 1000


# ---- CLI -------------------------------------------------------------------------------------------
def test_cli_json_prints_one_object(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["proxies", "compute", str(built), "--proxies", "params,synflow", "--rows", "2", "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    report = json.loads(out)  # exactly one JSON object
    assert set(report["proxies"]) == {"params", "synflow"}
    for entry in report["proxies"].values():
        assert entry["rows_computed"] == 2 and entry["nans"] == 0 and entry["seconds"] >= 0
        assert entry["cells_per_second"] is None or entry["cells_per_second"] > 0


def test_cli_text_and_network_flags(plain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--channels", "4", "--cells", "1", "--in-channels", "1", "--classes", "10", "--resolution", "16"]
    rc = main(["proxies", "compute", str(plain), "--proxies", "params", "--no-progress", *args])
    out = capsys.readouterr().out
    assert rc == 0 and "params" in out and "6/6 rows done" in out and "C=4 N=1 16x16" in out


def test_cli_bad_proxy_name_exits_2_with_the_list(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["proxies", "compute", str(built), "--proxies", "synflow,nope", "--json"])
    captured = capsys.readouterr()
    assert rc == 2 and "nope" in captured.err and "naswot" in captured.err and "synflow" in captured.err
    assert json.loads(captured.out)["error"]["type"] == "UnknownNameError"


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxies", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["proxies"]
    assert set(listed) == set(PROXIES.names()) and listed["synflow"]["data_free"] is True
