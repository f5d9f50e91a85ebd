"""Scores computed in copies of a table are folded back (finished rows only, same settings only), and a
stopped computation keeps what it finished."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
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


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_saves_the_scored_rows(tmp_path: Path, sig: int) -> None:
    """`kill PID` (or Ctrl-C) stops scoring and keeps every finished row; a rerun resumes."""
    rng = np.random.default_rng(0)
    # many rows, so a slow, loaded machine still signals long before the last one: only the
    # rows scored before the signal cost time
    indices = rng.choice(SPACE.size, size=4000, replace=False)
    strings = [SPACE.to_str(SPACE.from_index(int(i))) for i in indices]
    table = plain_table(tmp_path / "t.h5", strings)
    flags = ["--channels", "4", "--cells", "1", "--in-channels", "1", "--classes", "10", "--resolution", "16"]
    args = [sys.executable, "-m", "suite.cli", "proxies", "compute", str(table), "--proxies", "synflow",
            "--no-progress", "--flush-seconds", "0", *flags]  # fmt: skip
    # start with SIGINT ignored, as a background job of a non-interactive shell is
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # fmt: skip
    first = table.stat().st_mtime_ns
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and table.stat().st_mtime_ns == first:
        time.sleep(0.05)  # wait for the first save
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "rerun the command to resume" in err
    status = Table.open(table).raw.arrays[f"{STATUS_GROUP}/data-free/synflow"]
    assert 1 <= int((status != RowStatus.PENDING).sum()) < len(strings)
