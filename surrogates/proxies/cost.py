"""Size proxies: parameter and FLOP counts, the baselines every zero-cost study reports.

Abdelfattah et al. (ICLR 2021) and Ning et al. ("Evaluating Efficient Performance Estimators
of Neural Architectures", NeurIPS 2021) found that these plain counts rank NAS-Bench-201
cells about as well as many gradient proxies; they are here so that every comparison
includes them. Both are data-free; FLOPs use only the batch's sample shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surrogates.proxies.base import register_proxy
from tabular.hardware import count_flops, count_params

if TYPE_CHECKING:
    import torch
    from torch import nn


@register_proxy("params", data_free=True)
def params(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Number of parameters (BN affine included, buffers not), as :func:`tabular.hardware.count_params`."""
    return float(count_params(model))


@register_proxy("flops", data_free=True)
def flops(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """FLOPs of one sample's forward (2 per multiply-add), as :func:`tabular.hardware.count_flops`."""
    return float(count_flops(model, tuple(inputs.shape[1:])))
