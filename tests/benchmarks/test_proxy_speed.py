"""Zero-cost proxy throughput at NB201's own network size (C=16, N=5, 32x32), one thread.

Run with timing: ``pytest tests/benchmarks/test_proxy_speed.py --benchmark-only -s``. Nothing
asserts a time; cells/s is printed and stored in ``extra_info``. A cell's cost is building its
network (weights drawn from the seed, as ``compute_proxies`` does) plus scoring it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from surrogates.proxies import get_proxy
from surrogates.proxies.base import seeded
from tabular.models import build_network
from tabular.models.nb201 import NetworkConfig
from tabular.spaces import NB201Space

SPACE = NB201Space()
NB201_NETWORK = NetworkConfig(channels=16, cells_per_stage=5, in_channels=3, num_classes=10, resolution=32)
#: a handful of random non-degenerate cells, fixed by the seed
CELLS = [
    a for a in (SPACE.sample(np.random.default_rng(7)) for _ in range(12)) if not SPACE.is_degenerate(a)
][:5]


@pytest.fixture
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def score_cells(name: str) -> dict[str, float]:
    proxy = get_proxy(name)
    x = torch.zeros((1, *NB201_NETWORK.input_shape))  # synflow is data-free: only the shape counts
    y = torch.zeros(1, dtype=torch.long)
    start = time.perf_counter()
    scores = []
    for arch in CELLS:
        with seeded(0):
            model = build_network(SPACE, arch, NB201_NETWORK)
        scores.append(proxy(model, x, y, seed=0))
    seconds = time.perf_counter() - start
    assert all(np.isfinite(scores))
    return {"cells": len(CELLS), "seconds": seconds, "cells_per_second": len(CELLS) / seconds}


def test_synflow_cells_per_second(benchmark, one_thread) -> None:  # type: ignore[no-untyped-def]
    result = benchmark.pedantic(score_cells, args=("synflow",), rounds=2, iterations=1)
    benchmark.extra_info.update(result, threads=torch.get_num_threads(), network="C=16 N=5 32x32")
    print(f"synflow, C=16 N=5 32x32, 1 thread: {result['cells_per_second']:.2f} cells/s")
    assert result["cells_per_second"] > 0
