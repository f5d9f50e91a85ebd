"""Scores computed in copies of a table are folded back: finished rows only, same settings only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from suite.cli import main
from surrogates.proxies import ProxyConfigError
from surrogates.proxies.compute import STATUS_GROUP, RowStatus, compute_proxies
from surrogates.proxies.merge import merge_scores
from tabular.spaces import NB201Space
from tabular.table import Table

SPACE = NB201Space()
NETWORK = {"channels": 4, "cells_per_stage": 1, "in_channels": 1, "num_classes": 10, "resolution": 16}
STRINGS = [
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
]


def plain_table(path: Path, strings: list[str] = STRINGS) -> Path:
    choices = np.array([SPACE.from_str(s) for s in strings])
    Table.new(SPACE, choices, provenance={"kind": "imported", "source": "test"}).save(path)
    return path


def score(path: Path, rows: list[int], seed: int = 0) -> None:
    compute_proxies(path, ["params", "synflow"], network=NETWORK, rows=rows, seed=seed, progress=False)


def test_rows_finished_in_copies_are_merged(tmp_path: Path) -> None:
    table = plain_table(tmp_path / "t.h5")
    first, second = tmp_path / "a.h5", tmp_path / "b.h5"
    shutil.copy(table, first)
    shutil.copy(table, second)
    score(table, [0])
    score(first, [1, 2])
    score(second, [2, 3])
    assert merge_scores(first, table).rows == {"data-free/params": 2, "data-free/synflow": 2}
    assert merge_scores(second, table).rows == {"data-free/params": 1, "data-free/synflow": 1}  # row 2 done
    whole = tmp_path / "whole.h5"
    shutil.copy(plain_table(tmp_path / "w.h5"), whole)
    score(whole, [0, 1, 2, 3])
    merged, reference = Table.open(table), Table.open(whole)
    for proxy in ("params", "synflow"):
        np.testing.assert_array_equal(
            merged.zero_cost("data-free", proxy), reference.zero_cost("data-free", proxy)
        )
        status = merged.raw.arrays[f"{STATUS_GROUP}/data-free/{proxy}"]
        np.testing.assert_array_equal(status, reference.raw.arrays[f"{STATUS_GROUP}/data-free/{proxy}"])
        assert (status != RowStatus.PENDING).all()
    assert merge_scores(first, table).rows == {"data-free/params": 0, "data-free/synflow": 0}  # idempotent


def test_other_settings_or_other_cells_are_refused(tmp_path: Path) -> None:
    table = plain_table(tmp_path / "t.h5")
    copy = tmp_path / "c.h5"
    shutil.copy(table, copy)
    score(table, [0])
    score(copy, [1], seed=1)
    before = Table.open(table).raw.arrays[f"{STATUS_GROUP}/data-free/synflow"].copy()
    with pytest.raises(ProxyConfigError, match="other settings"):
        merge_scores(copy, table)
    np.testing.assert_array_equal(Table.open(table).raw.arrays[f"{STATUS_GROUP}/data-free/synflow"], before)
    other = plain_table(tmp_path / "o.h5", STRINGS[:3])
    score(other, [0])
    with pytest.raises(ProxyConfigError, match="same cells"):
        merge_scores(other, table)


def test_cli_merge_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = plain_table(tmp_path / "t.h5")
    copy = tmp_path / "c.h5"
    shutil.copy(table, copy)
    score(copy, [3])
    assert main(["proxies", "merge", str(copy), str(table), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {"data-free/params": 1, "data-free/synflow": 1}
    assert main(["proxies", "merge", str(tmp_path / "missing.h5"), str(table)]) == 2
