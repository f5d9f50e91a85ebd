"""The surrogate-search workflow end to end on a tiny macro sample table (synthetic data)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from suite.benchmarks import LiveBenchmark
from suite.benchmarks.surrogate import SurrogateBenchmark
from suite.errors import ConstraintError, SearchSettingsError
from suite.runner.loop import run_search
from suite.runner.spec import Evaluation, RunResult, SearchSpec
from suite.surrogate_search import SurrogateSearchSettings, run_surrogate_search
from suite.surrogate_search.search import top_finds
from suite.surrogate_search.workflow import _strategy_summary
from tabular.budget import get_budget
from tabular.builder import BuildOptions, BuildSpec, build_table
from tabular.spaces import get_space
from tabular.table import Table

BUDGET = replace(get_budget("tiny"), train_size=300, valid_size=200, epochs=1)


@pytest.fixture(scope="module")
def sample_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 sampled macro networks, two seeds each, trained for one epoch on 300 synthetic images."""
    path = tmp_path_factory.mktemp("macro") / "sample.h5"
    spec = BuildSpec(space="macro", dataset="synthetic", budget=BUDGET, seeds=2, archs=12)
    build_table(spec, path, BuildOptions(workers=0, progress=False))
    return path


def test_the_workflow_fits_searches_and_verifies_by_training(sample_table: Path, tmp_path: Path) -> None:
    before = Table.open(sample_table).checksum
    settings = SurrogateSearchSettings(
        table=str(sample_table),
        out=str(tmp_path / "out"),
        strategies=("random", "evolution"),
        seeds=(0,),
        evaluations=8,
        holdout=0.25,
        verify_top=2,
        model_kwargs={"base": "xgb", "n_members": 3, "bootstrap": True},
        progress=False,
    )
    result = run_surrogate_search(settings)
    assert Table.open(sample_table).checksum == before  # verified runs go to a copy
    saved = json.loads((tmp_path / "out" / "surrogate-search.json").read_text())
    assert saved["table"]["space"] == "macro" and saved["surrogate"]["held_out"] == 3
    assert "## Verified finds" in (tmp_path / "out" / "report.md").read_text()
    assert [s["strategy"] for s in result["strategies"]] == ["random", "evolution"]
    assert len(result["verified"]) == 4
    verified = Table.open(tmp_path / "out" / "verified.h5")
    space = get_space("macro")
    for row in result["verified"]:
        measured = row["measured"]["valid"]
        assert 0 <= measured <= 100
        table_row = verified.row(space.index(space.from_str(row["arch"])))
        assert verified.metric("synthetic", "valid@1", seed=0)[table_row] == pytest.approx(measured)
    # architectures outside the uniform sample were trained on demand and are marked as such
    order = verified.ids("sample_order")
    assert (order >= 0).sum() == 12 and verified.n_rows == 12 + (order < 0).sum()


def test_a_live_benchmark_on_a_sample_table_trains_an_architecture_it_lacks(tmp_path: Path) -> None:
    live = LiveBenchmark.create(tmp_path / "live.h5", space="macro", dataset="synthetic", budget=BUDGET)
    assert live.table.n_rows == 0
    arch = get_space("macro").sample(np.random.default_rng(5))
    obs = live.query(arch, seed=0)
    assert np.isfinite(obs.metrics["valid"]) and live.table.n_rows == 1
    live.save()
    again = Table.open(tmp_path / "live.h5")
    assert again.arch(0) == arch and again.ids("sample_order").tolist() == [-1]


class KernelSum:
    """A hardware model whose 'latency' is the sum of the kernel sizes (checks constraint plumbing)."""

    names = ("latency_ms",)

    def predict(self, archs: np.ndarray) -> dict[str, np.ndarray]:
        kernels = np.asarray(get_space("macro").kernels)[np.asarray(archs)]
        return {"latency_ms": kernels.sum(axis=1).astype(float)}


def test_a_hardware_model_makes_constraints_work_on_a_space_too_large_for_a_mask(sample_table: Path) -> None:
    table = Table.open(sample_table)
    bench = SurrogateBenchmark.fit_from_table(
        table, "synthetic", model="xgb", quantities=("valid", "train_seconds"), hardware=KernelSum()
    )
    spec = SearchSpec("evolution", budget_seconds=1e9, constraints=("latency_ms<=60",), max_evaluations=40)
    run = run_search(bench, spec, seed=0, catch=False)
    assert len(run.evaluations) == 40
    for ev in run.evaluations:  # 16 layers of kernel >= 3 sum to >= 48; the bound admits few
        assert sum(get_space("macro").kernels[v] for v in get_space("macro").from_str(ev.arch)) <= 60
    with pytest.raises(ConstraintError, match="params"):
        run_search(bench, replace(spec, constraints=("params<=5",)), seed=0, catch=False)


