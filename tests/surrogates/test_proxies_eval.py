"""``nasuite proxies eval``: rank correlation of stored proxies with a trained metric."""

from __future__ import annotations

import json

import numpy as np
import pytest

from suite.cli import main
from surrogates.proxies.correlate import proxy_correlations
from tabular.spaces import NB201Space
from tabular.table import RunStatus, Table


@pytest.fixture
def scored_table(tmp_path):  # type: ignore[no-untyped-def]
    """40 cells, two seeds of test@1; 'good' ranks them exactly, 'bad' reversed, 'half' scores half."""
    space = NB201Space()
    reps = np.unique(space.canonical_indices())
    archs = space.from_indices(reps[[not space.is_degenerate(space.from_index(int(i))) for i in reps]][:40])
    table = Table.new(space, archs, provenance={"kind": "built"})
    table.ensure_dataset("d")
    rng = np.random.default_rng(0)
    truth = rng.uniform(50, 90, 40)
    for seed in (0, 1):
        table.set_metric("d", "test", 1, seed, truth + rng.normal(0, 1.0, 40), schedule=1)
        table.set_status("d", seed, RunStatus.OK)
    table.set_zero_cost("d", "good", truth, source="test")
    table.set_zero_cost("d", "bad", -truth, source="test")
    half = truth.copy()
    half[::2] = np.nan
    table.set_zero_cost("d", "half", half, source="test")
    path = tmp_path / "scored.h5"
    table.save(path)
    return path


def test_each_proxy_is_correlated_over_the_cells_it_scored(scored_table) -> None:  # type: ignore[no-untyped-def]
    report = proxy_correlations(Table.open(scored_table), "d", "test@1")
    proxies = report["proxies"]
    assert proxies["good"]["spearman_rho"] > 0.9 and proxies["bad"]["spearman_rho"] < -0.9
    assert proxies["good"]["spearman_rho"] == pytest.approx(-proxies["bad"]["spearman_rho"])
    assert proxies["half"]["cells"] == 20 and proxies["good"]["cells"] == 40
    ceiling = report["noise_ceiling"]
    assert ceiling["cells"] == 40 and 0.9 < ceiling["spearman_rho"] <= 1.0


def test_the_command_prints_json_and_names_an_unknown_target(scored_table, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["proxies", "eval", str(scored_table), "--target", "test@1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["proxies"]) == {"good", "bad", "half"}
    assert main(["proxies", "eval", str(scored_table), "--target", "test@9"]) == 2
    assert "test@1" in capsys.readouterr().err
