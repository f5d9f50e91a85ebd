"""Speed of the predictors: XGBoost fitted on 1,500 NB201 cells, then predicting all 15,625."""

from __future__ import annotations

import numpy as np

from surrogates.encodings import make_features
from surrogates.predictors import get_predictor
from tabular.table import Table


def test_xgb_fit_1500_predict_all(benchmark, nb201_table: Table) -> None:  # type: ignore[no-untyped-def]
    rows = np.random.default_rng(0).choice(nb201_table.n_rows, 1500, replace=False)
    features = make_features(nb201_table.space, nb201_table.choices, "onehot")
    targets = nb201_table.metric("cifar10", "test@200")

    def fit_and_predict() -> np.ndarray:
        model = get_predictor("xgb", seed=0).fit(features[rows], targets[rows])
        return model.predict(features)

    predictions = benchmark.pedantic(fit_and_predict, rounds=3, iterations=1)
    assert predictions.shape == (15_625,) and np.isfinite(predictions).all()
