"""``nasuite run`` on the shipped default table: the report, its plots and exports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from suite.errors import SearchSettingsError
from suite.report.main_job import DEFAULT_TABLE, MainJobSettings
from tests.test_cli import run_json


def test_the_main_job_writes_report_plots_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, payload = run_json(
        capsys, "run", "--out", str(tmp_path), "--runs", "2", "--workers", "0",
        "--strategies", "random,evolution,local-search", "--json",
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


def test_main_job_settings_are_checked() -> None:
    with pytest.raises(SearchSettingsError, match="runs must be >= 1"):
        MainJobSettings(runs=0)
    with pytest.raises(SearchSettingsError, match="budget must be > 0"):
        MainJobSettings(budget_seconds=-5)


def test_a_missing_table_says_how_to_get_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from suite.cli import main

    assert main(["run", "--table", str(tmp_path / "none.h5"), "--out", str(tmp_path)]) == 2
    assert "pip install -e ." in capsys.readouterr().err


def test_the_default_table_ships_with_the_project() -> None:
    assert DEFAULT_TABLE.is_file()
