"""What a one-shot search trains on: the table's space, dataset, split, budget and network size.

A built table (``nasuite table build`` or ``LiveBenchmark.create``) records its build settings:
dataset, budget (C, N, resolution, train/valid sizes) and split seed. The supernet is trained on
exactly that data, loaded as the builder loads it (:func:`tabular.builder.worker.load_build_data`),
at the table's ``NetworkConfig``, so the derived cell's table accuracy is the accuracy of the
network the search was shaped by. Published tables (NB201's CSVs) record no data to train on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from suite.errors import OneShotError
from suite.oneshot.supernet import check_space
from tabular.budget import TrainBudget
from tabular.spaces.base import SearchSpace

if TYPE_CHECKING:
    import torch

    from tabular.data import DataSplits
    from tabular.models.nb201 import NetworkConfig
    from tabular.table import Table


@dataclass(frozen=True, eq=False)
class OneShotSetup:
    """The space, table, data and network a search runs on, and the device."""

    space: SearchSpace
    table: Table
    dataset: str
    budget: TrainBudget
    data: DataSplits
    config: NetworkConfig
    device: torch.device


def check_splits(data: DataSplits) -> None:
    """Bilevel and inherited-weight searches need images in both the train and the valid split."""
    sizes = data.sizes
    for split in ("train", "valid"):
        if sizes[split] < 1:
            raise OneShotError(
                f"dataset {data.name!r} has no {split} images (sizes {sizes}); one-shot search trains "
                "weights on the train split and chooses the architecture on the valid split"
            )


def build_settings(benchmark: Any) -> dict[str, Any]:
    """The table's recorded build settings; a typed error when it has none."""
    table = getattr(benchmark, "table", None)
    build = table.raw.root_attrs.get("build") if table is not None else None
    if not build:
        raise OneShotError(
            f"the benchmark's table ({getattr(getattr(table, 'raw', None), 'path', None)}) records no build "
            "settings (dataset, budget, split); one-shot search trains on a built table's data: use a table "
            "made by `nasuite table build` or LiveBenchmark.create"
        )
    return dict(build)


def prepare(
    benchmark: Any,
    device: str | None = None,
    data: DataSplits | None = None,
    data_root: str | None = None,
) -> OneShotSetup:
    """Check the space, load the table's data (or check ``data``), and pick the device."""
    from tabular.builder.plan import BuildSpec
    from tabular.builder.worker import load_build_data
    from tabular.training import network_config, pick_device

    check_space(benchmark.space)
    build = build_settings(benchmark)
    budget = TrainBudget.from_dict(dict(build["budget"]))
    dataset = str(build["dataset"])
    if getattr(benchmark, "dataset", dataset) != dataset:
        raise OneShotError(
            f"the benchmark reads {benchmark.dataset!r} but its table was built on {dataset!r}"
        )
    if data is None:
        spec_root = getattr(getattr(benchmark, "spec", None), "data_root", None)
        spec = BuildSpec(
            space=str(build["space"]),
            dataset=dataset,
            budget=budget,
            split_seed=int(build.get("split_seed", 0)),
            data_root=data_root or spec_root,
        )
        data = load_build_data(spec)
        want = build.get("data_fingerprint")
        if want and data.fingerprint != want:
            raise OneShotError(
                f"the {dataset} data found (fingerprint {data.fingerprint[:16]}) differ from the data the "
                f"table was built on ({str(want)[:16]}); pass data_root pointing at those"
            )
    check_splits(data)
    return OneShotSetup(
        space=benchmark.space,
        table=benchmark.table,
        dataset=dataset,
        budget=budget,
        data=data,
        config=network_config(budget, data),
        device=pick_device(device),
    )
