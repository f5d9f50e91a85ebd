"""``nasuite lut build`` passes its timing settings through to the lookup table it writes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from suite.cli import main
from tabular.budget import get_budget
from tabular.builder import BuildOptions, BuildSpec, build_table
from tabular.latency_lut import LatencyLUT


@pytest.fixture(scope="module")
def sample_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("macro") / "sample.h5"
    budget = replace(get_budget("tiny"), train_size=100, valid_size=100, epochs=1)
    build_table(
        BuildSpec(space="macro", dataset="synthetic", budget=budget, seeds=1, archs=2),
        path,
        BuildOptions(workers=0, progress=False),
    )
    return path


@pytest.mark.parametrize(("statistic", "placement"), [("min", "isolated"), ("median", "in-network")])
def test_build_records_the_statistic_and_placement_asked_for(
    sample_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], statistic: str, placement: str
) -> None:
    out = tmp_path / "lut.json"
    argv = ["lut", "build", "--table", str(sample_table), "--out", str(out), "--repeats", "2"]
    assert main([*argv, "--statistic", statistic, "--placement", placement, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    lut = LatencyLUT.load(out)
    assert (lut.statistic, lut.placement, lut.repeats) == (statistic, placement, 2)
    assert (summary["statistic"], summary["placement"]) == (statistic, placement)
