"""REINFORCE (Williams 1992, "Simple statistical gradient-following algorithms for
connectionist reinforcement learning") as run on NAS-Bench-201 (Dong & Yang 2020).

The NB201 baseline keeps one logit vector per edge of the cell, samples an architecture from
the product of categoricals, uses the accuracy as the reward, subtracts a bias-corrected
exponential moving average of the rewards (momentum 0.9) and updates the logits with Adam
(``bash ./scripts-search/algos/REINFORCE.sh 0.5 -1``: learning rate 0.5). Here the policy is
plain numpy: the gradient of ``log pi(a)`` for a softmax is ``onehot(a) - p`` per decision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from suite.errors import SearchSettingsError
from suite.strategies.base import Strategy, Trial
from suite.strategies.context import Arch, SearchContext
from suite.strategies.registry import register_strategy


class Adam:
    """Adam (Kingma & Ba 2015) on one flat parameter vector, as ``torch.optim.Adam`` defaults."""

    def __init__(
        self, size: int, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.m = np.zeros(size)
        self.v = np.zeros(size)
        self.t = 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        """One descent step on ``params`` (in place) for the loss gradient ``grad``."""
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1 - self.beta2) * grad * grad
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        params -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class MovingAverage:
    """The NB201 baseline: an EMA divided by the EMA of ones, so early values are not biased to 0."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self.numerator = 0.0
        self.denominator = 0.0

    def update(self, value: float) -> None:
        self.numerator = self.momentum * self.numerator + (1 - self.momentum) * value
        self.denominator = self.momentum * self.denominator + (1 - self.momentum)

    @property
    def value(self) -> float:
        return self.numerator / self.denominator if self.denominator else 0.0


@register_strategy("reinforce")
class Reinforce(Strategy):
    """REINFORCE with a per-decision categorical policy, an EMA baseline and Adam (NB201)."""

    def __init__(
        self,
        *,
        context: SearchContext,
        seed: int,
        learning_rate: float = 0.5,
        ema_momentum: float = 0.9,
        max_resamples: int = 10,
    ) -> None:
        super().__init__(context=context, seed=seed)
        if not (math.isfinite(learning_rate) and learning_rate > 0):
            raise SearchSettingsError(f"learning_rate must be a finite number > 0, got {learning_rate}")
        if not 0 <= ema_momentum < 1:
            raise SearchSettingsError(f"ema_momentum must be in [0, 1), got {ema_momentum}")
        if isinstance(max_resamples, bool) or not isinstance(max_resamples, int) or max_resamples < 0:
            raise SearchSettingsError(f"max_resamples must be an int >= 0, got {max_resamples!r}")
        self.learning_rate = float(learning_rate)
        self.ema_momentum = float(ema_momentum)
        self.max_resamples = max_resamples
        cards = np.asarray(context.space.cardinalities, dtype=np.int64)
        #: where each decision's logits start in the flat vector (decisions may differ in size)
        self._offsets = np.concatenate([[0], np.cumsum(cards)[:-1]])
        self._cards = cards
        # NB201 initialises the logits at 1e-3 * N(0, 1): a near-uniform policy
        self.logits = 1e-3 * self.rng.standard_normal(int(cards.sum()))
        self.optimizer = Adam(self.logits.size, self.learning_rate)
        self.baseline = MovingAverage(self.ema_momentum)
        #: the cell each outstanding trial evaluates, by trial number (tells come in any order)
        self.pending: dict[int, Arch] = {}
        self.n_fallbacks = 0

    # ---- the policy
    def probabilities(self) -> list[np.ndarray]:
        """The policy's categorical distribution of each decision."""
        out = []
        for start, card in zip(self._offsets, self._cards, strict=True):
            z = self.logits[start : start + card]
            e = np.exp(z - z.max())
            out.append(e / e.sum())
        return out

    def entropy(self) -> float:
        """Total entropy of the policy in nats (log of the space size when uniform)."""
        return float(sum(-(p * np.log(np.maximum(p, 1e-300))).sum() for p in self.probabilities()))

    def _sample_policy(self) -> Arch:
        return tuple(int(self.rng.choice(p.size, p=p)) for p in self.probabilities())

    def ask(self) -> Trial:
        arch = self._sample_policy()
        resamples = 0
        while not self.context.is_feasible(arch):
            if resamples == self.max_resamples:
                # Under a tight constraint (or a partial table) the policy can put almost no mass
                # on feasible cells, and rejection would then loop for a long time; a uniform
                # feasible cell keeps the run going, and its reward still trains the policy.
                arch = self.context.sample(self.rng)
                self.n_fallbacks += 1
                break
            arch = self._sample_policy()
            resamples += 1
        trial = self._trial(arch)
        self.pending[trial.number] = trial.arch
        return trial

    def tell(self, trial: Trial, values: Sequence[float]) -> None:
        arch = self.pending.pop(trial.number, trial.arch)
        reward = self.utility(values)
        if not math.isfinite(reward):
            return  # a failed run says nothing about the policy: no baseline update, no step
        # NB201 order: update the baseline with this reward, then step on -(r - b) log pi(a)
        self.baseline.update(reward)
        advantage = reward - self.baseline.value
        # Gradient at the current logits: with asynchronous tells the policy may have moved
        # since the ask, and this is what autograd on a recomputed log-prob would give.
        grad = np.zeros_like(self.logits)
        for start, card, p, action in zip(
            self._offsets, self._cards, self.probabilities(), arch, strict=True
        ):
            onehot = np.zeros(card)
            onehot[action] = 1.0
            grad[start : start + card] = -advantage * (onehot - p)
        self.optimizer.step(self.logits, grad)
