"""``nasuite surrogate eval``: sweep, per-class rows on built tables, noise ceiling, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from suite.cli import main
from surrogates.report import evaluate_on_table, evaluation_rows
from tabular.table import Table


def test_eval_on_the_imported_nb201_table(nb201_table_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "surrogate",
            "eval",
            str(nb201_table_path),
            "--model",
            "xgb",
            "--target",
            "test@200",
            "--dataset",
            "cifar10",
            "--train-frac",
            "0.05",
            "--repeats",
            "2",
            "--json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["cells"] == 15_625 - 341 and not report["per_class"]
    point = report["sweep"][0]
    assert point["train_size"] == round(0.05 * report["cells"])
    assert point["mean"]["kendall_tau"] > 0.6 and point["std"]["kendall_tau"] >= 0


def test_extra_zero_cost_features(nb201_table: Table) -> None:
    report = evaluate_on_table(
        nb201_table, "cifar100", "test@200", "xgb", [0.02], repeats=1, extra=["zc:naslib_zen", "hw:params"]
    )
    assert report["extra"] == ["zc:naslib_zen", "hw:params"] and report["sweep"][0]["mean"]["r2"] > 0


def test_built_tables_use_one_row_per_class(tmp_path: Path) -> None:
    from dataclasses import replace

    from tabular.budget import get_budget
    from tabular.builder import BuildOptions, BuildSpec, build_table

    out = tmp_path / "t.h5"
    budget = replace(get_budget("tiny"), train_size=400, valid_size=200, epochs=1)
    build_table(
        BuildSpec(space="nb201", dataset="synthetic", budget=budget, seeds=2, archs=6),
        out,
        BuildOptions(workers=0, progress=False),
    )
    table = Table.open(out)
    rows = evaluation_rows(table, "synthetic", "test@1")
    assert rows.size == 6 and np.unique(table.iso_class[rows]).size == 6
    report = evaluate_on_table(table, "synthetic", "test@1", "xgb", [0.5], repeats=2)
    assert report["per_class"] and report["noise_ceiling"]["classes"] == 6
    assert "fraction_of_ceiling" in report["sweep"][0]


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--model", "forest", "--target", "test@200"], "UnknownNameError"),
        (["--model", "xgb", "--target", "test@999"], "UnknownMetricError"),
        (["--model", "xgb", "--target", "test@200", "--train-frac", "1.5"], "EvaluationSettingsError"),
        (["--model", "xgb", "--target", "test@200", "--extra", "zz:x"], "UnknownMetricError"),
    ],
)
def test_bad_input(
    nb201_table_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    code = main(["surrogate", "eval", str(nb201_table_path), *argv, "--json"])
    assert code == 2 and json.loads(capsys.readouterr().out)["error"]["type"] == error
