"""Training throughput on this machine (images/s per core, share of the fp32 peak).

Run with timing: ``pytest tests/benchmarks/test_training_speed.py --benchmark-only -s``.
Nothing here asserts a time; the figures are printed and stored in ``extra_info``.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tabular.budget import get_budget
from tabular.data import DataConfig, load_data
from tabular.perf import cpu_peak, report, training_throughput
from tabular.spaces import NB201Space
from tabular.training import MEMORY_FORMATS

SPACE = NB201Space()
#: a mid-cost cell: two 3x3 convs, a 1x1, a pool, skips
ARCH = SPACE.from_str(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


@pytest.fixture(scope="module")
def small_data():  # type: ignore[no-untyped-def]
    budget = get_budget("small")
    return budget, load_data(
        DataConfig(
            name="fashion-mnist",
            resolution=budget.resolution,
            train_size=budget.train_size,
            valid_size=budget.valid_size,
        )
    )


@pytest.mark.parametrize("memory_format", MEMORY_FORMATS)
def test_training_images_per_second_one_thread(benchmark, small_data, memory_format: str) -> None:  # type: ignore[no-untyped-def]
    import torch

    budget, data = small_data
    one_epoch = replace(budget, epochs=1, train_size=6000)
    torch.set_num_threads(1)
    result = benchmark.pedantic(
        training_throughput,
        args=(SPACE, ARCH, data, one_epoch),
        kwargs={"memory_format": memory_format},
        rounds=2,
        iterations=1,
    )
    benchmark.extra_info.update(result)
    assert result["images_per_second"] > 0 and result["forward_flops"] > 0


def test_fraction_of_fp32_peak(small_data) -> None:  # type: ignore[no-untyped-def]
    import torch

    budget, data = small_data
    torch.set_num_threads(1)
    figures = report(SPACE, ARCH, data, replace(budget, epochs=1, train_size=6000))
    print(json.dumps(figures, indent=2))
    assert 0 < figures["fraction_of_measured_peak"] < 1.5
    assert cpu_peak().measured_gflops_per_core > 0
