"""Hardware metrics of a network: parameters, FLOPs, CPU latency and peak forward memory.

Torch is imported inside the functions, so ``import tabular.hardware`` stays light.
``input_shape`` is always one sample's shape without the batch dimension, e.g. ``(3, 32, 32)``.

Two FLOP conventions are provided, because published tables use NB201's own:

* :func:`nb201_mflops` reproduces the ``flop`` field of NAS-Bench-201 / NATS-Bench
  (Dong & Yang, ICLR 2020; Dong et al., TPAMI 2021) exactly. Per sample, in millions, with
  a multiply-add counted as one:

  - ``Conv2d``: ``out_elements * (in_channels / groups) * kh * kw``, plus ``out_elements``
    if the conv has a bias (NB201's convs have none, so the records cannot confirm this term);
  - ``Linear``: ``in_features * out_features + out_features`` (the bias add counts);
  - nothing else. In particular pooling counts zero: neither the cells' 3x3 average pools
    nor the 2x2 pools of the residual shortcuts appear in the records, nor do BatchNorm,
    ReLU, the additions of node sums and residuals, or the global average pool.

  Worked out from the official NATS-Bench records of archs 0, 11 and 284 on cifar10,
  cifar100 and ImageNet16-120: this rule matches all nine ``flop`` values to the last stored
  digit, while counting pools at ``kh * kw`` per output element would add 1.29 M (cell
  pools) and 0.0246 M (shortcut pools) to arch 0 on CIFAR-10. ``include_pooling=True``
  gives that variant. Example: arch 0, CIFAR-10: 15,646,720 conv + 640 + 10 classifier
  = 15.64737 M; cifar100's classifier adds ``64 * 90 + 90`` = 0.00585 M.

* :func:`count_flops` is torch's ``FlopCounterMode``: 2 FLOPs per multiply-add of conv and
  matmul kernels; no bias adds, no pooling, no elementwise ops. The cells' 3x3 average pool
  runs as a depthwise conv (:class:`tabular.models.ops.FastAvgPool2d`), which torch counts at
  ``2 * 9`` per output element. For an NB201 network therefore::

      count_flops == 2 * (nb201_mflops * 1e6 - classifier_bias) + 18 * cell_pool_outputs

  where ``cell_pool_outputs`` is the number of output elements (per sample) of all cell
  ``avg_pool_3x3`` edges; for cells without a pool it is exactly twice NB201's count minus
  the bias term.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class HardwareMetrics:
    """Cost of one network on one input shape.

    ``latency_ms`` is the median CPU forward time of a batch of ``latency_batch`` with
    ``threads`` intra-op threads; ``peak_memory_bytes`` is the peak of bytes allocated during
    a forward of that batch (see :func:`peak_forward_memory_bytes`). Both are ``None`` when
    not measured.
    """

    params: int
    flops: int
    nb201_mflops: float
    input_shape: tuple[int, ...]
    latency_ms: float | None = None
    latency_batch: int = 1
    threads: int = 1
    peak_memory_bytes: int | None = None
    device: str = "cpu"
    torch_version: str = ""

    @property
    def params_m(self) -> float:
        """Parameters in millions, rounded as NB201 stores them (6 decimals)."""
        return round(self.params / 1e6, 6)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_params(model: nn.Module) -> int:
    """All parameters (shared ones once), as NB201 counts them: BN affine weights included,
    BN running statistics (buffers) excluded."""
    return sum(p.numel() for p in model.parameters())


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode and no_grad for a measurement; the model's train/eval flags are restored."""
    import torch

    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, training in modes.items():
            m.training = training


