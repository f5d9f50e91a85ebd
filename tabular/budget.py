"""Fixed training budgets: a frozen ``TrainBudget`` and named presets (no torch here).

The NB201 protocol (Dong & Yang, ICLR 2020) trains every cell with SGD, Nesterov momentum 0.9,
learning rate 0.1 annealed by a cosine schedule, weight decay 5e-4, batch 256, 200 epochs, on
a C=16, N=5 network. Smaller presets keep that recipe and shrink the network, the data, the
resolution and the epochs, so that a table can be built on a laptop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from tabular.errors import BudgetError, UnknownNameError


@dataclass(frozen=True)
class TrainBudget:
    """Everything that fixes how one cell is trained and evaluated."""

    name: str
    epochs: int
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    channels: int = 16
    cells_per_stage: int = 5
    resolution: int = 32
    train_size: int | None = None  #: None = every training image left after the valid split
    valid_size: int = 5000
    augment: bool = False  #: random crop (pad 2 px per 16 px) and horizontal flip, on tensors
    test_every_epoch: bool = False  #: otherwise the test set is evaluated after the last epoch only
    eval_batch_size: int = 1000

    def __post_init__(self) -> None:
        positive = (
            "epochs",
            "batch_size",
            "channels",
            "cells_per_stage",
            "resolution",
            "valid_size",
            "eval_batch_size",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BudgetError(f"TrainBudget {self.name!r}: {name} must be an int >= 1, got {value!r}")
        if self.train_size is not None and self.train_size < 1:
            raise BudgetError(
                f"TrainBudget {self.name!r}: train_size must be >= 1 or None, got {self.train_size}"
            )
        if not self.lr > 0 or self.weight_decay < 0 or not 0 <= self.momentum < 1:
            raise BudgetError(
                f"TrainBudget {self.name!r}: need lr > 0, weight_decay >= 0 and 0 <= momentum < 1; got "
                f"lr={self.lr}, weight_decay={self.weight_decay}, momentum={self.momentum}"
            )
        if self.resolution % 4:
            raise BudgetError(
                f"TrainBudget {self.name!r}: resolution must be a multiple of 4, got {self.resolution}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainBudget:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BudgetError(f"unknown TrainBudget fields {unknown}; expected some of {sorted(known)}")
        return cls(**data)


PRESETS: dict[str, TrainBudget] = {
    budget.name: budget
    for budget in (
        # seconds per cell: for trying the builder and for tests
        TrainBudget(
            name="tiny",
            epochs=1,
            channels=4,
            cells_per_stage=1,
            resolution=16,
            train_size=2000,
            valid_size=1000,
            eval_batch_size=500,
        ),
        # the default table's budget: C=8, N=2, 16x16, 20k images, 2 epochs. Seed-to-seed Kendall
        # tau of test accuracy: 10k images 0.632 over 360 classes, 20k images 0.677 over 500 (a
        # third epoch did not help); 40k images, on 150 of those classes, 0.697 against 0.668 at
        # 20k: +0.03 (paired 95% CI -0.04..+0.09) for twice the cost (docs/measurements)
        # N=3, C=4 with N=3, lr 0.05 or 0.2 and 40k images x 1 epoch did no better on the same
        # classes; 40k images repeated channels-last on 191 classes: 0.708 vs 0.658, +0.051
        # (CI -0.01..+0.12) at ~1.4x the cost (docs/measurements/default-table-preset-*.json)
        TrainBudget(
            name="small",
            epochs=2,
            channels=8,
            cells_per_stage=2,
            resolution=16,
            train_size=20_000,
            valid_size=5000,
        ),
        # a longer laptop budget
        TrainBudget(name="medium", epochs=12, channels=16, cells_per_stage=2, resolution=16, valid_size=5000),
        # the NAS-Bench-201 protocol itself (a GPU job)
        TrainBudget(
            name="nb201-12",
            epochs=12,
            batch_size=256,
            channels=16,
            cells_per_stage=5,
            resolution=32,
            augment=True,
            valid_size=5000,
        ),
        TrainBudget(
            name="nb201",
            epochs=200,
            batch_size=256,
            channels=16,
            cells_per_stage=5,
            resolution=32,
            augment=True,
            valid_size=5000,
        ),
    )
}


def _parse_field_value(field: str, text: str) -> Any:
    """``text`` as the type of TrainBudget's ``field`` (fields are int, float, bool or int|None)."""
    kind = _FIELD_KINDS[field]
    if kind == "bool":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValueError(text)
    if kind == "int|None":
        return None if text.lower() == "none" else int(text)
    return float(text) if kind == "float" else int(text)


_FIELD_KINDS: dict[str, str] = {
    f.name: str(f.type).replace(" ", "") for f in fields(TrainBudget) if f.name != "name"
}


def override_budget(budget: TrainBudget, assignments: list[str]) -> TrainBudget:
    """``budget`` with ``FIELD=VALUE`` assignments applied (``lr=0.05``, ``channels=4``, ``augment=true``).

    The result keeps the preset's name; the table records every field, so a build with overrides
    never resumes into a table built without them.
    """
    changes: dict[str, Any] = {}
    for text in assignments:
        field, sep, value = text.partition("=")
        field = field.strip().replace("-", "_")
        if not sep or field not in _FIELD_KINDS:
            raise BudgetError(
                f"budget override {text!r}: expected FIELD=VALUE with FIELD one of {sorted(_FIELD_KINDS)}"
            )
        try:
            changes[field] = _parse_field_value(field, value.strip())
        except ValueError:
            raise BudgetError(
                f"budget override {text!r}: {field} takes a value of type {_FIELD_KINDS[field]}, "
                f"got {value!r}"
            ) from None
    return replace(budget, **changes)


def get_budget(name: str) -> TrainBudget:
    """The preset ``name``; :class:`UnknownNameError` lists the presets."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownNameError("budget preset", name, list(PRESETS)) from None
