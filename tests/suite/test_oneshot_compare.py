"""One-shot strategies x seeds beside multi-trial baselines at the same cost (suite.oneshot.compare)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from suite.benchmarks import LiveBenchmark, TabularBenchmark
from suite.errors import SearchSettingsError, UnknownStrategyError
from suite.oneshot.compare import CompareSettings, OneShotComparison, compare_oneshot, source_kind
from suite.oneshot.result import skip_share
from tabular.errors import UnknownNameError
from tabular.spaces.nb201 import SKIP
from tabular.table import Table
from tests.suite.test_oneshot import BUDGET, QUICK, SPACE

#: the one-shot settings for every test: QUICK's supernet, and SPOS / latency cut to a few seconds
OPTIONS: dict[str, Any] = {
    **QUICK,
    "population": 4,
    "generations": 1,
    "parents": 2,
    "eval_images": 100,
    "eval_batch": 100,
    "latency_repeats": 5,
}


@pytest.fixture(scope="module")
def table_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic NB201 table with 12 trained cells (a partial table, as the default one is)."""
    path = tmp_path_factory.mktemp("oneshot-compare") / "tiny.h5"
    live = LiveBenchmark.create(
        path, space="nb201", dataset="synthetic", budget=BUDGET, hardware=False, save_every=0
    )
    rng = np.random.default_rng(0)
    trained = 0
    while trained < 12:
        arch = SPACE.sample(rng)
        if not SPACE.is_degenerate(arch):
            live.query(arch)
            trained += 1
    live.save()
    return path


def copy_of(path: Path, tmp_path: Path) -> Path:
    """A private copy: live training journals beside the file, so each test gets its own."""
    target = tmp_path / path.name
    shutil.copy(path, target)
    return target


def check_rows(result: OneShotComparison, strategies: tuple[str, ...], seeds: tuple[int, ...]) -> None:
    """Every (strategy, seed) is there, with a valid cell, its skip share and a consistent regret."""
    assert [r.strategy for r in result.rows] == list(strategies) and not result.failures
    assert sorted((r.strategy, r.seed) for r in result.results) == sorted(
        (s, seed) for s in strategies for seed in seeds
    )
    for row in result.rows:
        assert row.seeds == seeds and row.failed == 0
        cells = [SPACE.from_str(c) for c in row.cells]  # each parses as an NB201 cell
        assert [SPACE.to_str(c) for c in cells] == list(row.cells)
        shares = [sum(op == SKIP for op in c) / 6 for c in cells]
        assert row.skip_share_mean == pytest.approx(np.mean(shares))
        finite = [a for a in row.accuracies if math.isfinite(a)]
        if finite:
            assert row.accuracy_mean == pytest.approx(np.mean(finite))
            assert row.regret_mean == pytest.approx(result.optimum - row.accuracy_mean)
        assert row.search_seconds_median == pytest.approx(np.median(row.search_seconds))
        assert row.search_seconds_median > 0 and row.gpu_days_median > 0


def test_skip_share_of_a_known_cell() -> None:
    cell = SPACE.from_str(
        "|skip_connect~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|"
    )
    assert skip_share(cell) == pytest.approx(3 / 6)


def test_a_cell_trained_live_earlier_in_the_comparison_is_not_counted_as_the_tables() -> None:
    in_file = np.array([True, False])
    assert source_kind("table", 0, in_file) == "table"
    assert source_kind("table", 1, in_file) == "live"  # in memory only: an earlier run trained it
    assert source_kind("live (trained now): t.h5", 1, in_file) == "live"
    assert source_kind("missing from the table (partial table; ...)", 1, in_file) == "missing"


@pytest.mark.slow
def test_every_strategy_and_seed_with_baselines_at_the_median_one_shot_cost(
    table_path: Path, tmp_path: Path
) -> None:
    path = copy_of(table_path, tmp_path)
    strategies, seeds = ("darts-v1", "darts-v2", "gdas", "spos", "darts-latency"), (0, 1, 2)
    settings = CompareSettings(
        strategies=strategies, seeds=seeds, baseline_runs=3, options=OPTIONS, device="cpu"
    )
    result = compare_oneshot(path, settings)
    check_rows(result, strategies, seeds)
    table = Table.open(path)
    values = TabularBenchmark(table, "synthetic", "valid").metric_by_index(result.report)
    assert result.report == "test@1" and result.optimum == pytest.approx(np.nanmax(values))
    for r in result.results:  # train_missing off: the table's own figure, or NaN and said so
        if r.accuracy_source == "table":
            assert r.accuracy == pytest.approx(values[r.index])
        else:
            assert math.isnan(r.accuracy) and not math.isfinite(values[r.index])
            assert "missing" in r.accuracy_source
    # the baselines searched the same table for the median one-shot wall seconds (CPU on a CPU table)
    budget = float(np.median([r.search_seconds for r in result.results]))
    assert [(b.strategy, b.at_cost_of) for b in result.baselines] == [
        ("random", "median of all one-shot runs"),
        ("evolution", "median of all one-shot runs"),
    ]
    for b in result.baselines:
        assert b.budget_seconds == pytest.approx(budget) and b.runs == 3
        assert b.simulated_seconds_max <= budget  # a run never exceeds its budget
        assert b.regret_mean == pytest.approx(result.optimum - b.accuracy_mean)
        for cell in b.cells:
            assert math.isfinite(values[SPACE.index(SPACE.from_str(cell))])  # it found a table cell
    assert "second for second" in result.budget_note
    payload = json.loads(json.dumps(result.as_dict(), default=str))
    assert len(payload["runs"]) == 15 and "history" not in payload["runs"][0]


