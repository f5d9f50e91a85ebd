"""GDAS: Dong & Yang, "Searching for A Robust Neural Architecture in Four GPU Hours", CVPR 2019.

Instead of DARTS's mixture of all ops, every forward samples one op per edge with the
Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017): ``soft = softmax((log_softmax(alpha)
+ g) / tau)`` with Gumbel noise ``g``, the op is ``argmax(soft)``, and the edge's output is
multiplied by the straight-through one-hot ``hard - soft.detach() + soft`` (value 1, gradient
of ``soft``), so only the sampled op runs and ``alpha`` still gets a gradient. The temperature
``tau`` falls linearly from 10 to 0.1 over the epochs, as in GDAS. Weights and ``alpha`` are
updated alternately on the train and valid splits with DARTS's optimisers (GDAS section 4);
the cell is the argmax of ``alpha`` per edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from suite.errors import SearchSettingsError
from suite.oneshot.base import register_oneshot
from suite.oneshot.darts import Bilevel, DARTSSettings

if TYPE_CHECKING:
    import torch

    from suite.oneshot.supernet import SuperNet


@dataclass(frozen=True)
class GDASSettings(DARTSSettings):
    """DARTS's settings plus GDAS's temperature schedule."""

    tau_max: float = 10.0
    tau_min: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.tau_min <= self.tau_max:
            raise SearchSettingsError(f"need 0 < tau_min <= tau_max, got {self.tau_min}, {self.tau_max}")


def gumbel_hard(
    alpha: torch.Tensor, tau: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Straight-through hard Gumbel-softmax per row: ``(one_hot_st, index)``.

    The noise comes from ``generator`` (on the CPU, then moved), so a seed fixes the samples on
    any device. ``one_hot_st`` has exactly one 1 per row in value; its gradient is the soft sample's.
    """
    import torch

    u = torch.rand(alpha.shape, generator=generator).to(device=alpha.device, dtype=alpha.dtype)
    gumbel = -torch.log(-torch.log(u.clamp(1e-10, 1 - 1e-10)))
    soft = ((alpha.log_softmax(-1) + gumbel) / tau).softmax(-1)
    index = soft.argmax(-1)
    hard = torch.zeros_like(soft).scatter_(-1, index[:, None], 1.0)
    return hard - soft.detach() + soft, index


@register_oneshot("gdas")
class GDAS(Bilevel):
    """GDAS (Dong & Yang 2019): one Gumbel-sampled op per edge per forward, straight-through."""

    paper = "Dong & Yang, Searching for A Robust Neural Architecture in Four GPU Hours, CVPR 2019"
    Settings = GDASSettings
    settings: GDASSettings

    def _run(self, setup: Any, clock: Any) -> Any:
        # the sampling stream is separate from the batch order, and seeded
        self._sampler = self.generator().manual_seed(self.seed + 1)
        self.last_sample: list[int] = []
        return super()._run(setup, clock)

    def tau(self, epoch: int) -> float:
        """Linear decay from ``tau_max`` at the first epoch to ``tau_min`` at the last."""
        s = self.settings
        if s.epochs == 1 or epoch <= 0:
            return s.tau_max
        return s.tau_max - (s.tau_max - s.tau_min) * (epoch - 1) / (s.epochs - 1)

    def forward(self, net: SuperNet, alpha: torch.Tensor, x: torch.Tensor, epoch: int) -> torch.Tensor:
        import torch

        one_hot, index = gumbel_hard(alpha, self.tau(epoch), self._sampler)
        path = [int(i) for i in index.cpu()]
        self.last_sample = path
        scale = one_hot[torch.arange(len(path), device=one_hot.device), index]
        return net(x, path=path, scale=scale)

    def epoch_extra(self, epoch: int) -> dict[str, Any]:
        return {"tau": self.tau(epoch)}
