"""``nasuite run`` on the shipped default table: the report, its plots and exports."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from suite.errors import SearchSettingsError
from suite.report.main_job import DEFAULT_TABLE, MainJobSettings
from tabular.spaces.nb201 import SKIP, NB201Space
from tests.suite.parquet_check import assert_parquet_matches_csv
from tests.test_cli import run_json


def test_the_main_job_writes_report_plots_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, payload = run_json(
        capsys, "run", "--out", str(tmp_path), "--runs", "2", "--workers", "0",
        "--strategies", "random,evolution,local-search", "--oneshot-strategies", "gdas",
        "--oneshot-runs", "2", "--json",
    )  # fmt: skip
    assert code == 0
    names = [s["strategy"] for s in payload["summary"]]
    assert names == ["random", "evolution", "local-search"]
    for s in payload["summary"]:
        assert s["runs"] == 2 and s["failed"] == 0
        assert 0 <= s["regret_mean"] <= payload["optimum"]["value"]
        assert s["gpu_days_median"] > 0 and s["times_cheaper"]["NASNet (RL)"] > 1
    assert payload["cost_conversion"]["device"] == "CPU"
    assert payload["build"]["runs"] > 0 and payload["build"]["train_seconds"] > 0
    for name in ("report.md", "anytime.png", "pareto.png", "surrogate.png", "summary.csv", "evaluations.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "anytime.png").read_bytes()[:4] == b"\x89PNG"
    report = (tmp_path / "report.md").read_text()
    assert "x cheaper than NASNet (2000)" in report and "![pareto](pareto.png)" in report
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert [r["strategy"] for r in rows] == names
    assert float(rows[0]["times_cheaper_NASNet (RL)"]) > 1  # a column per baseline, not a dict
    for name in ("summary", "evaluations", "oneshot"):
        assert_parquet_matches_csv(tmp_path / f"{name}.csv", tmp_path / f"{name}.parquet")
    runs = payload["oneshot"]["runs"]
    assert [(r["strategy"], r["seed"]) for r in runs] == [("gdas", 0), ("gdas", 1)]
    _check_oneshot_rows(runs, report, payload["optimum"]["value"])


def _check_oneshot_rows(runs: list[dict[str, Any]], report: str, optimum: float) -> None:
    """Each derived cell is a valid NB201 cell, scored by the table or reported as missing, and costed."""
    from suite.oneshot.run import open_benchmark

    space, bench = NB201Space(), open_benchmark(DEFAULT_TABLE)
    looked_up = bench.metric_by_index("test@2")
    for r in runs:
        arch = space.from_str(r["arch"])  # raises on anything but a valid NB201 cell string
        assert space.to_str(arch) == r["arch"] and r["index"] == space.index(arch)
        assert r["skip_share"] == pytest.approx(np.mean([op == SKIP for op in arch]))
        truth = looked_up[r["index"]]
        if math.isfinite(truth):  # the table's value, and the regret to its optimum
            assert r["accuracy"] == pytest.approx(truth) and r["accuracy_source"] == "table"
            assert r["regret"] == pytest.approx(optimum - truth)
        else:  # a cell the table lacks is reported as such, never estimated
            assert r["accuracy"] is None and r["regret"] is None and "missing" in r["accuracy_source"]
        assert r["search_seconds"] > 0 and r["device"] in {"cpu", "cuda"} and r["epochs_run"] == 2
        assert r["gpu_days"] > 0 and r["times_cheaper"]["NASNet (RL)"] > 1
        row = f"| {r['strategy']} | {r['seed']} | `{r['arch'].replace('|', chr(92) + '|')}` |"
        assert row in report
        if not math.isfinite(truth):
            assert f"{row} not in the table | n/a |" in report
    assert "x cheaper than NASNet (2000) | x AmoebaNet (3150) |" in report


@pytest.mark.slow
def test_the_main_job_runs_every_one_shot_strategy_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from suite.oneshot import oneshot_names

    common = ("--runs", "1", "--workers", "0", "--strategies", "random", "--json")
    code, payload = run_json(capsys, "run", "--out", str(tmp_path / "with"), *common)
    assert code == 0
    runs = payload["oneshot"]["runs"]
    assert payload["oneshot"]["failures"] == [] and payload["oneshot"]["skipped"] is None
    assert [r["strategy"] for r in runs] == oneshot_names() and {r["seed"] for r in runs} == {0}
    assert "one-shot search" in payload["timings"]
    report = (tmp_path / "with" / "report.md").read_text()
    _check_oneshot_rows(runs, report, payload["optimum"]["value"])
    assert_parquet_matches_csv(tmp_path / "with" / "oneshot.csv", tmp_path / "with" / "oneshot.parquet")

    code, payload = run_json(capsys, "run", "--out", str(tmp_path / "without"), *common, "--no-oneshot")
    assert code == 0 and "oneshot" not in payload and "one-shot search" not in payload["timings"]
    assert "one-shot" not in (tmp_path / "without" / "report.md").read_text().lower()
    assert not (tmp_path / "without" / "oneshot.csv").exists()


def test_main_job_settings_are_checked() -> None:
    with pytest.raises(SearchSettingsError, match="runs must be >= 1"):
        MainJobSettings(runs=0)
    with pytest.raises(SearchSettingsError, match="budget must be > 0"):
        MainJobSettings(budget_seconds=-5)
    with pytest.raises(SearchSettingsError, match="oneshot runs must be >= 1"):
        MainJobSettings(oneshot_runs=0)


def test_a_missing_table_says_how_to_get_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from suite.cli import main

    assert main(["run", "--table", str(tmp_path / "none.h5"), "--out", str(tmp_path)]) == 2
    assert "pip install -e ." in capsys.readouterr().err


def test_the_default_table_ships_with_the_project() -> None:
    assert DEFAULT_TABLE.is_file()


def test_an_unknown_one_shot_strategy_fails_before_any_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from suite.cli import main

    assert main(["run", "--out", str(tmp_path), "--oneshot-strategies", "dartz"]) == 2
    assert "unknown one-shot strategy 'dartz'" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


def test_one_shot_searches_on_a_table_without_data_are_skipped_with_the_reason(
    nb201_table_path: Path,
) -> None:
    from suite.benchmarks.tabular import TabularBenchmark
    from suite.report.oneshot_part import run_oneshot_searches
    from tabular.table import Table

    bench = TabularBenchmark(Table.open(nb201_table_path), "cifar10", "test")
    section = run_oneshot_searches(bench, ["gdas"], [0], device="cpu")
    assert section.results == [] and section.failures == []
    assert section.skipped is not None and "records no build settings" in section.skipped
