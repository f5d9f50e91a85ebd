"""nasuite.reproduce: one entry per published comparison, run by ``nasuite reproduce NAME``.

Each entry is a small spec (paper, data folders, default runs) and a script that runs the
comparison through the suite and returns checks of the paper's figure against ours, each with a
verdict and its tolerance. ``reproduce/README.md`` maps entries to papers, tables and data.
"""

from reproduce.base import Check, EntryResult, Findings
from reproduce.context import ReproduceSettings
from reproduce.registry import get_entry, list_entries, register
from reproduce.runner import run_entry

__all__ = [
    "Check",
    "EntryResult",
    "Findings",
    "ReproduceSettings",
    "get_entry",
    "list_entries",
    "register",
    "run_entry",
]
