"""Paired comparison of two builds' seed-to-seed agreement on real (tiny, synthetic) tables."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from suite.cli import main
from tabular.budget import get_budget
from tabular.builder import BuildOptions, BuildSpec, build_table
from tabular.errors import TableError
from tabular.table import Table
from tabular.table.compare import compare_seed_agreement
from tabular.table.stats import class_rows

BUDGET = replace(get_budget("tiny"), train_size=300, valid_size=100, epochs=1)
INLINE = BuildOptions(workers=0, progress=False)


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A baseline with two seeds on 6 classes, and a candidate (more images) on the first 4."""
    folder = tmp_path_factory.mktemp("compare")
    base, cand = folder / "base.h5", folder / "cand.h5"
    build_table(BuildSpec("nb201", "synthetic", BUDGET, seeds=2, archs=6), base, INLINE)
    more_images = replace(BUDGET, train_size=600)
    build_table(BuildSpec("nb201", "synthetic", more_images, seeds=2, archs=4), cand, INLINE)
    return base, cand


def test_a_table_against_itself_gains_nothing(tables: tuple[Path, Path]) -> None:
    table = Table.open(tables[0])
    result = compare_seed_agreement(table, table, "synthetic", "test@1", np.random.default_rng(0))
    assert result["classes"] == 6
    assert result["tau_difference"] == 0 and result["tau_difference_ci95"] == [0.0, 0.0]
    assert result["baseline"] == result["candidate"]


def test_compares_on_the_classes_both_hold(tables: tuple[Path, Path]) -> None:
    base, cand = (Table.open(p) for p in tables)
    result = compare_seed_agreement(base, cand, "synthetic", "test@1", np.random.default_rng(0), resamples=50)
    assert result["classes"] == 4  # the candidate holds only the first four classes
    shared = class_rows(cand, "synthetic", (0, 1))
    for role, table in (("baseline", base), ("candidate", cand)):
        a, b = (table.metric("synthetic", "test@1", seed=s, rows=shared) for s in (0, 1))
        assert result[role]["kendall_tau"] == pytest.approx(stats.kendalltau(a, b).statistic)
        assert result[role]["seed_noise_sd"] == pytest.approx(np.std(a - b) / np.sqrt(2))
    assert result["candidate"]["budget"]["train_size"] == 600
    expected = result["candidate"]["kendall_tau"] - result["baseline"]["kendall_tau"]
    assert result["tau_difference"] == pytest.approx(expected)
    low, high = result["tau_difference_ci95"]
    assert low <= high


def test_refuses_seeds_a_table_lacks_and_a_bad_resample_count(tables: tuple[Path, Path]) -> None:
    table = Table.open(tables[0])
    rng = np.random.default_rng(0)
    with pytest.raises(TableError, match=r"not \[2\]"):
        compare_seed_agreement(table, table, "synthetic", "test@1", rng, seeds=(0, 2))
    with pytest.raises(TableError, match="resamples must be a positive number, got 0"):
        compare_seed_agreement(table, table, "synthetic", "test@1", rng, resamples=0)


def test_refuses_tables_of_different_spaces(tables: tuple[Path, Path]) -> None:
    macro = Path(__file__).parents[2] / "data" / "macro-fashion-mnist-small.h5"
    with pytest.raises(TableError, match="different spaces"):
        compare_seed_agreement(
            Table.open(tables[0]), Table.open(macro), "synthetic", "test@1", np.random.default_rng(0)
        )


def test_cli_picks_the_shared_dataset_and_final_test_metric(
    tables: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = map(str, tables)
    assert main(["table", "compare", base, cand, "--json", "--resamples", "20"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["dataset"], result["metric"], result["classes"]) == ("synthetic", "test@1", 4)
    assert main(["table", "compare", base, cand, "--resamples", "20"]) == 0
    text = capsys.readouterr().out
    assert "on 4 shared classes" in text and "Kendall difference" in text and cand in text
    assert result["candidate_metric"] == "test@1"
    for bad in ("0", "0,1,x", "--1,0"):
        assert main(["table", "compare", base, cand, f"--seeds={bad}"]) != 0
        assert f"--seeds {bad!r}: expected two seeds" in capsys.readouterr().err


def test_cli_reads_each_table_at_its_own_last_epoch(
    tables: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A budget with other epochs (40k images for 1 epoch against 20k for 2) is compared as built."""
    two_epochs = tmp_path / "two.h5"
    spec = BuildSpec("nb201", "synthetic", replace(BUDGET, epochs=2), seeds=2, archs=4)
    build_table(spec, two_epochs, INLINE)
    base, cand = str(tables[0]), str(two_epochs)
    assert main(["table", "compare", base, cand, "--json", "--resamples", "20"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["metric"], result["candidate_metric"], result["classes"]) == ("test@1", "test@2", 4)
    rows = class_rows(Table.open(cand), "synthetic", (0, 1))
    a, b = (Table.open(cand).metric("synthetic", "test@2", seed=s, rows=rows) for s in (0, 1))
    assert result["candidate"]["kendall_tau"] == pytest.approx(stats.kendalltau(a, b).statistic)
    assert main(["table", "compare", base, cand, "--resamples", "20"]) == 0
    assert "synthetic test@1 (candidate test@2)" in capsys.readouterr().out
    assert main(["table", "compare", base, cand, "--json", "--metric", "valid@1", "--resamples", "20"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["metric"], result["candidate_metric"]) == ("valid@1", "valid@1")
