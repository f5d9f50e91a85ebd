"""Proxies that look at how a network's activations respond to inputs, not at its loss.

* ``jacob_cov``: Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without
  Training", arXiv:2006.04647 v1 (2020): how correlated the input Jacobians of a batch are.
* ``naswot``: the same authors' ICML 2021 version: the log-determinant of the kernel of
  binary ReLU activation codes.
* ``zen``: Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition",
  ICCV 2021: expressivity as the response of the pre-pooling feature map to a small
  Gaussian perturbation of a Gaussian input, corrected for BatchNorm's rescaling.

All three run the network in train mode (BatchNorm with batch statistics), as the authors'
code does with freshly built networks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surrogates.proxies.base import rectifiers, register_proxy

if TYPE_CHECKING:
    import torch
    from torch import nn

#: jacob_cov's regulariser k (Mellor et al. v1, eq. 2)
JACOB_K = 1e-5
#: Zen-NAS's perturbation scale α (the paper's mixup gamma, 0.01)
ZEN_ALPHA = 1e-2


@register_proxy("jacob_cov")
def jacob_cov(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """−Σᵢ [log(σᵢ + k) + 1/(σᵢ + k)], σ the eigenvalues of corr(J) (Mellor et al. 2020, v1).

    J's rows are the input gradients of the summed outputs, one per sample of the batch,
    flattened; k = 1e-5. Higher means less correlated Jacobians, i.e. the network tells
    inputs apart. A network whose output ignores its input (e.g. every cell ``none``) has
    constant Jacobians, no correlation matrix, and so NaN.
    """
    import numpy as np

    model.train()
    x = inputs.clone().requires_grad_(True)
    out = model(x)
    (jac,) = _grad_or_zero(out.sum(), x)
    rows = jac.detach().reshape(len(x), -1).double().cpu().numpy()
    if not np.isfinite(rows).all() or (rows.std(axis=1) == 0).any():
        return float("nan")
    corr = np.corrcoef(rows)
    eig = np.linalg.eigvalsh((corr + corr.T) / 2)  # symmetric: real eigenvalues, stable solver
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(-np.sum(np.log(eig + JACOB_K) + 1.0 / (eig + JACOB_K)))


def _grad_or_zero(y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor]:
    import torch

    if not y.requires_grad:  # the output does not depend on anything differentiable
        return (torch.zeros_like(x),)
    (g,) = torch.autograd.grad(y, x, allow_unused=True)
    return (torch.zeros_like(x) if g is None else g,)


@register_proxy("naswot")
def naswot(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """log|det K_H|, K_H[i, j] = N_A − Hamming(cᵢ, cⱼ) over ReLU codes (Mellor et al., ICML 2021).

    cᵢ is the binary code (unit > 0) of sample i over every ReLU module's input, N_A its
    length; K_H counts the units on which two samples agree. ReLU6 modules (MobileNetV2-style
    blocks) count as ReLUs: they switch off at the same point (see ``base.rectifiers``). The
    code is read before the module runs, so an in-place activation cannot hide a non-finite
    input. As in the authors' code, only
    ReLUs that the output depends on count (their code marks them in a backward pass): a conv
    edge whose node never reaches the cell output is left out. Units are counted per ReLU
    module, so a node read by two conv edges contributes twice, as in NB201's ReLU-Conv-BN.
    Non-finite activations, or a singular K_H (all codes equal), give NaN.
    """
    import numpy as np
    import torch

    n = len(inputs)
    kernels: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []
    bad = False

    def pre_hook(_m: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        nonlocal bad
        pre = args[0].detach().reshape(n, -1)
        if not torch.isfinite(pre).all():
            bad = True
        code = (pre > 0).double()
        # agreements = both on + both off; float64 counts are exact far past any layer's size
        kernels.append(code @ code.T + (1 - code) @ (1 - code).T)

    def hook(_m: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        outputs.append(out)  # one per pre_hook call, in the same order

    handles = []
    for m in rectifiers(model):
        handles += [m.register_forward_pre_hook(pre_hook), m.register_forward_hook(hook)]
    try:
        model.train()
        y = model(inputs)
    finally:
        for h in handles:
            h.remove()
    if bad:
        return float("nan")
    live = [o.requires_grad for o in outputs]
    if y.requires_grad and any(live):
        grads = torch.autograd.grad(
            y.sum(), [o for o, ok in zip(outputs, live, strict=True) if ok], allow_unused=True
        )
        reached = iter(g is not None for g in grads)
        used = [next(reached) if ok else False for ok in live]
    else:
        used = [False] * len(outputs)
    k = sum((kk for kk, u in zip(kernels, used, strict=True) if u), torch.zeros(n, n, dtype=torch.float64))
    _, logdet = np.linalg.slogdet(k.cpu().numpy())
    return float(logdet)  # -inf for a singular kernel; the contract turns it into NaN + warning


@register_proxy("zen", data_free=True)
def zen(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Zen-score log E‖f(x) − f(x + αε)‖₁ + Σ_BN log √(mean_c σ²_c) (Lin et al., ICCV 2021).

    As in Zen-NAS: Conv/Linear weights are redrawn from N(0, 1) and BN affine parameters set
    to γ = 1, β = 0 (the score is defined at Gaussian initialisation, not at the model's
    weights); x, ε ~ N(0, 1) with the batch's shape, α = 0.01; f is the feature map that
    enters the last global average pool; the expectation is the batch mean of the per-sample
    L1 norm. Data-free: only the shape of ``inputs`` is used.

    Adaptations, for NB201's pre-activation ReLU-Conv-BN cells and for exactness:

    * σ²_c is the mini-batch variance of each BatchNorm2d's input channel on the clean
      forward, as the paper defines it; the released code reads ``running_var`` after two
      momentum-0.1 updates, which mostly keeps the initial 1.
    * every BatchNorm2d counts, including those of parallel conv edges whose outputs are
      summed at a node (NB201's cells have no BN after the sum), the stem and the final BN.
      The released code also sums over every BN module.
    * a BN whose input is constant (a conv reading an all-zero node, which NB201 keeps) has
      σ = 0 and rescales no signal; it is left out rather than adding log 0 = −∞.
    * f is NB201's ``lastact`` output (BN-ReLU before pooling); for a model without
      ``AdaptiveAvgPool2d`` the output itself is used.
    """
    import torch
    from torch import nn

    # the global generators here are the contract's forked, seeded ones (base.seeded)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
    x = torch.randn(inputs.shape, device=inputs.device)
    eps = torch.randn(inputs.shape, device=inputs.device)

    variances: list[torch.Tensor] = []
    features: list[torch.Tensor] = []
    pools = [m for m in model.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]

    def bn_hook(_m: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        variances.append(args[0].double().var(dim=(0, 2, 3), unbiased=False).mean())

    def pool_hook(_m: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        features.append(args[0])

    model.train()
    bn_handles = [
        m.register_forward_pre_hook(bn_hook) for m in model.modules() if isinstance(m, nn.BatchNorm2d)
    ]
    pool_handles = [pools[-1].register_forward_pre_hook(pool_hook)] if pools else []
    try:
        with torch.no_grad():
            clean = model(x)
            for h in bn_handles:
                h.remove()  # σ from the clean forward only
            perturbed = model(x + ZEN_ALPHA * eps)
    finally:
        for h in bn_handles + pool_handles:
            h.remove()
    f0, f1 = (features[0], features[1]) if pools else (clean, perturbed)
    delta = (f0 - f1).double().abs().reshape(len(x), -1).sum(dim=1).mean()
    bn_term = sum((0.5 * torch.log(v) for v in variances if v > 0), torch.zeros((), dtype=torch.float64))
    return float(torch.log(delta) + bn_term)
