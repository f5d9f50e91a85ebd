"""Stop long work (building a table, scoring proxies) on Ctrl-C or ``kill PID``, saving what finished.

The handler both raises :class:`KeyboardInterrupt` (to break out of a blocking wait at once) and
records the request. Python raises a handler's exception wherever the interpreter happens to be,
and one raised inside a finaliser (``__del__`` of a tensor, an HDF5 object, a weak-reference
callback) is printed as "Exception ignored" and lost; long loops therefore also call
:func:`raise_if_stop_requested` after each unit of work, so a lost exception costs at most one unit.
"""

from __future__ import annotations

import signal

_stop_requested = False


def _request_stop(signum: int, frame: object) -> None:
    global _stop_requested
    _stop_requested = True
    raise KeyboardInterrupt


def stop_gracefully_on_signals() -> None:
    """SIGTERM and SIGINT request a stop, which the long commands turn into a saved stop.

    SIGINT is set explicitly too: a command started as a background job of a non-interactive
    shell inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler, so
    Ctrl-C / ``kill -INT`` would do nothing.
    """
    global _stop_requested
    _stop_requested = False
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _request_stop)


def raise_if_stop_requested() -> None:
    """Raise :class:`KeyboardInterrupt` if a stop signal arrived, even one whose exception was lost."""
    if _stop_requested:
        raise KeyboardInterrupt
