"""The one-shot strategy contract: keyword-only settings, a seed, and ``search(benchmark, clock)``.

A one-shot strategy (DESIGN.md) trains one weight-sharing supernet on the table's data and
derives a single cell from it; the clock is charged the real wall time of that training and of
the search that follows (:class:`~suite.oneshot.clock.OneShotClock`), and the derived cell is
looked up in the table (:mod:`suite.oneshot.result`). Randomness: the strategy's ``seed`` seeds
torch's RNG (inside ``fork_rng``, so global state is restored), a ``torch.Generator`` for batch
order and sampling, and a numpy ``Generator`` for discrete choices.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from suite.errors import SearchSettingsError
from suite.oneshot.clock import OneShotClock
from tabular.registry import Registry

if TYPE_CHECKING:
    import torch

    from suite.oneshot.diagnostics import History
    from suite.oneshot.result import OneShotResult
    from suite.oneshot.setup import OneShotSetup
    from tabular.data import DataSplits


@dataclass(frozen=True)
class OneShotSettings:
    """Supernet training shared by every one-shot strategy (DARTS's weight optimiser).

    ``images_per_epoch`` caps the training images one epoch visits (a fresh random subset of the
    table's train split each epoch; ``None``: all of them), so a CPU search takes minutes.
    ``report`` is the table quantity the derived cell is scored by, at the table's last epoch;
    ``train_missing`` trains a derived cell the table lacks (LiveBenchmark) instead of NaN.
    """

    epochs: int = 4
    batch_size: int = 64
    images_per_epoch: int | None = 4000
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float = 5.0
    report: str = "test"
    train_missing: bool = False
    threads: int = 1

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value, kind = getattr(self, f.name), str(f.type)
            if value is None and kind.endswith("| None"):
                continue
            bad = isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            if kind.startswith("int") and (bad or not isinstance(value, int) or value < 1):
                raise SearchSettingsError(
                    f"{type(self).__name__}.{f.name} must be an int >= 1, got {value!r}"
                )
            if kind.startswith("float") and (bad or value < 0):
                raise SearchSettingsError(
                    f"{type(self).__name__}.{f.name} must be a finite number >= 0, got {value!r}"
                )
        if not self.w_lr > 0 or self.w_lr_min > self.w_lr:
            raise SearchSettingsError(
                f"need 0 < w_lr_min <= w_lr, got w_lr={self.w_lr}, w_lr_min={self.w_lr_min}"
            )


#: one-shot strategies by name (``get_oneshot``)
ONESHOT: Registry[type[OneShotStrategy]] = Registry("one-shot strategy")


def register_oneshot(name: str) -> Any:
    """Class decorator: register a :class:`OneShotStrategy` under ``name`` (duplicates refused)."""

    def decorate(cls: type[OneShotStrategy]) -> type[OneShotStrategy]:
        ONESHOT.add(name, cls)
        cls.name = name
        return cls

    return decorate


class OneShotStrategy(ABC):
    """Train a supernet, derive one cell; subclasses implement :meth:`_run`."""

    name: ClassVar[str] = "?"
    paper: ClassVar[str] = ""
    Settings: ClassVar[type[OneShotSettings]] = OneShotSettings

    def __init__(
        self,
        *,
        seed: int = 0,
        device: str | None = None,
        settings: OneShotSettings | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SearchSettingsError(f"seed must be an integer >= 0, got {seed!r}")
        base = settings if settings is not None else self.Settings()
        if not isinstance(base, self.Settings):
            raise SearchSettingsError(
                f"{self.name}: settings must be {self.Settings.__name__}, got {type(base).__name__}"
            )
        known = {f.name for f in dataclasses.fields(base)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise SearchSettingsError(
                f"{self.name}: unknown settings {unknown}; expected some of {sorted(known)}"
            )
        self.settings = dataclasses.replace(base, **overrides)
        self.seed = seed
        self.device = device
        self.rng = np.random.default_rng(seed)

    def search(
        self,
        benchmark: Any,
        clock: OneShotClock | None = None,
        *,
        data: DataSplits | None = None,
        data_root: str | None = None,
    ) -> OneShotResult:
        """Search ``benchmark``'s table, charging ``clock``; returns the derived cell and its cost.

        Loading the data is not charged (a multi-trial search does not pay for it either);
        supernet training, the architecture search and deriving are.
        """
        import torch

        from suite.oneshot.result import finish
        from suite.oneshot.setup import prepare
        from tabular.hardware import torch_threads

        setup = prepare(benchmark, self.device, data, data_root)
        clock = clock if clock is not None else OneShotClock()
        clock.device = str(setup.device)
        forked = [setup.device] if setup.device.type == "cuda" else []
        with torch_threads(self.settings.threads), torch.random.fork_rng(devices=forked):
            torch.manual_seed(self.seed)
            arch, history, extra = self._run(setup, clock)
        return finish(self, benchmark, setup, clock, arch, history, extra)

    @abstractmethod
    def _run(
        self, setup: OneShotSetup, clock: OneShotClock
    ) -> tuple[tuple[int, ...], History, dict[str, Any]]:
        """Train and search; return the derived cell, the per-epoch history and extra fields."""

    # ---- helpers shared by the strategies ----------------------------------------------------
    def generator(self) -> torch.Generator:
        import torch

        return torch.Generator().manual_seed(self.seed)

    def weight_optimizer(self, params: Any) -> torch.optim.Optimizer:
        import torch

        s = self.settings
        return torch.optim.SGD(params, lr=s.w_lr, momentum=s.w_momentum, weight_decay=s.w_weight_decay)

    def steps_per_epoch(self, setup: OneShotSetup) -> int:
        n = setup.data.sizes["train"]
        if self.settings.images_per_epoch is not None:
            n = min(n, self.settings.images_per_epoch)
        return max(1, n // self.settings.batch_size)

    def set_lr(self, optimizer: torch.optim.Optimizer, step: int, total: int) -> float:
        """DARTS's cosine schedule from ``w_lr`` to ``w_lr_min``, stepped every iteration."""
        s = self.settings
        lr = s.w_lr_min + 0.5 * (s.w_lr - s.w_lr_min) * (1 + math.cos(math.pi * step / max(total, 1)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr

    def batches(
        self, setup: OneShotSetup, gen: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """One epoch of (train batch, valid batch) pairs; the valid split is cycled in a random order."""
        import torch

        data, b, dev = setup.data, self.settings.batch_size, setup.device
        order = torch.randperm(data.sizes["train"], generator=gen)
        valid = torch.randperm(data.sizes["valid"], generator=gen)
        for step in range(self.steps_per_epoch(setup)):
            idx = order[step * b : (step + 1) * b]
            v = valid[torch.arange(step * b, (step + 1) * b) % len(valid)]
            yield (
                data.x_train[idx].to(dev),
                data.y_train[idx].to(dev),
                data.x_valid[v].to(dev),
                data.y_valid[v].to(dev),
            )


def get_oneshot(name: str) -> type[OneShotStrategy]:
    """The one-shot strategy class ``name``; an unknown name lists the registered ones."""
    load_builtin()
    return ONESHOT.get(name)


def oneshot_names() -> list[str]:
    load_builtin()
    return ONESHOT.names()


def load_builtin() -> None:
    """Import the built-in one-shot strategies (they register themselves)."""
    import suite.oneshot.darts
    import suite.oneshot.gdas
    import suite.oneshot.hardware
    import suite.oneshot.spos  # noqa: F401
