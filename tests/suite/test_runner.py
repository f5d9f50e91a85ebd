"""The runner end to end: parallel runs, result files, the CLI, multi-objective and bad input."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from suite.cli import main
from suite.runner import SearchSpec
from suite.runner.parallel import BenchmarkSpec, run_many
from suite.runner.results import write_results
from suite.runner.summary import summarise
from tests.suite.parquet_check import assert_parquet_matches_csv
from tests.test_cli import run_json

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TABLE = REPO / "data" / "nb201-fashion-mnist-small.h5"
NB201_ARGS = ("--dataset", "cifar10", "--search-metric", "test", "--fidelity", "12")
NB201_ARGS += ("--time-dataset", "cifar10-valid", "--report", "test@200")


def _trajectories(results):  # type: ignore[no-untyped-def]
    return {(r.strategy, r.seed): [(e.arch, e.time) for e in r.evaluations] for r in results}


def test_a_process_pool_gives_the_same_runs_as_one_process(nb201_table_path: Path) -> None:
    bench = BenchmarkSpec(str(nb201_table_path), "cifar10", "test", time_dataset="cifar10-valid")
    specs = [
        SearchSpec(s, budget_seconds=4000, fidelity=12, report="test@200") for s in ("random", "evolution")
    ]
    inline = [r for _, rs in run_many([bench], specs, range(4)) for r in rs]
    pooled = [r for _, rs in run_many([bench], specs, range(4), workers=2) for r in rs]
    assert len(pooled) == 8 and not any(r.failed for r in pooled)
    assert _trajectories(inline) == _trajectories(pooled)


def test_result_files_hold_every_evaluation_and_the_protocol(nb201_table_path: Path, tmp_path: Path) -> None:
    bench = BenchmarkSpec(str(nb201_table_path), "cifar10", "test", time_dataset="cifar10-valid")
    spec = SearchSpec("evolution", budget_seconds=6000, fidelity=12, report="test@200")
    runs = [(bench.label, r) for _, rs in run_many([bench], [spec], [0, 1]) for r in rs]
    csv_path, header_path, parquet_path = write_results(tmp_path, runs, {"spec": spec.describe()})
    assert assert_parquet_matches_csv(csv_path, parquet_path) == sum(len(r.evaluations) for _, r in runs)
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == sum(len(r.evaluations) for _, r in runs)
    first = runs[0][1]
    assert rows[0]["arch"] == first.evaluations[0].arch
    assert float(rows[-1]["incumbent_final"]) == pytest.approx(runs[-1][1].final)
    header = json.loads(header_path.read_text())
    assert header["protocol"]["spec"]["strategy"] == "evolution"
    assert {"python", "numpy", "nasuite"} <= set(header["versions"])
    assert [r["seed"] for r in header["runs"]] == [0, 1]
    assert header["runs"][0]["ledger"]["estimated_train_times"] > 0  # NB201 times come from the model
    summary = summarise([r for _, r in runs], optimum=94.3733)[0]
    assert summary.runs == 2 and summary.failed == 0
    assert summary.regret_mean == pytest.approx(94.3733 - summary.final_mean)


def test_cli_strategies_lists_every_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = run_json(capsys, "strategies", "--json")
    assert code == 0
    names = {s["name"] for s in payload["strategies"]}
    assert {"random", "evolution", "reinforce", "bohb", "local-search", "bananas", "zc-evolution"} <= names
    assert {"optuna-tpe"} <= names


def test_cli_compare_writes_results(
    nb201_table_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, payload = run_json(
        capsys, "compare", "--benchmark", str(nb201_table_path), *NB201_ARGS, "--budget", "5000",
        "--runs", "3", "--strategies", "random,evolution", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 0
    assert [s["strategy"] for s in payload["summary"]] == ["random", "evolution"]
    assert payload["protocol"]["optimum"] == pytest.approx(94.3733, abs=1e-3)
    assert all(s["runs"] == 3 and 85 < s["final_mean"] <= 94.3734 for s in payload["summary"])
    assert (tmp_path / "evaluations.csv").is_file() and (tmp_path / "runs.json").is_file()
    rows = assert_parquet_matches_csv(tmp_path / "evaluations.csv", tmp_path / "evaluations.parquet")
    assert rows > 0 and str(tmp_path / "evaluations.parquet") in payload["files"]


def test_default_table_search_with_a_latency_constraint_and_a_pareto_front(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, payload = run_json(
        capsys, "search", "--benchmark", str(DEFAULT_TABLE), "--dataset", "fashion-mnist",
        "--strategy", "optuna:NSGAIISampler", "--budget", "600", "--runs", "2",
        "--constraint", "latency_ms:cpu_b1<=2", "--objective", "latency_ms:cpu_b64", "--json",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, payload
    assert payload["summary"][0]["failed"] == 0
    front = payload["pareto"]["optuna:NSGAIISampler"]
    assert len(front) >= 2
    latency = [p["latency_ms:cpu_b64"] for p in front]
    accuracy = [p["valid"] for p in front]
    assert latency == sorted(latency) and accuracy == sorted(accuracy)  # more latency buys accuracy
    # the extra objective is a list column in Parquet, a space-joined string in the CSV
    assert assert_parquet_matches_csv(tmp_path / "evaluations.csv", tmp_path / "evaluations.parquet")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--strategy", "simulated-annealing"), "unknown strategy 'simulated-annealing'; expected one of"),
        (("--strategy", "random", "--constraint", "energy_mj<=3"), "energy_mj"),
        (("--strategy", "random", "--budget", "0"), "budget must be > 0"),
        (("--strategy", "random", "--fidelity", "50"), "fidelity 50 epochs is not available"),
        (("--strategy", "random", "--runs", "0"), "--runs must be >= 1"),
        (("--strategy", "optuna:NoSuchSampler"), "NoSuchSampler"),
    ],
)
def test_bad_search_input_is_a_typed_error(
    argv: tuple[str, ...], message: str, nb201_table_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["search", "--benchmark", str(nb201_table_path), "--dataset", "cifar10", "--search-metric", "test"]
    if "--budget" not in argv:
        base += ["--budget", "1000"]
    assert main([*base, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    if "simulated-annealing" in argv:
        assert "evolution" in err and "random" in err  # lists the registered ones


def test_partial_tables_only_offer_the_cells_they_hold(tmp_path: Path) -> None:
    from suite.benchmarks import LiveBenchmark, TabularBenchmark
    from suite.runner import build_setup
    from tabular.table import Table
    from tests.suite.test_oneshot import BUDGET, SPACE

    path = tmp_path / "partial.h5"
    live = LiveBenchmark.create(path, space="nb201", dataset="synthetic", budget=BUDGET, hardware=False)
    for index in (0, 4321, 9788):
        live.query(SPACE.from_index(index))
    live.save()
    bench = TabularBenchmark(Table.open(path), "synthetic", "valid")
    setup = build_setup(bench, SearchSpec("random", budget_seconds=100))
    have = np.isfinite(bench.metric_by_index("valid@1"))
    assert 3 <= setup.context.n_feasible == int(have.sum()) < bench.space.size


def test_the_default_table_offers_every_cell() -> None:
    from suite.benchmarks import TabularBenchmark
    from suite.runner import build_setup
    from tabular.table import Table

    bench = TabularBenchmark(Table.open(DEFAULT_TABLE), "fashion-mnist", "valid")
    setup = build_setup(bench, SearchSpec("random", budget_seconds=100))
    assert setup.context.n_feasible == bench.space.size


@pytest.mark.slow
def test_runs_on_a_local_ray_cluster_match_one_process(nb201_table_path: Path) -> None:
    bench = BenchmarkSpec(str(nb201_table_path), "cifar10", "test", time_dataset="cifar10-valid")
    specs = [SearchSpec("evolution", budget_seconds=4000, fidelity=12, report="test@200")]
    inline = [r for _, rs in run_many([bench], specs, range(3)) for r in rs]
    on_ray = [r for _, rs in run_many([bench], specs, range(3), workers=2, ray="local") for r in rs]
    assert _trajectories(inline) == _trajectories(on_ray)


def test_pool_workers_get_one_math_thread_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    from suite.runner.parallel import _one_thread_per_worker

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    _one_thread_per_worker()
    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["MKL_NUM_THREADS"] == "3"
