"""A stop signal is never lost, even when its KeyboardInterrupt is raised inside a finaliser."""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tabular.interrupt import raise_if_stop_requested, stop_gracefully_on_signals


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    stop_gracefully_on_signals()
    yield
    stop_gracefully_on_signals()  # clears the request this test made
    for s, handler in saved.items():
        signal.signal(s, handler)


class SignalsItselfWhenCollected:
    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(1000))  # bytecode after the kill: the handler runs here, inside the finaliser


def test_a_signal_raises_keyboard_interrupt(handlers: None) -> None:
    raise_if_stop_requested()  # nothing requested yet
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))
    with pytest.raises(KeyboardInterrupt):
        raise_if_stop_requested()


def test_an_interrupt_lost_in_a_finaliser_is_still_seen(
    handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: lost.append(unraisable.exc_type))
    obj = SignalsItselfWhenCollected()
    del obj
    gc.collect()
    assert lost == [KeyboardInterrupt]  # Python printed it as "Exception ignored" and went on
    with pytest.raises(KeyboardInterrupt):
        raise_if_stop_requested()


def test_installing_the_handlers_clears_an_old_request(handlers: None) -> None:
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(1000))
    stop_gracefully_on_signals()
    raise_if_stop_requested()  # a fresh command starts with no stop pending
