"""DARTS: Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019.

Every edge is a softmax-weighted mixture of all ops; network weights ``w`` are trained on the
train split and the architecture parameters ``alpha`` on the valid split, alternating one step
each (bilevel optimisation). The cell is derived by the argmax of ``alpha`` per edge, ``none``
included, as NAS-Bench-201's reproduction of DARTS on its cell space does (Dong & Yang, ICLR
2020, section 5), which is where DARTS collapses to skip connections.

* ``darts-v1`` (first order): ``alpha`` follows ``grad_alpha L_val(w, alpha)``.
* ``darts-v2`` (second order): ``alpha`` follows the gradient of ``L_val(w', alpha)`` at the
  one-step unrolled weights ``w' = w - xi * grad_w L_train(w, alpha)`` (``xi`` = the current
  weight learning rate), with the Hessian-vector product by central finite differences,
  ``eps = 0.01 / ||grad_w' L_val||`` (DARTS, equations 7-8). As a simplification the virtual
  step is plain SGD with weight decay, without the momentum term of DARTS's code.

Defaults follow DARTS: weights SGD lr 0.025 cosine to 0.001, momentum 0.9, wd 3e-4, gradient
clip 5; ``alpha`` Adam lr 3e-4, betas (0.5, 0.999), wd 1e-3, initialised ``1e-3 * N(0, 1)``.
Epochs and images per epoch are cut so that a CPU search takes minutes (see the settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from suite.oneshot.base import OneShotSettings, OneShotStrategy, register_oneshot
from suite.oneshot.diagnostics import History

if TYPE_CHECKING:
    import torch

    from suite.oneshot.clock import OneShotClock
    from suite.oneshot.setup import OneShotSetup
    from suite.oneshot.supernet import SuperNet


@dataclass(frozen=True)
class DARTSSettings(OneShotSettings):
    """DARTS's architecture optimiser on top of the shared supernet settings."""

    arch_lr: float = 3e-4
    arch_beta1: float = 0.5
    arch_beta2: float = 0.999
    arch_weight_decay: float = 1e-3
    alpha_init_std: float = 1e-3