def _example(model: nn.Module, input_shape: Sequence[int], batch_size: int, seed: int = 0) -> torch.Tensor:
    import torch

    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    gen = torch.Generator().manual_seed(seed)  # a local generator: no global RNG
    x = torch.randn((batch_size, *input_shape), generator=gen, dtype=torch.float32)
    x = x.to(device=device, dtype=dtype)
    # a model (or a part of one) whose conv weights are channels-last sees channels-last inputs
    conv = next((p for p in model.parameters() if p.dim() == 4), None)
    if x.dim() == 4 and conv is not None and _strided_channels_last(conv):
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _strided_channels_last(t: torch.Tensor) -> bool:
    """True for a 4-D tensor laid out channels-last by choice (``.to(memory_format=...)``).

    Judged by the strides, as torch does when it picks a kernel's layout: a weight such as
    ``(c_out, c_in, 1, 1)`` is contiguous in both formats, but only the converted one has
    channels-last strides.
    """
    import torch

    if not t.is_contiguous(memory_format=torch.channels_last):
        return False
    _, c, h, w = t.shape
    return tuple(t.stride()) != (c * h * w, h * w, w, 1)


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> int:
    """FLOPs of one forward at batch 1 as ``torch.utils.flop_counter.FlopCounterMode`` counts
    them (2 per multiply-add of conv/linear; see the module docstring for the NB201 relation)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = _example(model, input_shape, 1)
    counter = FlopCounterMode(display=False)
    with _eval_mode(model), counter:
        model(x)
    return int(counter.get_total_flops())


def nb201_mflops(model: nn.Module, input_shape: Sequence[int], include_pooling: bool = False) -> float:
    """MFLOPs per sample in NAS-Bench-201's convention (the ``flop`` field of NB201/NATS-Bench).

    Conv2d and Linear multiply-adds plus bias adds, counted with forward hooks (rules in the
    module docstring). ``include_pooling`` adds ``kh * kw`` per output element of fixed-window
    pools (``AvgPool2d``, ``MaxPool2d``, modules with ``flop_pool_kernel``), which the
    published records do not. Not rounded: NATS-Bench stores 5 decimals.
    """
    from torch import nn

    total = 0

    def per_sample(out: torch.Tensor) -> int:
        return out.numel() // out.shape[0]

    def conv_hook(m: nn.Module, inputs: Any, out: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(m, nn.Conv2d)
        kh, kw = m.kernel_size
        total += per_sample(out) * (m.in_channels // m.groups) * kh * kw
        if m.bias is not None:
            total += per_sample(out)

    def linear_hook(m: nn.Module, inputs: Any, out: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(m, nn.Linear)
        # per sample even for inputs with extra leading dims: out_elements / out_features rows
        rows = per_sample(out) // m.out_features
        total += rows * (m.in_features * m.out_features + (m.out_features if m.bias is not None else 0))

    def pool_hook(m: nn.Module, inputs: Any, out: torch.Tensor) -> None:
        nonlocal total
        kernel = getattr(m, "flop_pool_kernel", None) or getattr(m, "kernel_size")  # noqa: B009
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        total += per_sample(out) * int(kh) * int(kw)

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif include_pooling and (
            isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)) or hasattr(m, "flop_pool_kernel")
        ):
            handles.append(m.register_forward_hook(pool_hook))
    try:
        with _eval_mode(model):
            model(_example(model, input_shape, 1))
    finally:
        for h in handles:
            h.remove()
    return total / 1e6


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run with ``threads`` torch CPU threads (speed and reduction order depend on it), then restore."""
    import torch

    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def latency_ms(
    model: nn.Module,
    input_shape: Sequence[int],
    batch_size: int = 1,
    threads: int = 1,
    warmup: int = 10,
    repeats: int = 30,
    statistic: str = "median",
) -> float:
    """Median (or fastest) wall-clock forward time in milliseconds, eval mode, ``no_grad``.

    Runs with ``threads`` intra-op threads and restores the previous count afterwards, so
    the number is comparable across machines with different core counts (NB201 and HW-NAS-
    Bench likewise report latency at a fixed batch and setting). The median resists the
    outliers of a shared machine. ``statistic="min"`` gives the fastest repeat instead: on a
    core shared with other busy processes, forwards longer than the scheduler's time slice
    are interrupted more often than not, so their median includes waiting for the others,
    while the minimum stays the uncontended compute time.
    """
    _check_timing(batch_size, warmup, repeats, statistic)
    x = _example(model, input_shape, batch_size)
    times: list[float] = []
    with torch_threads(threads), _eval_mode(model):
        for _ in range(warmup):
            model(x)
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return _summary_ms(times, statistic)


