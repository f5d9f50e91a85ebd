"""Run a registered reproduction in a temporary work folder and time it."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from reproduce.base import EntryResult
from reproduce.context import Context, ReproduceSettings
from reproduce.registry import get_entry


def run_entry(name: str, settings: ReproduceSettings) -> EntryResult:
    """Run reproduction ``name``; imported tables and scratch files live only while it runs."""
    spec = get_entry(name)
    for folder in spec.data:  # a missing data folder fails before any work
        Context(settings, Path(".")).published(folder)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"nasuite-{name}-") as work:
        findings = spec.run(Context(settings, Path(work), spec.default_runs))
    return EntryResult(spec.name, spec.title, spec.paper, findings, time.perf_counter() - started)