class Bilevel(OneShotStrategy):
    """Alternating weight (train) and architecture (valid) steps; subclasses choose the forward."""

    Settings = DARTSSettings
    second_order = False
    settings: DARTSSettings

    # ---- what subclasses change ------------------------------------------------------------
    def forward(self, net: SuperNet, alpha: torch.Tensor, x: torch.Tensor, epoch: int) -> torch.Tensor:
        """The supernet's logits under ``alpha`` (DARTS: the softmax mixture)."""
        return net(x, weights=alpha.softmax(-1))

    def penalty(self, alpha: torch.Tensor) -> torch.Tensor | None:
        """An extra term of the architecture loss (the hardware-aware variant adds latency)."""
        return None

    def prepare_search(self, setup: OneShotSetup, clock: OneShotClock) -> dict[str, Any]:
        """Work before training (e.g. measuring a latency table); returns extra result fields."""
        return {}

    def derive(self, alpha: torch.Tensor) -> tuple[int, ...]:
        """The discrete cell: argmax of ``alpha`` per edge (``none`` included)."""
        return tuple(int(o) for o in alpha.detach().argmax(-1).cpu())

    def epoch_extra(self, epoch: int) -> dict[str, Any]:
        return {}

    # ---- the loop ----------------------------------------------------------------------------
    def _run(
        self, setup: OneShotSetup, clock: OneShotClock
    ) -> tuple[tuple[int, ...], History, dict[str, Any]]:
        import torch

        from suite.oneshot.supernet import N_EDGES, N_OPS, build_supernet

        s, dev = self.settings, setup.device
        net = build_supernet(setup.space, setup.config).to(dev)
        alpha = (s.alpha_init_std * torch.randn(N_EDGES, N_OPS)).to(dev).requires_grad_()
        w_opt = self.weight_optimizer(net.parameters())
        a_opt = torch.optim.Adam(
            [alpha], lr=s.arch_lr, betas=(s.arch_beta1, s.arch_beta2), weight_decay=s.arch_weight_decay
        )
        extra = self.prepare_search(setup, clock)
        extra["alpha_init"] = alpha.detach().cpu().numpy().round(6).tolist()
        gen, history = self.generator(), History()
        steps = self.steps_per_epoch(setup)
        for epoch in range(1, s.epochs + 1):
            sums = np.zeros(6)  # train loss, correct, n; valid loss, correct, n
            before = clock.seconds
            net.train()
            for step, (xt, yt, xv, yv) in enumerate(self.batches(setup, gen)):
                lr = self.set_lr(w_opt, (epoch - 1) * steps + step, s.epochs * steps)
                with clock.timed("architecture"):
                    a_opt.zero_grad(set_to_none=True)
                    if self.second_order:
                        v_loss, v_logits = self._unrolled_grad(net, alpha, xt, yt, xv, yv, lr)
                    else:
                        v_logits = self.forward(net, alpha, xv, epoch)
                        v_loss = torch.nn.functional.cross_entropy(v_logits, yv)
                        term = self.penalty(alpha)
                        (v_loss if term is None else v_loss + term).backward()
                    a_opt.step()
                with clock.timed("weights"):
                    w_opt.zero_grad(set_to_none=True)
                    logits = self.forward(net, alpha.detach(), xt, epoch)
                    loss = torch.nn.functional.cross_entropy(logits, yt)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(net.parameters(), s.grad_clip)
                    w_opt.step()
                sums += _batch_sums(loss, logits, yt) + _batch_sums(v_loss, v_logits, yv, offset=3)
            derived = self.derive(alpha)
            history.add(
                epoch,
                train_loss=sums[0] / sums[2],
                train_acc=100 * sums[1] / sums[2],
                valid_loss=sums[3] / sums[5],
                valid_acc=100 * sums[4] / sums[5],
                seconds=clock.seconds - before,
                alpha_softmax=alpha.detach().softmax(-1).cpu().numpy(),
                derived=setup.space.to_str(derived),
                **self.epoch_extra(epoch),
            )
            if clock.exhausted:
                break
        with clock.timed("derive"):
            arch = self.derive(alpha)
        extra["alpha"] = alpha.detach().cpu().numpy().round(6).tolist()
        return arch, history, extra

    def _unrolled_grad(
        self,
        net: SuperNet,
        alpha: torch.Tensor,
        xt: torch.Tensor,
        yt: torch.Tensor,
        xv: torch.Tensor,
        yv: torch.Tensor,
        xi: float,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """DARTS's second-order gradient of ``alpha`` (equations 7-8), left in ``alpha.grad``."""
        import torch

        ce = torch.nn.functional.cross_entropy
        params = [p for p in net.parameters() if p.requires_grad]
        w0 = [p.detach().clone() for p in params]
        grads = torch.autograd.grad(ce(self.forward(net, alpha, xt, 0), yt), params, allow_unused=True)
        with torch.no_grad():  # the virtual step w' = w - xi * (grad + wd * w)
            for p, w, g in zip(params, w0, grads, strict=True):
                p.copy_(w - xi * ((0 if g is None else g) + self.settings.w_weight_decay * w))
        logits = self.forward(net, alpha, xv, 0)
        v_loss = ce(logits, yv)
        term = self.penalty(alpha)
        found = torch.autograd.grad(
            v_loss if term is None else v_loss + term, [alpha, *params], allow_unused=True
        )
        d_alpha = found[0]
        dw = [torch.zeros_like(p) if g is None else g for p, g in zip(params, found[1:], strict=True)]
        norm = torch.sqrt(torch.stack([(g * g).sum() for g in dw]).sum())
        eps = 0.01 / max(float(norm), 1e-12)

        def alpha_grad_at(sign: float) -> torch.Tensor:
            with torch.no_grad():
                for p, w, g in zip(params, w0, dw, strict=True):
                    p.copy_(w + sign * eps * g)
            return torch.autograd.grad(ce(self.forward(net, alpha, xt, 0), yt), alpha)[0]

        hessian = (alpha_grad_at(1.0) - alpha_grad_at(-1.0)) / (2 * eps)
        with torch.no_grad():
            for p, w in zip(params, w0, strict=True):
                p.copy_(w)
        alpha.grad = (torch.zeros_like(alpha) if d_alpha is None else d_alpha) - xi * hessian
        return v_loss.detach(), logits.detach()


def _batch_sums(loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor, offset: int = 0) -> np.ndarray:
    out = np.zeros(6)
    n = len(y)
    out[offset : offset + 3] = (float(loss.detach()) * n, int((logits.argmax(1) == y).sum()), n)
    return out


@register_oneshot("darts-v1")
class DARTSFirstOrder(Bilevel):
    """DARTS, first order (Liu et al. 2019): softmax mixture, alternating steps, argmax."""

    paper = "Liu, Simonyan & Yang, DARTS: Differentiable Architecture Search, ICLR 2019 (first order)"


@register_oneshot("darts-v2")
class DARTSSecondOrder(Bilevel):
    """DARTS, second order (Liu et al. 2019): one-step unrolled weights, finite-difference Hessian."""

    paper = "Liu, Simonyan & Yang, DARTS: Differentiable Architecture Search, ICLR 2019 (second order)"
    second_order = True