def latency_in_model_ms(
    model: nn.Module,
    module: nn.Module,
    input_shape: Sequence[int],
    batch_size: int = 1,
    threads: int = 1,
    warmup: int = 10,
    repeats: int = 30,
    statistic: str = "median",
) -> float:
    """Time ``module`` (a submodule of ``model``) inside whole forwards of ``model``.

    Timed in place, a layer sees the caches its predecessors left behind (their activations,
    and its own weights evicted by theirs), which a layer timed alone in a loop never does;
    on small inputs that difference dominates a per-layer lookup table's error. ``input_shape``
    is ``model``'s input; the settings are those of :func:`latency_ms`.
    """
    _check_timing(batch_size, warmup, repeats, statistic)
    x = _example(model, input_shape, batch_size)
    times: list[float] = []
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(*_: Any) -> None:
        times.append(time.perf_counter() - started.pop())

    handles = [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    try:
        with torch_threads(threads), _eval_mode(model):
            for _ in range(warmup):
                model(x)
            times.clear()
            for _ in range(repeats):
                model(x)
    finally:
        for handle in handles:
            handle.remove()
    if len(times) != repeats:
        raise ValueError(
            f"the module ran {len(times)} times in {repeats} forwards of the model; it must run once each"
        )
    return _summary_ms(times, statistic)


def _check_timing(batch_size: int, warmup: int, repeats: int, statistic: str) -> None:
    if repeats < 1 or warmup < 0 or batch_size < 1:
        raise ValueError(
            f"need repeats >= 1, warmup >= 0, batch_size >= 1; got {repeats}, {warmup}, {batch_size}"
        )
    if statistic not in ("median", "min"):
        raise ValueError(f"statistic must be 'median' or 'min', got {statistic!r}")


def _summary_ms(times: Sequence[float], statistic: str) -> float:
    return (statistics.median(times) if statistic == "median" else min(times)) * 1e3


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for the profiler, whose C++ side logs every start and stop."""
    import os
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_forward_memory_bytes(model: nn.Module, input_shape: Sequence[int], batch_size: int = 1) -> int:
    """Peak bytes that the CPU allocator holds during one forward, above what was held before.

    Measured from the allocation and free events that ``torch.profiler`` records with
    ``profile_memory=True``: activations, the output and kernel workspaces (e.g. oneDNN
    weight reorders) count; parameters, buffers and the input, which exist before the
    forward, do not. One untimed forward runs first so that one-off caches are not counted.
    Eval mode, ``no_grad`` (no autograd graph is kept), one intra-op thread.
    """
    from torch.profiler import ProfilerActivity, profile

    x = _example(model, input_shape, batch_size)
    with torch_threads(1), _eval_mode(model):
        model(x)
        with _quiet_native_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            model(x)
    results = getattr(getattr(prof, "profiler", None), "kineto_results", None)
    if results is None:
        raise RuntimeError("this torch's profiler does not expose memory events; cannot measure memory")
    events = sorted(
        (e.start_ns(), e.nbytes())
        for e in results.events()
        if e.name() == "[memory]" and str(e.device_type()).endswith("CPU")
    )
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    return peak


def measure(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    latency: bool = True,
    memory: bool = False,
    batch_size: int = 1,
    threads: int = 1,
    warmup: int = 10,
    repeats: int = 30,
) -> HardwareMetrics:
    """All hardware metrics of ``model`` on one sample shape (latency/memory optional)."""
    import torch

    return HardwareMetrics(
        params=count_params(model),
        flops=count_flops(model, input_shape),
        nb201_mflops=nb201_mflops(model, input_shape),
        input_shape=tuple(int(s) for s in input_shape),
        latency_ms=(
            latency_ms(model, input_shape, batch_size, threads, warmup, repeats) if latency else None
        ),
        latency_batch=batch_size,
        threads=threads,
        peak_memory_bytes=peak_forward_memory_bytes(model, input_shape, batch_size) if memory else None,
        device="cpu",
        torch_version=str(torch.__version__),
    )
