"""Long commands (building a table, scoring proxies) stop and save on Ctrl-C and on ``kill PID``."""

from __future__ import annotations

import signal


def _stop_gracefully(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_gracefully_on_signals() -> None:
    """SIGTERM and SIGINT raise KeyboardInterrupt, which the long commands turn into a saved stop.

    SIGINT is set explicitly too: a command started as a background job of a non-interactive
    shell inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler, so
    Ctrl-C / ``kill -INT`` would do nothing.
    """
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _stop_gracefully)
