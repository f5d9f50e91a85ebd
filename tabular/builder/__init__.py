"""The resumable, crash-safe table builder (local processes by default, Ray for a cluster)."""

from tabular.builder.build import BuildOptions, BuildReport, build_table
from tabular.builder.plan import BuildSpec, Job

__all__ = ["BuildOptions", "BuildReport", "BuildSpec", "Job", "build_table"]
