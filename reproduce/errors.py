"""Typed errors of the reproductions; each names the bad value and what was expected."""

from __future__ import annotations

from tabular.errors import NasuiteError, UnknownNameError


class ReproduceSettingsError(NasuiteError, ValueError):
    """A reproduction setting out of range (runs < 1, a bad tolerance or check mode)."""


class UnknownEntryError(UnknownNameError):
    """A reproduction name that is not registered; the message lists the registered ones."""

    def __init__(self, name: object, known: list[str] | tuple[str, ...]) -> None:
        super().__init__("reproduction", name, known)


class PublishedDataError(NasuiteError, FileNotFoundError):
    """A published data file a reproduction needs is not in the data folder."""