@pytest.mark.slow
def test_missing_cells_are_trained_live_and_then_read_from_the_table(
    table_path: Path, tmp_path: Path
) -> None:
    path = copy_of(table_path, tmp_path)
    strategies, seeds = ("darts-v1", "gdas"), (0, 1)
    options = {**QUICK, "train_missing": True}
    settings = CompareSettings(
        strategies=strategies,
        seeds=seeds,
        baselines=("random",),
        baseline_runs=2,
        budget="per-strategy",
        options=options,
        device="cpu",
    )
    first = compare_oneshot(path, settings)
    check_rows(first, strategies, seeds)
    assert all(math.isfinite(a) for row in first.rows for a in row.accuracies)
    assert {s for row in first.rows for s in row.sources} <= {"table", "live"}
    # per-strategy budgets: one baseline block at each strategy's median seconds
    assert [(b.at_cost_of, b.budget_seconds) for b in first.baselines] == [
        (row.strategy, pytest.approx(row.search_seconds_median)) for row in first.rows
    ]
    # the live runs were journalled beside the file: fold them in, and the same searches now read the table
    with LiveBenchmark(path, hardware=False, save_every=0) as live:
        for r in first.results:
            assert live.query(SPACE.from_str(r.arch)).metrics["test"] == pytest.approx(r.accuracy)
    again = compare_oneshot(path, CompareSettings(**{**settings.__dict__, "baselines": ()}))
    assert [r.arch for r in again.results] == [r.arch for r in first.results]  # same seeds, same cells
    assert all(r.accuracy_source == "table" for r in again.results)
    assert [r.accuracy for r in again.results] == pytest.approx([r.accuracy for r in first.results])
    assert again.baselines == ()


def test_bad_inputs_raise_typed_errors_before_any_training() -> None:
    with pytest.raises(UnknownNameError, match="enas"):
        CompareSettings(strategies=("darts-v1", "enas"))
    with pytest.raises(SearchSettingsError, match="seeds"):
        CompareSettings(seeds=())
    with pytest.raises(SearchSettingsError, match="seeds"):
        CompareSettings(seeds=(0, -1))
    with pytest.raises(UnknownStrategyError, match="annealing"):
        CompareSettings(baselines=("random", "annealing"))
    with pytest.raises(SearchSettingsError, match="temperature"):
        CompareSettings(options={"temperature": 3})
    with pytest.raises(SearchSettingsError, match="epochs"):
        CompareSettings(options={"epochs": 0})
    with pytest.raises(SearchSettingsError, match="budget"):
        CompareSettings(budget="max")
    with pytest.raises(SearchSettingsError, match="baseline_runs"):
        CompareSettings(baseline_runs=0)
    # a key only one chosen strategy knows goes to that one alone
    settings = CompareSettings(strategies=("darts-v1", "spos"), options={"population": 8, "epochs": 1})
    assert settings.options_for("spos") == {"population": 8, "epochs": 1}
    assert settings.options_for("darts-v1") == {"epochs": 1}


def test_cli_compares_and_prints_one_json_object(table_path: Path, tmp_path: Path, capsys: Any) -> None:
    from suite.cli import main

    path = copy_of(table_path, tmp_path)
    argv = ["oneshot", "--benchmark", str(path), "--strategy", "gdas,spos", "--seeds", "0,1", "--epochs", "1"]
    argv += ["--device", "cpu", "--compare", "random", "--baseline-runs", "2"]
    for key in ("images_per_epoch", "batch_size", "population", "generations", "parents", "eval_images"):
        argv += ["--option", f"{key}={OPTIONS[key]}"]
    out = tmp_path / "out"
    assert main([*argv, "--json", "--out", str(out)]) == 0
    payload = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert json.loads((out / "comparison.json").read_text()) == payload
    for name in ("gdas-seed0", "gdas-seed1", "spos-seed0", "spos-seed1"):  # each run's diagnostics
        saved = json.loads((out / f"{name}-result.json").read_text())
        history = json.loads((out / f"{name}-history.json").read_text())
        assert saved["arch"] in {r["arch"] for r in payload["runs"]} and len(history["epochs"]) == 1
    assert (out / "gdas-seed0-alphas.npz").exists() and (out / "gdas-seed0-alphas.png").exists()
    assert [r["strategy"] for r in payload["oneshot"]] == ["gdas", "spos"]
    assert [r["seeds"] for r in payload["oneshot"]] == [[0, 1], [0, 1]]
    seconds = [r["search_seconds"] for r in payload["runs"]]
    assert payload["baselines"][0]["budget_seconds"] == pytest.approx(float(np.median(seconds)))
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "baselines at the same cost" in text and "derived cells" in text and "spos" in text
    bad = ["oneshot", "--benchmark", str(path), "--strategy", "gdas", "--seeds", "0", "--compare", "nope"]
    assert main([*bad, "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "UnknownStrategyError"
    assert main(["oneshot", "--benchmark", str(path), "--strategy", "gdas", "--seeds", "a,b"]) == 2


def test_a_cpu_table_without_flops_compares_second_for_second(table_path: Path) -> None:
    """A table built without hardware metrics still runs `compare` (no FLOPs to normalise by)."""
    from suite.runner import SearchSpec
    from suite.runner.compare import run_comparison
    from suite.runner.parallel import BenchmarkSpec

    bench = BenchmarkSpec(str(table_path), "synthetic")
    result = run_comparison(bench, [SearchSpec("random", budget_seconds=60.0)], [0, 1])
    assert result.conversion.speedup == 1.0 and "no FLOPs" in result.conversion.assumption
    assert len(result.runs) == 2 and all(r.evaluations for r in result.runs)
