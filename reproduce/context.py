"""What a reproduction runs with: where the published data is, runs, workers, a work folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reproduce.errors import PublishedDataError, ReproduceSettingsError

REPO = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """``$NASUITE_PUBLISHED``, else ``../shared/data/published`` beside the checkout."""
    env = os.environ.get("NASUITE_PUBLISHED")
    return Path(env) if env else REPO.parent / "shared" / "data" / "published"


@dataclass(frozen=True)
class ReproduceSettings:
    """``runs`` overrides an entry's default number of search runs; ``workers`` = local processes;
    ``cells`` limits per-cell computation (e.g. proxies) to a random sample of that many cells;
    ``table`` is an imported NB201 table to use (and to keep computed scores in) instead of a
    fresh import, so a long computation is done once."""

    data: Path
    runs: int | None = None
    workers: int = 0
    seed: int = 0
    cells: int | None = None
    progress: bool = False
    table: Path | None = None

    def __post_init__(self) -> None:
        if self.runs is not None and self.runs < 1:
            raise ReproduceSettingsError(f"runs must be >= 1, got {self.runs}")
        if self.workers < 0:
            raise ReproduceSettingsError(f"workers must be >= 0, got {self.workers}")
        if self.cells is not None and self.cells < 10:
            raise ReproduceSettingsError(f"cells must be >= 10 (a correlation needs them), got {self.cells}")


class Context:
    """Settings plus a work folder; imports the NB201 table there once, on first use."""

    def __init__(self, settings: ReproduceSettings, workdir: Path, default_runs: int | None = None) -> None:
        self.settings = settings
        self.workdir = workdir
        self.runs = settings.runs or default_runs or 1
        self._nb201: Path | None = None

    @property
    def seeds(self) -> list[int]:
        """The run seeds: ``runs`` of them from ``--seed``."""
        return list(range(self.settings.seed, self.settings.seed + self.runs))

    def published(self, relative: str) -> Path:
        """A file or folder of the published data; a clear error when it is missing."""
        path = self.settings.data / relative
        if not path.exists():
            raise PublishedDataError(
                f"{relative} not found under {self.settings.data}; pass --data DIR with the published "
                "files (see reproduce/README.md for where to get them)"
            )
        return path

    def nb201_table(self) -> Path:
        """The NB201 / NATS-Bench table imported from the published data (a few seconds, once)."""
        if self._nb201 is None and self.settings.table is not None:
            if not self.settings.table.is_file():
                raise PublishedDataError(f"--table {str(self.settings.table)!r} is not a file")
            self._nb201 = self.settings.table
        if self._nb201 is None:
            from tabular.importers.nb201 import import_nb201

            self.published("nb201-nats-tss-testacc")
            out = self.workdir / "nb201.h5"
            import_nb201(self.settings.data, out, command="nasuite reproduce (import)")
            self._nb201 = out
        return self._nb201
