"""Shared fixtures: where the published data lives, and the slow-test switch."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = Path(os.environ.get("NASUITE_PUBLISHED", REPO.parent / "shared" / "data" / "published"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: use --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def published() -> Path:
    """The read-only published data folder beside the checkout."""
    if not PUBLISHED.is_dir():
        pytest.fail(f"published data not found at {PUBLISHED}; set NASUITE_PUBLISHED")
    return PUBLISHED


@pytest.fixture(scope="session")
def nb201_table_path(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The NB201 table imported once per test session from the published data."""
    from tabular.importers.nb201 import import_nb201

    out = tmp_path_factory.mktemp("nb201") / "nb201.h5"
    import_nb201(published, out, command="pytest fixture")
    return out


@pytest.fixture(scope="session")
def nb201_table(nb201_table_path: Path):  # type: ignore[no-untyped-def]
    from tabular.table import Table

    return Table.open(nb201_table_path)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """One intra-op torch thread for a test module (and the count restored after it)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
