"""Write-ahead journal and single-writer lock for the table builder.

Finished runs are appended to ``FILE.h5.journal`` (one JSON line each, fsynced) before the
table is rewritten; the table itself is only ever replaced atomically. After a crash at any
moment the table file is intact and the journal holds every finished run since the last
save, except perhaps a torn last line, which is ignored: at most the runs in flight are lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tabular.errors import BuildError


def journal_path(table_path: str | os.PathLike[str]) -> Path:
    return Path(str(table_path) + ".journal")


def lock_path(table_path: str | os.PathLike[str]) -> Path:
    return Path(str(table_path) + ".lock")


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class Journal:
    """Append-only JSON-lines log of finished runs, each line carrying its own digest."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def append(self, entry: dict[str, Any]) -> None:
        payload = json.dumps(entry, sort_keys=True, allow_nan=True)
        line = json.dumps({"sha": _digest(payload), "entry": payload}) + "\n"
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def read(self) -> list[dict[str, Any]]:
        """Every intact entry; a torn final line (a crash mid-append) is skipped."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        entries = []
        for number, line in enumerate(lines, start=1):
            entry = self._parse(line)
            if entry is None:
                if number == len(lines):
                    break
                raise BuildError(f"journal {self.path} line {number} is corrupt (not a torn last line)")
            entries.append(entry)
        return entries

    @staticmethod
    def _parse(line: str) -> dict[str, Any] | None:
        if not line.endswith("\n"):
            return None
        try:
            outer = json.loads(line)
            if _digest(outer["entry"]) != outer["sha"]:
                return None
            entry: dict[str, Any] = json.loads(outer["entry"])
            return entry
        except (json.JSONDecodeError, KeyError, TypeError):
            return None

    def clear(self) -> None:
        """Empty the journal atomically (after its entries are safely in the table)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("")
        os.replace(tmp, self.path)


class BuildLock:
    """An exclusive ``flock`` on ``FILE.h5.lock``; the kernel drops it if the process dies."""

    def __init__(self, table_path: str | os.PathLike[str]) -> None:
        self.table_path = Path(table_path)
        self.path = lock_path(table_path)
        self._fd: int | None = None

    def acquire(self) -> BuildLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "unknown process"
            os.close(fd)
            raise BuildError(
                f"another builder is writing {str(self.table_path)!r} ({holder}); wait for it or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> BuildLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def stale_temp_files(table_path: str | os.PathLike[str]) -> Iterator[Path]:
    """Temporary files a killed writer may have left beside the table."""
    target = Path(table_path)
    yield from target.parent.glob(f".{target.name}.*.tmp")
