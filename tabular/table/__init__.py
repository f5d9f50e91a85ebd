"""The nasuite table: an HDF5 file of per-architecture metrics, read once into numpy."""

from tabular.table.schema import SCHEMA_VERSION, SEED_MEAN, MetricName, RunStatus, parse_metric
from tabular.table.table import Table

__all__ = ["SCHEMA_VERSION", "SEED_MEAN", "MetricName", "RunStatus", "Table", "parse_metric"]
