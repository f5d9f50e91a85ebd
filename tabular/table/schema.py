"""Schema v1 of the nasuite table file: names, layout and metric-name parsing.

The full description, for people and other tools, is in ``docs/table-schema.md``.

Layout of the HDF5 file::

    /                      attrs: schema_version, space, space_hash, space_description (JSON),
                                  provenance (JSON), created_utc, checksum ("sha256:<hex>")
    /archs/string          fixed-width bytes, one per row (the space's string form)
    /archs/choices         int8 (n_rows, n_decisions)
    /archs/index           int64, our index in the space (-1 if the space is not enumerable)
    /archs/iso_class       int64, our index of the isomorphism-class representative
    /archs/degenerate      bool, output does not depend on input
    /archs/id:<name>       int64, an external id such as ``id:nb201`` (-1 where unknown)
    /metrics/<dataset>/<quantity>   float32 (n_rows, n_seeds, n_epochs)
                           group attrs: seeds, epochs, schedule (JSON lists), split_source,
                           sources (JSON)
    /metrics/<dataset>/status       int8 (n_rows, n_seeds), see RunStatus
    /hardware/<name>       float64 (n_rows), attrs: unit, description, source
    /zero_cost/<dataset>/<proxy>    float64 (n_rows), attrs: source
    /curves/<dataset>/hp<E>/...     full per-epoch records of some rows (loaded lazily)

Every dataset carries an attribute ``sha256`` of its bytes; the root checksum covers those
digests and all attributes, so a changed byte anywhere is found on open (eager groups) or
on first read (curves).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from tabular.errors import UnknownMetricError

SCHEMA_VERSION = 1

#: seed value that marks a published mean over seeds whose individual runs are not given
SEED_MEAN = -1

#: accuracy quantities are in percent; losses are cross-entropy; seconds are cumulative
#: training seconds from the start of the run to the end of the epoch.
QUANTITIES: dict[str, str] = {
    "train": "training accuracy (%) over the epoch",
    "valid": "validation accuracy (%) after the epoch",
    "test": "test accuracy (%) after the epoch",
    "train_loss": "training loss (cross-entropy) over the epoch",
    "valid_loss": "validation loss after the epoch",
    "test_loss": "test loss after the epoch",
    "train_seconds": "cumulative training seconds from the start of the run to the end of the epoch",
}

LAZY_GROUPS = ("curves",)

_METRIC_RE = re.compile(r"^(?P<quantity>[a-z][a-z0-9_]*)@(?P<epoch>\d+)$")


class RunStatus(IntEnum):
    """What a (row, seed) cell of a dataset holds."""

    MISSING = 0  #: nothing recorded
    OK = 1  #: trained (or imported) and finite
    FAILED = 2  #: training diverged or raised; metrics are NaN, the reason is in the journal
    CHANCE = 3  #: degenerate cell, not trained: accuracy is chance by construction
    IMPORTED = 4  #: copied from published data


@dataclass(frozen=True)
class MetricName:
    """A parsed metric name such as ``test@200`` (quantity ``test`` after epoch 200)."""

    quantity: str
    epoch: int

    def __str__(self) -> str:
        return f"{self.quantity}@{self.epoch}"


def parse_metric(name: str) -> MetricName:
    """Parse ``<quantity>@<epoch>``; epochs count from 1 (``@200`` = after the 200th epoch)."""
    match = _METRIC_RE.match(name) if isinstance(name, str) else None
    if match is None or int(match["epoch"]) < 1:
        raise UnknownMetricError(
            name, [f"{q}@<epoch>" for q in QUANTITIES], where="(expected '<quantity>@<epoch>')"
        )
    return MetricName(match["quantity"], int(match["epoch"]))
