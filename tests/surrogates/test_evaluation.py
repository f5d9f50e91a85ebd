"""Evaluation metrics: known values, edge cases, the sweep and the noise ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from surrogates.evaluation import (
    as_fraction_of_ceiling,
    evaluate,
    kendall_tau,
    pearson_r,
    r2,
    sparse_kendall_tau,
    spearman_rho,
    top_k_precision,
    train_size_sweep,
)


def test_perfect_and_reversed_rankings() -> None:
    y = np.arange(20, dtype=float)
    assert kendall_tau(y, y) == pytest.approx(1.0)
    assert spearman_rho(y, -y) == pytest.approx(-1.0)
    assert r2(y, y) == pytest.approx(1.0)
    assert r2(y, np.full_like(y, y.mean())) == pytest.approx(0.0)
    assert top_k_precision(y, y, 0.1) == 1.0 and top_k_precision(y, -y, 0.1) == 0.0


def test_known_kendall_value() -> None:
    # one discordant pair of the 6 pairs: tau = (5 - 1) / 6
    assert kendall_tau(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 4, 3])) == pytest.approx(4 / 6)


def test_sparse_kendall_forgives_sub_resolution_noise() -> None:
    truth = np.array([90.01, 90.02, 90.03, 80.0, 70.0])
    pred = np.array([90.03, 90.02, 90.01, 80.0, 70.0])
    assert kendall_tau(truth, pred) < sparse_kendall_tau(truth, pred) == pytest.approx(1.0)


def test_nan_pairs_are_dropped_and_shapes_checked() -> None:
    y = np.array([1.0, 2.0, np.nan, 4.0])
    assert pearson_r(y, y) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        kendall_tau(np.ones(3), np.ones(4))


def test_sweep_with_a_real_model() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = x @ np.array([3.0, -2.0, 1.0, 0.0, 0.5]) + rng.normal(scale=0.1, size=400)

    class LeastSquares:
        def fit(self, a: np.ndarray, b: np.ndarray) -> LeastSquares:
            self.w = np.linalg.lstsq(a, b, rcond=None)[0]
            return self

        def predict(self, a: np.ndarray) -> np.ndarray:
            return a @ self.w

    points = train_size_sweep(lambda s: LeastSquares(), x, y, [0.05, 0.5], repeats=3, seed=1)
    assert [p.train_size for p in points] == [20, 200]
    assert points[1].mean["r2"] > 0.99 and points[1].std["r2"] >= 0
    assert set(points[0].mean) == set(evaluate(y, y))


def test_fraction_of_ceiling() -> None:
    scores = evaluate(np.arange(10.0), np.arange(10.0))
    ceiling = {**scores, "kendall_tau": 0.5}
    assert as_fraction_of_ceiling(scores, ceiling)["kendall_tau"] == pytest.approx(2.0)
