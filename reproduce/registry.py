"""Reproductions registered by name with a decorator that rejects duplicates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reproduce.base import Findings
from reproduce.context import Context
from reproduce.errors import UnknownEntryError
from tabular.errors import DuplicateRegistrationError

EntryRun = Callable[[Context], Findings]


@dataclass(frozen=True)
class EntrySpec:
    """A published comparison: the paper, the ``../shared`` folders it reads, and its script.

    ``default_runs`` is the paper's number of runs where the entry repeats searches (``--runs``
    overrides it); ``None`` for entries without repeated searches.
    """

    name: str
    title: str
    paper: str
    data: tuple[str, ...]
    run: EntryRun
    default_runs: int | None = None


_ENTRIES: dict[str, EntrySpec] = {}


def register(
    name: str, *, title: str, paper: str, data: tuple[str, ...], default_runs: int | None = None
) -> Callable[[EntryRun], EntryRun]:
    """Register the decorated ``run(context) -> Findings`` as reproduction ``name``."""

    def decorate(run: EntryRun) -> EntryRun:
        if name in _ENTRIES:
            raise DuplicateRegistrationError(f"reproduction {name!r} is already registered")
        _ENTRIES[name] = EntrySpec(name, title, paper, tuple(data), run, default_runs)
        return run

    return decorate


def _load() -> None:
    import reproduce.entries  # noqa: F401  (registers the built-in entries)


def list_entries() -> list[EntrySpec]:
    _load()
    return [_ENTRIES[k] for k in sorted(_ENTRIES)]


def get_entry(name: str) -> EntrySpec:
    _load()
    try:
        return _ENTRIES[name]
    except KeyError:
        raise UnknownEntryError(name, sorted(_ENTRIES)) from None
