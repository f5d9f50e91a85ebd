"""The ``nasuite`` console command: JSON contract, errors, and the table subcommands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from suite.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out)  # exactly one JSON object, nothing else on stdout


def test_info_json_reports_optima_and_provenance(
    nb201_table_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, info = run_json(capsys, "table", "info", str(nb201_table_path), "--json")
    assert code == 0
    assert info["rows"] == 15_625 and info["isomorphism_classes"] == 6_466
    best = {d: info["datasets"][d]["optimum"]["test@200"] for d in ("cifar10", "cifar100", "ImageNet16-120")}
    assert {d: (b["value"], b["nb201"]) for d, b in best.items()} == {
        "cifar10": (94.3733, 6111),
        "cifar100": (73.5133, 9930),
        "ImageNet16-120": (47.3111, 857),
    }
    assert best["cifar10"]["ties"][0]["nb201"] == 13714
    assert info["provenance"]["sources"]


def test_info_text(nb201_table_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["table", "info", str(nb201_table_path)]) == 0
    out = capsys.readouterr().out
    assert "6466 isomorphism classes" in out and "94.3733" in out


def test_query_by_string_and_by_nb201_index(
    nb201_table_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    _, by_string = run_json(capsys, "table", "query", str(nb201_table_path), arch, "--json")
    _, by_id = run_json(capsys, "table", "query", str(nb201_table_path), "6111", "--by", "nb201", "--json")
    assert by_string == by_id
    assert by_string["datasets"]["cifar10"]["test@200"]["value"] == pytest.approx(94.3733, abs=1e-4)
    assert by_string["hardware"]["params"] == 1_073_466


def test_query_one_dataset_text(nb201_table_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["table", "query", str(nb201_table_path), "0", "--by", "nb201", "--dataset", "cifar100"]) == 0
    out = capsys.readouterr().out
    assert "cifar100:" in out and "cifar10:" not in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["table", "query", "{table}", "|bogus~0|", "--json"], "ArchStringError"),
        (["table", "query", "{table}", "99999", "--json"], "ArchNotInTableError"),
        (["table", "query", "{table}", "1", "--by", "nasbench101", "--json"], "UnknownNameError"),
        (["table", "query", "{table}", "1", "--dataset", "cifar11", "--json"], "UnknownDatasetError"),
        (["table", "info", "{missing}", "--json"], "TableError"),
    ],
)
def test_bad_input_exits_2_with_a_json_error(
    nb201_table_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    argv = [a.format(table=nb201_table_path, missing=tmp_path / "none.h5") for a in argv]
    code, payload = run_json(capsys, *argv)
    assert code == 2
    assert payload["error"]["type"] == expected
    assert capsys.readouterr().err == ""  # already consumed; the message went to stderr


def test_import_through_the_console_script(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "nb201.h5"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "suite",
            "table",
            "import",
            "nb201",
            "--from",
            str(published),
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(proc.stdout)
    assert info["datasets"]["cifar100"]["optimum"]["test@200"]["nb201"] == 9930
    assert "nasuite table import nb201" in info["provenance"]["command"]


def test_import_failure_leaves_nothing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "suite",
            "table",
            "import",
            "nb201",
            "--from",
            str(tmp_path),
            "--out",
            str(tmp_path / "x.h5"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "nasuite: error:" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from suite.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('torch', 'xgboost', 'optuna', 'ray', 'h5py') if m in sys.modules]; "
        "print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
