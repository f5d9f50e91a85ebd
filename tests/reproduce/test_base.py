"""Checks, verdicts, the registry and the command line of ``nasuite reproduce``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from reproduce import Check, list_entries
from reproduce.base import AGREES, DISAGREES, UNPUBLISHED
from reproduce.errors import PublishedDataError, ReproduceSettingsError, UnknownEntryError
from reproduce.registry import get_entry, register
from reproduce.render import format_rows
from suite.cli import main
from tabular.errors import DuplicateRegistrationError

ENTRIES = {"latency-constrained", "nb201-search", "search-cost", "surrogate-quality", "zero-cost-nb201"}


@pytest.mark.parametrize(
    ("mode", "ours", "verdict"),
    [
        ("match", 10.4, AGREES), ("match", 9.4, DISAGREES), ("match", 10.6, DISAGREES),
        ("at_least", 9.6, AGREES), ("at_least", 50.0, AGREES), ("at_least", 9.4, DISAGREES),
        ("at_most", 10.4, AGREES), ("at_most", -50.0, AGREES), ("at_most", 10.6, DISAGREES),
    ],
)  # fmt: skip
def test_verdict_follows_mode_and_tolerance(mode: str, ours: float, verdict: str) -> None:
    check = Check("x", ours, 10.0, "src", 0.5, mode=mode)
    assert check.verdict == verdict
    assert check.delta == pytest.approx(ours - 10.0)
    assert "0.5" in check.rule


def test_unpublished_and_non_finite_figures() -> None:
    assert Check("x", 1.0).verdict == UNPUBLISHED and Check("x", 1.0).delta is None
    assert Check("x", math.nan, 1.0, "src", 10.0).verdict == DISAGREES  # NaN never agrees


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "roughly"}, {"tolerance": -1.0}, {"paper": 1.0, "source": ""}],
)
def test_bad_checks_are_refused(kwargs: dict) -> None:  # type: ignore[type-arg]
    base = {"quantity": "x", "ours": 1.0, "paper": 1.0, "source": "src"}
    with pytest.raises(ReproduceSettingsError):
        Check(**{**base, **kwargs})


def test_registry_lists_every_entry_and_rejects_duplicates() -> None:
    assert {e.name for e in list_entries()} == ENTRIES
    for entry in list_entries():
        assert entry.paper and entry.title and entry.data
    with pytest.raises(DuplicateRegistrationError):
        register("nb201-search", title="t", paper="p", data=())(lambda context: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(UnknownEntryError, match="nb201-search"):
        get_entry("nb201-serach")


def test_format_rows_aligns_columns() -> None:
    lines = format_rows([{"a": 1.23456, "bb": None}, {"a": math.inf, "bb": "text"}])
    assert lines[0].split() == ["a", "bb"] and lines[1].split() == ["1.235", "—"]
    assert lines[0].index("bb") == lines[1].index("—") == lines[2].index("text")  # columns line up
    assert lines[2].startswith("inf")


def test_cli_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "list", "--json"]) == 0
    assert {e["name"] for e in json.loads(capsys.readouterr().out)["entries"]} == ENTRIES


def test_cli_unknown_entry_and_missing_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "no-such-entry", "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["type"] == "UnknownEntryError" and "zero-cost-nb201" in error["message"]
    assert main(["reproduce", "nb201-search", "--data", str(tmp_path), "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["type"] == PublishedDataError.__name__ and "nb201-nats-tss-testacc" in error["message"]


def test_bad_settings_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "nb201-search", "--runs", "0"]) == 2
    assert "runs must be >= 1" in capsys.readouterr().err
    assert main(["reproduce", "zero-cost-nb201", "--cells", "3"]) == 2
    assert "cells must be >= 10" in capsys.readouterr().err
