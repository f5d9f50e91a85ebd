"""A small made-up image set: 10 classes of local oriented patterns in noise, 1 x 16 x 16.

For tests and laptop-sized searches where no real dataset is at hand. Each image is one
pattern under a Gaussian window at a random place, with random phase, contrast and
orientation jitter, plus Gaussian pixel noise:

* classes 0-3: coarse stripes (period ~6 px) at 0, 45, 90, 135 degrees;
* classes 4-7: fine stripes (period ~3 px) at the same four orientations;
* class 8: a plain blob (the window alone); class 9: concentric rings.

Telling the classes apart needs local orientation and frequency detectors that work
wherever the pattern lands, which convolutions give and a linear model on pixels does not;
the noise and jitter keep a briefly trained network well short of 100%.

The images come from a fixed data seed, so every ``split_seed`` sees the same data (as with
a real dataset) and only the train/valid split changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tabular.data.base import LOADERS, DataConfig, DataSplits, RawData
from tabular.data.prepare import build_splits

SYNTHETIC_VERSION = 1
DATA_SEED = 0
NATIVE_SIZE = 16
NUM_CLASSES = 10
TRAIN_SIZE = 2000
VALID_SIZE = 500
TEST_SIZE = 500
NOISE_STD = 0.35


def make_patterns(
    n: int, rng: np.random.Generator, size: int = NATIVE_SIZE, noise_std: float = NOISE_STD
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images ``float32 n x 1 x size x size`` and balanced ``int64`` labels in random order."""
    labels = rng.permutation(np.arange(n) % NUM_CLASSES).astype(np.int64)
    scale = size / NATIVE_SIZE  # keeps the patterns' look when a larger native size is asked
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    cx = rng.uniform(0.3, 0.7, n)[:, None, None] * size
    cy = rng.uniform(0.3, 0.7, n)[:, None, None] * size
    sigma = rng.uniform(2.5, 4.0, n)[:, None, None] * scale
    dx, dy = xx[None] - cx, yy[None] - cy
    window = np.exp(-(dx**2 + dy**2) / (2 * sigma**2))

    kind = labels // 4  # 0 coarse stripes, 1 fine stripes, 2 blob/rings
    angle = np.deg2rad(45.0 * (labels % 4) + rng.normal(0.0, 8.0, n))[:, None, None]
    period = np.where(kind == 0, 6.0, 3.2)[:, None, None] * scale * rng.uniform(0.9, 1.1, n)[:, None, None]
    phase = rng.uniform(0.0, 2 * np.pi, n)[:, None, None]
    along = dx * np.cos(angle) + dy * np.sin(angle)
    pattern = np.cos(2 * np.pi * along / period + phase)
    rings = np.cos(2 * np.pi * np.sqrt(dx**2 + dy**2) / (4.0 * scale) + phase)
    pattern = np.where((labels == 8)[:, None, None], 1.0, pattern)
    pattern = np.where((labels == 9)[:, None, None], rings, pattern)

    contrast = rng.uniform(0.6, 1.2, n)[:, None, None] * rng.choice([-1.0, 1.0], n)[:, None, None]
    images = contrast * window * pattern + rng.normal(0.0, noise_std, (n, size, size))
    return images[:, None].astype(np.float32), labels


def generator_params(pool: int, test: int) -> dict[str, Any]:
    """What decides the synthetic images; it stands in for file digests in the fingerprint."""
    return {
        "generator": "tabular.data.synthetic.make_patterns",
        "version": SYNTHETIC_VERSION,
        "data_seed": DATA_SEED,
        "size": NATIVE_SIZE,
        "noise_std": NOISE_STD,
        "train_pool": pool,
        "test": test,
    }


@LOADERS.register("synthetic")
def load_synthetic(config: DataConfig) -> DataSplits:
    """2,000 train + 500 valid + 500 test images made in code (sizes follow ``config``).

    The training pool holds ``valid_size + train_size`` images (at least 2,500); the test set
    500. ``root`` and ``download`` are ignored: nothing is read or fetched.
    """
    valid = VALID_SIZE if config.valid_size is None else config.valid_size
    pool = max(TRAIN_SIZE + VALID_SIZE, valid + (config.train_size or TRAIN_SIZE))
    # separate streams, so the test set does not change when the training pool grows
    train_rng, test_rng = (np.random.default_rng([DATA_SEED, part]) for part in (0, 1))
    x_train, y_train = make_patterns(pool, train_rng)
    x_test, y_test = make_patterns(TEST_SIZE, test_rng)
    raw = RawData(
        name=config.name,
        train_images=x_train,
        train_labels=y_train,
        test_images=x_test,
        test_labels=y_test,
        num_classes=NUM_CLASSES,
        content={"generator": generator_params(pool, TEST_SIZE)},
        train_source="synthetic pool",
        test_source="synthetic test",
        default_valid_size=VALID_SIZE,
        reference="made in code by tabular.data.synthetic (no paper)",
    )
    return build_splits(config, raw)
