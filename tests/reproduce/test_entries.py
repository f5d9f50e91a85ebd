"""Every reproduction runs against the published data in ``../shared`` (reduced runs; full ones
are the documented commands in reproduce/README.md) and prints its table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reproduce.base import AGREES, DISAGREES, UNPUBLISHED
from suite.cli import main


def reproduce_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["reproduce", *argv, "--json", "--workers", "0"]) == 0
    return json.loads(capsys.readouterr().out)  # strict JSON: NaN/inf would fail to parse as null


def by_quantity(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["quantity"]: c for c in result["checks"]}


def test_nb201_search_optima_agree_and_every_protocol_runs(
    nb201_table_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = reproduce_json(capsys, "nb201-search", "--table", str(nb201_table_path), "--runs", "4")
    checks = by_quantity(result)
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        assert checks[f"{dataset} optimum test@200"]["verdict"] == AGREES
    rows = result["details"]["strategies"]
    assert {(r["protocol"], r["strategy"]) for r in rows} >= {("NB201 CIFAR-10", "evolution"),
                                                              ("NATS ImageNet16-120", "bohb")}  # fmt: skip
    assert len(rows) == 16 and all(r["runs"] == 4 for r in rows)
    assert all(0 < r["regret"] < 10 for r in rows)  # real searches: near, never above, the optimum
    assert result["verdicts"][UNPUBLISHED] == 16  # no sourced RS/REA/... figures: none invented


@pytest.mark.slow
def test_zero_cost_reproduces_naswot_and_the_proxy_table(
    nb201_table_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "nb201.h5"  # the entry stores the proxies it computes in the table
    shutil.copy(nb201_table_path, table)
    result = reproduce_json(
        capsys, "zero-cost-nb201", "--table", str(table), "--cells", "40", "--runs", "300"
    )
    checks = by_quantity(result)
    naswot = [c for q, c in checks.items() if q.startswith("NASWOT")]
    assert len(naswot) == 4 and all(c["verdict"] == AGREES for c in naswot)
    agreement = next(c for q, c in checks.items() if q.startswith("synflow: Spearman(ours, NASLib)"))
    assert agreement["ours"] > 0.98  # our synflow ranks cells as the published scores do
    synflow_naslib = [c for q, c in checks.items() if q.startswith("synflow |Spearman|") and "NASLib" in q]
    assert all(c["verdict"] == AGREES for c in synflow_naslib) and len(synflow_naslib) == 3
    assert {c["verdict"] for q, c in checks.items() if q.startswith("fisher")} == {DISAGREES}
    speed = {r["proxy"]: r for r in result["details"]["data-free proxy speed"]}
    assert speed["synflow"]["cells"] == 40 and speed["synflow"]["cells_per_s"] > 0
    rerun = reproduce_json(capsys, "zero-cost-nb201", "--table", str(table), "--cells", "40", "--runs", "10")
    assert {r["cells"] for r in rerun["details"]["data-free proxy speed"]} == {0}  # resumed: nothing redone


@pytest.mark.slow
def test_latency_constrained_respects_every_constraint(
    nb201_table_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = reproduce_json(capsys, "latency-constrained", "--table", str(nb201_table_path), "--runs", "2")
    rows = result["details"]["constrained searches"]
    assert len(rows) == 15 * 2
    assert all(r["latency_ms"] <= r["limit_ms"] + 1e-9 for r in rows)
    assert all(r["mean"] <= r["optimum_within_limit"] + 1e-9 for r in rows)
    assert result["verdicts"][AGREES] >= 20  # HELP's figures mostly agree with the table and our search


@pytest.mark.slow
def test_search_cost_compares_with_the_published_gpu_days(
    nb201_table_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = reproduce_json(capsys, "search-cost", "--table", str(nb201_table_path), "--runs", "5")
    rows = {r["strategy"]: r for r in result["details"]["GPU-days to reach the optimum"]}
    assert set(rows) == {"random", "evolution", "reinforce", "local-search", "bohb"}
    for row in rows.values():
        assert 0 < row["gpu_days_within_1.0"] <= row["gpu_days_within_0.5"]
    build = result["details"]["table build"][0]
    assert build["cells"] == 15_625 and 50 < build["gpu_days_per_seed"] < 5000


@pytest.mark.slow
def test_surrogate_quality_sweeps_every_model(
    nb201_table_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = reproduce_json(
        capsys, "surrogate-quality", "--table", str(nb201_table_path), "--runs", "1", "--cells", "1500"
    )
    sweep = result["details"]["NB201 CIFAR-10 test@200 sweep"]
    assert {r["model"] for r in sweep} == {"xgb", "gin", "mlp", "ensemble"} and len(sweep) == 12
    assert [r["train"] for r in sweep[:3]] == [15, 75, 150]  # 1 / 5 / 10 % of the 1,500-cell sample
    for model in ("xgb", "gin", "mlp", "ensemble"):
        taus = [r["kendall"] for r in sweep if r["model"] == model]
        assert taus[-1] > max(taus[0], 0.5)  # more training cells, better ranking
    nb201_ceiling = result["details"]["noise ceiling (NB201, 200 epochs)"]
    assert {r["dataset"] for r in nb201_ceiling} == {"cifar100", "ImageNet16-120"}
    ceiling = result["details"]["noise ceiling (default table)"]
    assert {r["model"] for r in ceiling} == {"xgb", "gin", "mlp", "ensemble"}


def test_nb201_noise_ceiling_pairs_independent_trials(nb201_table_path: Path, published: Path) -> None:
    from reproduce.context import Context, ReproduceSettings
    from reproduce.entries.surrogate_quality import nb201_noise_ceiling

    context = Context(ReproduceSettings(data=published, table=nb201_table_path), nb201_table_path.parent)
    rows = {r["dataset"]: r for r in nb201_noise_ceiling(context)}
    assert set(rows) == {"cifar100", "ImageNet16-120"}
    for row in rows.values():
        # about 57 % of the 6,125 non-degenerate classes have a second, different trial
        assert 3000 < row["classes"] < 6125
        # two 200-epoch trials rank alike but not identically (identical pairs were dropped)
        assert 0.7 < row["kendall"] < 0.98 and row["mean_abs_diff"] > 0.1


def test_text_output_prints_the_table(nb201_table_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["reproduce", "search-cost", "--table", str(nb201_table_path), "--runs", "2", "--workers", "0"])
        == 0
    )
    out = capsys.readouterr().out
    assert "verdict" in out and "NASNet" in out and "sources:" in out
