"""Building blocks of the NAS-Bench-201 network (Dong & Yang, ICLR 2020, section 2.1).

The cell operations are ``none`` (zero), ``skip_connect`` (identity), ReLU-Conv-BN with a
1x1 or 3x3 kernel, and 3x3 average pooling; stages are joined by a residual block with
stride 2. ``none`` and ``skip_connect`` need no module: the cell handles them as "no term"
and "pass the tensor through", which saves a module call and a multiply per edge.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 -- the usual torch alias
from torch import nn

from tabular.errors import UnknownOpError


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv2d (no bias, BN supplies it) -> BatchNorm2d (affine), as in NB201."""

    def __init__(
        self, c_in: int, c_out: int, kernel_size: int, stride: int = 1, padding: int | None = None
    ) -> None:
        if padding is None:
            padding = kernel_size // 2
        super().__init__(
            # not in-place: the cell feeds one node to several edges, so the input must survive
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True),
        )


def _inverse_counts(n: int, kernel_size: int, padding: int) -> torch.Tensor:
    """How many taps of a stride-1 window fall inside ``0..n-1`` at each position, inverted."""
    pos = torch.arange(n, dtype=torch.float64)
    lo = torch.clamp(pos - padding, min=0)
    hi = torch.clamp(pos - padding + kernel_size - 1, max=n - 1)
    return 1.0 / (hi - lo + 1)


class FastAvgPool2d(nn.Module):
    """Stride-1 average pooling with ``count_include_pad=False`` as a fixed depthwise conv.

    Numerically the same as ``nn.AvgPool2d(k, 1, k // 2, count_include_pad=False)`` (up to
    float rounding), but oneDNN's depthwise convolution is several times faster on CPU than
    the native pooling kernel. The window sum is a convolution with a ones kernel; dividing
    by the number of valid taps (a separable map, cached per spatial size) excludes padding.
    The kernel is a non-persistent buffer: no parameters, nothing in ``state_dict``.

    ``flop_pool_kernel`` marks this as a pooling layer for :func:`tabular.hardware.nb201_mflops`,
    not a convolution: NB201's FLOP convention counts pooling as zero (``k*k`` per output
    element with ``include_pooling=True``).
    """

    ones: torch.Tensor

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd to keep the spatial size, got {kernel_size}")
        self.channels = channels
        self.kernel_size = kernel_size
        self.padding = kernel_size // 2
        self.flop_pool_kernel = (kernel_size, kernel_size)
        self.register_buffer("ones", torch.ones(channels, 1, kernel_size, kernel_size), persistent=False)
        # keyed by (H, W, dtype, device); a plain dict, so it never lands in state_dict
        self._inv_count: dict[tuple[int, int, torch.dtype, torch.device], torch.Tensor] = {}

    def inverse_count(self, h: int, w: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        key = (h, w, dtype, device)
        inv = self._inv_count.get(key)
        if inv is None:
            rows = _inverse_counts(h, self.kernel_size, self.padding)
            cols = _inverse_counts(w, self.kernel_size, self.padding)
            inv = torch.outer(rows, cols).to(dtype=dtype, device=device)[None, None]
            self._inv_count[key] = inv
        return inv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ones = self.ones if self.ones.dtype == x.dtype else self.ones.to(x.dtype)
        summed = F.conv2d(x, ones, padding=self.padding, groups=self.channels)
        return summed * self.inverse_count(x.shape[-2], x.shape[-1], x.dtype, x.device)

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}, count_include_pad=False"


class ResidualReduction(nn.Module):
    """NB201's stage transition: a ResNet basic block with stride 2 (He et al., CVPR 2016).

    ``conv_b(conv_a(x))`` plus a shortcut of 2x2 average pooling then a 1x1 conv that
    changes the channel count.
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2, padding=1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, stride=1, padding=1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


def make_cell_op(op: str, channels: int) -> nn.Module | None:
    """The module for one NB201 cell edge; ``None`` for ops the cell handles without one."""
    if op in ("none", "skip_connect"):
        return None
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if op == "avg_pool_3x3":
        return FastAvgPool2d(channels, 3)
    raise UnknownOpError(
        f"unknown NB201 op {op!r}; expected none, skip_connect, nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3"
    )