def _run(strategy: str, seed: int, found: list[tuple[str, float]]) -> RunResult:
    run = RunResult(strategy=strategy, seed=seed)
    for i, (arch, value) in enumerate(found):
        run.evaluations.append(Evaluation(i, float(i), arch, i, 1, (value,), 1.0, arch, value, value))
    return run


def test_top_finds_are_distinct_best_first_and_keep_the_first_seed() -> None:
    runs = [
        _run("random", 0, [("a", 1.0), ("b", 5.0), ("a", 2.0)]),
        _run("random", 1, [("b", 4.0), ("c", 3.0), ("d", float("nan"))]),
        _run("evolution", 0, [("z", 99.0)]),
    ]
    finds = top_finds(runs, "random", 3)
    assert [(f.arch, f.predicted, f.seed) for f in finds] == [("b", 5.0, 0), ("c", 3.0, 1), ("a", 2.0, 0)]


def test_exploitation_is_a_gap_beyond_the_held_out_residuals() -> None:
    settings = SurrogateSearchSettings(table="t.h5", out="o", search="valid", report="test")
    quality = {"valid@1": {"residual_q95": 2.0}}

    def verified(gap: float) -> list[dict[str, object]]:
        measured = {"valid": 80.0, "test": 79.0}
        return [{"strategy": "random", "predicted": {"valid": 80.0 + gap}, "measured": measured}]

    assert not _strategy_summary("random", [], verified(1.5), quality, settings)["exploited"]
    summary = _strategy_summary("random", [], verified(6.0), quality, settings)
    assert summary["exploited"] and summary["mean_gap"] == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"strategies": ()}, "at least one strategy"),
        ({"holdout": 1.0}, "holdout"),
        ({"evaluations": 0}, "evaluations"),
        ({"constraints": ("latency_ms<=2",)}, "--lut"),
    ],
)
def test_bad_settings_are_refused(change: dict[str, object], match: str) -> None:
    with pytest.raises(SearchSettingsError, match=match):
        SurrogateSearchSettings(table="t.h5", out="o", **change)  # type: ignore[arg-type]


def test_a_latency_lookup_table_constrains_the_search_and_is_checked_against_the_sample(
    sample_table: Path, tmp_path: Path
) -> None:
    from suite.cli import main
    from tabular.latency_lut import LatencyLUT

    lut_path = tmp_path / "lut.json"
    assert main(["lut", "build", "--table", str(sample_table), "--out", str(lut_path), "--repeats", "3"]) == 0
    lut = LatencyLUT.load(lut_path)
    archs = get_space("macro").sample_many(np.random.default_rng(0), 200)
    bound = float(np.quantile(lut.predict_many(archs), 0.3))
    settings = SurrogateSearchSettings(
        table=str(sample_table),
        out=str(tmp_path / "out"),
        strategies=("random",),
        seeds=(0,),
        evaluations=6,
        verify_top=1,
        model="xgb",
        model_kwargs={},
        constraints=(f"latency_ms:cpu_b1<={bound}",),
        lut=str(lut_path),
        progress=False,
    )
    result = run_surrogate_search(settings)
    (find,) = result["verified"]
    assert find["predicted"]["latency_ms:cpu_b1"] <= bound
    timed_like_lut = find["measured"]["latency_ms:cpu_b1@lut"]  # whole network, the LUT's settings
    assert np.isfinite(timed_like_lut) and timed_like_lut > 0
    assert f"/ {timed_like_lut:.3f} |" in (tmp_path / "out" / "report.md").read_text()
    assert result["latency_lut"]["archs"] == 12  # every sampled network has a measured latency
    table = Table.open(sample_table)
    measured = table.hardware("latency_ms:cpu_b1")
    relative = np.abs(lut.predict_many(table.choices) - measured) / measured
    assert result["latency_lut"]["median_relative_error"] == pytest.approx(float(np.median(relative)))
    assert result["latency_lut"]["worst_relative_error"] == pytest.approx(float(relative.max()))
