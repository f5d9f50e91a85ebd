"""Typed errors shared by every nasuite package.

Every error names the bad value and what was expected, so a user can fix the input
without reading the source. They subclass ``ValueError`` (or ``KeyError``/``OSError``
where that is the natural family) so generic handlers still work.
"""

from __future__ import annotations


class NasuiteError(Exception):
    """Base class of every error nasuite raises on purpose."""


class ArchStringError(NasuiteError, ValueError):
    """An architecture string that does not parse for its space."""


class UnknownOpError(ArchStringError):
    """An operation name that the space does not have."""


class ArchIndexError(NasuiteError, IndexError):
    """An architecture index outside ``0..size-1`` or an arch of the wrong shape."""


class UnknownNameError(NasuiteError, KeyError):
    """A name (space, dataset, metric, proxy, strategy, ...) that is not registered.

    The message lists the known names.
    """

    def __init__(self, kind: str, name: object, known: list[str] | tuple[str, ...]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(str(k) for k in known)
        super().__init__(f"unknown {kind} {name!r}; expected one of: {', '.join(self.known) or '(none)'}")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class UnknownDatasetError(UnknownNameError):
    """A dataset the table does not hold."""

    def __init__(self, name: object, known: list[str] | tuple[str, ...]) -> None:
        super().__init__("dataset", name, known)


class UnknownMetricError(UnknownNameError):
    """A metric the table does not hold for the dataset asked."""

    def __init__(self, name: object, known: list[str] | tuple[str, ...], where: str = "") -> None:
        super().__init__(f"metric{(' for ' + where) if where else ''}", name, known)


class DuplicateRegistrationError(NasuiteError, ValueError):
    """Two components registered under the same name."""


class TableError(NasuiteError, ValueError):
    """A table file that cannot be used."""


class TableCorruptError(TableError):
    """A table file that is truncated, unreadable or whose checksum does not match."""


class SchemaVersionError(TableError):
    """A table written with a schema version this nasuite does not read."""


class UnsafePickleError(NasuiteError, ValueError):
    """A pickle that references a global outside the allowed plain types."""


class ImportDataError(NasuiteError, ValueError):
    """Published data that is missing or does not look as its provenance says."""


class OutputPathError(NasuiteError, OSError):
    """An output path that cannot be written (missing or read-only folder, a directory, ...)."""


class ArchNotInTableError(NasuiteError, KeyError):
    """An architecture (index, id or string) that the table has no row for."""

    def __str__(self) -> str:
        return str(self.args[0])


class DatasetNotFoundError(NasuiteError, FileNotFoundError):
    """A dataset whose files are not where we looked; the message says how to get them."""


class DataConfigError(NasuiteError, ValueError):
    """Dataset settings that cannot work (e.g. a validation split larger than the training set)."""


class BudgetError(NasuiteError, ValueError):
    """A training budget that cannot work (zero epochs, a non-positive batch size, ...)."""


class BuildError(NasuiteError, RuntimeError):
    """A table build that cannot start or go on (locked file, mismatched table, ...)."""


class LatencyTableError(NasuiteError, ValueError):
    """A latency lookup table that cannot be built, read or used for the space asked."""
