"""Training one architecture under a fixed budget, with per-epoch records.

The recipe is NAS-Bench-201's (Dong & Yang, ICLR 2020): SGD with Nesterov momentum, a cosine
learning-rate schedule stepped every iteration, weight decay, cross-entropy. Data are tensors
already in memory (see :mod:`tabular.data`); batches are index slices, so there is no
per-batch Python data pipeline. A run whose loss turns NaN/inf stops and is recorded as failed
with its reason; it never raises and never reports a made-up number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from tabular.budget import TrainBudget
from tabular.errors import BudgetError, UnknownNameError
from tabular.spaces import SearchSpace

if TYPE_CHECKING:
    import torch

    from tabular.data import DataSplits
    from tabular.models.config import NetworkConfig

NAN = float("nan")
#: how activations and conv weights are laid out; channels-last trains the NB201 cells 1.2-1.4x
#: faster on a CPU (oneDNN), with the same results up to floating-point reduction order
MEMORY_FORMATS = ("channels_last", "contiguous")
DEFAULT_MEMORY_FORMAT = "channels_last"


@dataclass(frozen=True)
class EpochRecord:
    """Metrics after one epoch (accuracies in %, losses cross-entropy, seconds wall time)."""

    epoch: int
    train_loss: float
    train_acc: float
    valid_loss: float
    valid_acc: float
    test_loss: float = NAN
    test_acc: float = NAN
    train_seconds: float = 0.0
    eval_seconds: float = 0.0


@dataclass(frozen=True)
class TrainResult:
    """One (architecture, seed) run: its status, per-epoch records and where it ran."""

    arch: str
    seed: int
    budget: str
    status: str  #: "ok" or "failed"
    reason: str = ""
    epochs: tuple[EpochRecord, ...] = ()
    device: str = "cpu"
    threads: int = 1
    wall_seconds: float = 0.0
    memory_format: str = "contiguous"  #: runs recorded before this field existed were contiguous
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainResult:
        records = tuple(EpochRecord(**e) for e in data.get("epochs", ()))
        return cls(**{**data, "epochs": records})


def network_config(budget: TrainBudget, data: DataSplits) -> NetworkConfig:
    """The network a budget trains on a dataset (channels and cells from the budget, shape from the data).

    Chain spaces ignore ``cells_per_stage`` (see :mod:`tabular.models.config`)."""
    from tabular.models.config import NetworkConfig

    return NetworkConfig(
        channels=budget.channels,
        cells_per_stage=budget.cells_per_stage,
        in_channels=data.in_channels,
        num_classes=data.num_classes,
        resolution=data.resolution,
    )


def pick_device(device: str | None = None) -> torch.device:
    """``device`` if given, else the first CUDA GPU when one is present, else the CPU."""
    import torch

    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train_cell(
    space: SearchSpace,
    arch: Sequence[int] | str,
    data: DataSplits,
    budget: TrainBudget,
    seed: int,
    device: str | None = None,
    memory_format: str = DEFAULT_MEMORY_FORMAT,
) -> TrainResult:
    """Train ``arch`` from scratch on ``data`` under ``budget`` with ``seed``.

    Weight init and batch order depend only on ``seed``; on the CPU with a fixed thread count
    and memory format the same call gives the same curves. Global torch RNG state is restored
    afterwards.
    """
    import torch

    from tabular.models import build_network

    check_memory_format(memory_format, space)  # before any work
    arch_tuple = space.from_str(arch) if isinstance(arch, str) else space.validate(arch)
    if data.resolution != budget.resolution:
        raise BudgetError(
            f"data are {data.resolution}px but budget {budget.name!r} wants {budget.resolution}px"
        )
    dev = pick_device(device)
    config = network_config(budget, data)
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        model = place_network(build_network(space, arch_tuple, config), dev, memory_format)
        records, reason = _fit(model, data, budget, seed, dev)
    return TrainResult(
        arch=space.to_str(arch_tuple),
        seed=seed,
        budget=budget.name,
        status="failed" if reason else "ok",
        reason=reason,
        epochs=tuple(records),
        device=str(dev),
        threads=torch.get_num_threads(),
        wall_seconds=time.perf_counter() - start,
        memory_format=memory_format,
    )


def check_memory_format(memory_format: str, space: SearchSpace | None = None) -> str:
    """``memory_format`` if ``space``'s networks can train in it, else :class:`UnknownNameError`.

    A space whose networks fix their own layout (``space.fixed_memory_format``) takes only that.
    """
    fixed = space.fixed_memory_format if space is not None else None
    allowed = (fixed,) if fixed else MEMORY_FORMATS
    if memory_format not in allowed:
        kind = f"memory format for {space.name} networks" if fixed and space else "memory format"
        raise UnknownNameError(kind, memory_format, allowed)
    return memory_format


def place_network(model: torch.nn.Module, device: torch.device, memory_format: str) -> torch.nn.Module:
    """``model`` on ``device`` with its 4-d weights in ``memory_format``.

    Convolutions then return activations in that layout too, so the whole network runs in it.
    """
    import torch

    check_memory_format(memory_format)
    layout = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    return model.to(device).to(memory_format=layout)


def _fit(
    model: torch.nn.Module, data: DataSplits, budget: TrainBudget, seed: int, dev: torch.device
) -> tuple[list[EpochRecord], str]:
    import torch

    n_train = (
        data.x_train.shape[0] if budget.train_size is None else min(budget.train_size, data.x_train.shape[0])
    )
    x_train, y_train = data.x_train[:n_train].to(dev), data.y_train[:n_train].to(dev)
    x_valid, y_valid = data.x_valid.to(dev), data.y_valid.to(dev)
    x_test, y_test = data.x_test.to(dev), data.y_test.to(dev)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=budget.lr,
        momentum=budget.momentum,
        nesterov=budget.nesterov,
        weight_decay=budget.weight_decay,
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = math.ceil(n_train / budget.batch_size)
    total_steps = budget.epochs * steps_per_epoch
    records: list[EpochRecord] = []
    for epoch in range(1, budget.epochs + 1):
        model.train()
        order = torch.randperm(n_train, generator=generator).to(dev)
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev, dtype=torch.long)
        tic = time.perf_counter()
        for step in range(steps_per_epoch):
            t = (epoch - 1) * steps_per_epoch + step
            for group in optimizer.param_groups:  # cosine annealing per iteration, as NB201
                group["lr"] = 0.5 * budget.lr * (1.0 + math.cos(math.pi * t / total_steps))
            idx = order[step * budget.batch_size : (step + 1) * budget.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            if budget.augment:
                xb = augment(xb, generator)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            if not torch.isfinite(loss):
                return records, f"loss became {loss.item()} at epoch {epoch}, step {step + 1}"
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == yb).sum()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        train_seconds = time.perf_counter() - tic
        tic = time.perf_counter()
        valid_loss, valid_acc = evaluate(model, x_valid, y_valid, budget.eval_batch_size)
        test_loss, test_acc = NAN, NAN
        if budget.test_every_epoch or epoch == budget.epochs:
            test_loss, test_acc = evaluate(model, x_test, y_test, budget.eval_batch_size)
        records.append(
            EpochRecord(
                epoch=epoch,
                train_loss=float(loss_sum) / n_train,
                train_acc=100.0 * float(correct) / n_train,
                valid_loss=valid_loss,
                valid_acc=valid_acc,
                test_loss=test_loss,
                test_acc=test_acc,
                train_seconds=train_seconds,
                eval_seconds=time.perf_counter() - tic,
            )
        )
        if not math.isfinite(valid_loss):
            return records, f"validation loss became {valid_loss} at epoch {epoch}"
    return records, ""


def evaluate(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (%) of ``model`` on ``(x, y)`` in eval mode."""
    import torch

    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            logits = model(x[start : start + batch_size])
            target = y[start : start + batch_size]
            loss_sum += float(torch.nn.functional.cross_entropy(logits, target, reduction="sum"))
            correct += int((logits.argmax(1) == target).sum())
    return loss_sum / x.shape[0], 100.0 * correct / x.shape[0]


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random crop after zero padding (1/8 of the side) and random horizontal flip, per sample."""
    import torch

    b, _, h, w = x.shape
    pad = max(1, h // 8)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None, :])[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None, :])[:, None, None, :]
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    cropped = padded[batch, chans, rows, cols]
    flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)[:, None, None, None]
    return torch.where(flip, cropped.flip(3), cropped)
