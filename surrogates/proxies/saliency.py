"""Pruning-at-initialisation saliencies summed over a network (Abdelfattah et al., ICLR 2021).

Abdelfattah, Mehrotra, Dudziak & Lane, "Zero-Cost Proxies for Lightweight NAS" (ICLR 2021)
turned per-weight pruning scores into architecture scores by summing them over every weight
of every Conv2d and Linear layer (:func:`~surrogates.proxies.base.weighted_layers`). Gradient
proxies see one batch in train mode (BatchNorm uses the batch's statistics) and the mean
cross-entropy loss. Each function here receives a private copy (see
:mod:`surrogates.proxies.base`), so it may change the network freely.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surrogates.proxies.base import (
    cross_entropy,
    layer_weights,
    register_proxy,
    total,
    unclip_rectifiers,
    weighted_layers,
)

if TYPE_CHECKING:
    import torch
    from torch import nn


@register_proxy("synflow", data_free=True)
def synflow(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Synaptic flow, sum |θ ⊙ ∂R/∂θ| with R = 1ᵀ f_|θ|(1) (Tanaka et al., NeurIPS 2020).

    The network is linearised by taking the absolute value of every parameter and buffer
    (as Tanaka et al. do to the whole state dict), then fed one all-ones input of the batch's
    sample shape in double precision (float32 overflows on deep networks); R is the sum of
    the outputs. Scored over Conv2d/Linear weights as in Abdelfattah et al. (2021).

    BatchNorm runs in eval mode: Abdelfattah et al. score a copy without BatchNorm, and
    Tanaka et al. prune in eval mode. With a fresh network's running statistics (mean 0,
    variance 1) eval-mode BN is ``|γ| x / sqrt(1 + eps) + |β|``, i.e. the identity up to a
    constant factor, so both agree; batch statistics would centre the all-ones signal and
    break the positive linear network that synflow relies on. ReLU6 (MobileNetV2-style
    blocks) becomes ReLU, the identity on this signal: its ceiling at 6 would otherwise cut
    the flow and its gradient. Data-free: only the shape of
    ``inputs`` is used. The caller's signs need no restoring: this runs on a private copy.
    """
    import torch

    unclip_rectifiers(model)  # ReLU6 (MobileNetV2 blocks) would saturate the linearised signal
    model.double()
    model.eval()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    ones = torch.ones((1, *inputs.shape[1:]), dtype=torch.float64, device=inputs.device)
    model(ones).sum().backward()
    return total([(w * w.grad).abs() for w in layer_weights(model) if w.grad is not None])


@register_proxy("snip")
def snip(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Connection sensitivity, sum |θ ⊙ ∂L/∂θ| (Lee et al., "SNIP", ICLR 2019).

    SNIP's saliency of a weight is |∂L/∂c| for a multiplicative mask c = 1, which equals
    |θ ∂L/∂θ|; the per-weight values are summed without SNIP's normalisation, which would make
    every network's total 1 (Abdelfattah et al. 2021).
    """
    cross_entropy(model, inputs, targets).backward()
    return total([(w * w.grad).abs() for w in layer_weights(model) if w.grad is not None])


@register_proxy("grasp")
def grasp(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Gradient signal preservation, sum −θ ⊙ Hg (Wang, Zhang & Grosse, "GraSP", ICLR 2020).

    g = ∂L/∂θ and H the Hessian of L; Hg is the gradient of gᵀ·stop_grad(g), so it needs one
    double backward. Temperature 1 and the sign of Abdelfattah et al. (2021), who summed
    −θ ⊙ Hg over all Conv2d/Linear weights.
    """
    import torch

    weights = layer_weights(model)
    if not weights:
        return 0.0
    # first pass: g as a constant; second pass: g with its graph, so gᵀg_const can be differentiated
    loss = cross_entropy(model, inputs, targets)
    g_const = torch.autograd.grad(loss, weights, allow_unused=True)
    loss = cross_entropy(model, inputs, targets)
    g = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    pairs = zip(g_const, g, strict=True)
    terms = [(gc.detach() * gg).sum() for gc, gg in pairs if gc is not None and gg is not None]
    if not terms:
        return 0.0
    hg = torch.autograd.grad(torch.stack(terms).sum(), weights, allow_unused=True)
    return total([-w.detach() * h for w, h in zip(weights, hg, strict=True) if h is not None])


@register_proxy("fisher")
def fisher(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Channel Fisher information summed over layers (Theis et al. 2018; Turner et al. 2020).

    For the output activation ``a`` of every Conv2d/Linear layer (Theis et al., "Faster gaze
    prediction with dense networks and Fisher pruning", 2018): per channel k,
    Δ_k = ½ · mean over the batch of (Σ over positions a ⊙ ∂L/∂a)²; the score is Σ Δ_k over
    channels and layers, as in BlockSwap (Turner et al., ICLR 2020) and Abdelfattah et al.
    (2021). A layer used twice in one forward contributes once per use.
    """
    import torch

    acts: list[torch.Tensor] = []
    handles = [
        m.register_forward_hook(lambda _m, _i, out: acts.append(out) if out.requires_grad else None)
        for m in weighted_layers(model)
    ]
    try:
        loss = cross_entropy(model, inputs, targets)
    finally:
        for h in handles:
            h.remove()
    if not acts:
        return 0.0
    grads = torch.autograd.grad(loss, acts, allow_unused=True)
    per_channel = []
    for a, g in zip(acts, grads, strict=True):
        if g is None:  # an activation that does not reach the loss has zero Fisher information
            continue
        prod = (a.detach() * g).double()
        per_sample = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
        per_channel.append(0.5 * per_sample.pow(2).mean(dim=0))
    return total(per_channel)


@register_proxy("grad_norm")
def grad_norm(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Sum over Conv2d/Linear layers of ‖∂L/∂W‖₂ (Frobenius), as in Abdelfattah et al. (2021)."""
    cross_entropy(model, inputs, targets).backward()
    return total([w.grad.double().norm() for w in layer_weights(model) if w.grad is not None])
