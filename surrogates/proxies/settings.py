"""Which network and which batch a proxy computation scores, from a table and the caller's settings.

A table built by nasuite records its budget and dataset in its provenance; those fix the
network and the data. Any other table needs the network given, and a dataset for proxies that
use data (see :mod:`surrogates.proxies.compute`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from surrogates.proxies.base import PROXIES, Proxy, ProxyConfigError
from tabular.budget import TrainBudget

if TYPE_CHECKING:
    import torch

    from tabular.data import DataSplits
    from tabular.models.nb201 import NetworkConfig
    from tabular.table import Table

#: where data-free scores of a table without a dataset go: ``zero_cost/data-free/<proxy>``
DATA_FREE_KEY = "data-free"
NETWORK_FIELDS = ("channels", "cells_per_stage", "in_channels", "num_classes", "resolution")


@dataclass
class Setup:
    """Where scores go (``key``), the network, and the data to load (``None``: data-free only)."""

    key: str
    network: NetworkConfig
    data_name: str | None
    data_config: Any  # tabular.data.DataConfig, or None when no dataset is known
    fingerprint: str | None = None
    notes: list[str] = field(default_factory=list)


def network_config(value: NetworkConfig | Mapping[str, int], base: NetworkConfig | None) -> NetworkConfig:
    """``value`` as a config; a mapping may be partial where ``base`` supplies the rest."""
    from tabular.models.nb201 import NetworkConfig

    if isinstance(value, NetworkConfig):
        return value
    unknown = sorted(set(value) - set(NETWORK_FIELDS))
    if unknown:
        raise ProxyConfigError(f"unknown network fields {unknown}; expected some of {list(NETWORK_FIELDS)}")
    missing = [f for f in NETWORK_FIELDS if f not in value]
    if missing and base is None:
        raise ProxyConfigError(
            f"the network needs all of {list(NETWORK_FIELDS)}; missing {missing} "
            "(CLI: --channels --cells --in-channels --classes --resolution)"
        )
    fields = {f: int(value[f]) if f in value else int(getattr(base, f)) for f in NETWORK_FIELDS}
    try:
        return NetworkConfig(**fields)
    except ValueError as exc:
        raise ProxyConfigError(str(exc)) from exc


def resolve_setup(
    table: Table,
    chosen: list[Proxy],
    dataset: str | None,
    network: NetworkConfig | Mapping[str, int] | None,
    data_root: str | None = None,
) -> Setup:
    from tabular.data import DataConfig
    from tabular.models.nb201 import NetworkConfig

    prov = table.provenance
    if prov.get("kind") == "built" and "budget" in prov:
        budget = TrainBudget.from_dict(dict(prov["budget"]))
        ds = dict(prov.get("dataset", {}))
        name = str(ds.get("name", ""))
        if dataset is not None and dataset != name:
            raise ProxyConfigError(
                f"this table was built on {name!r}; its networks have that dataset's classes and shape, "
                f"so proxies are computed on {name!r} (got dataset {dataset!r})"
            )
        built = NetworkConfig(
            channels=budget.channels,
            cells_per_stage=budget.cells_per_stage,
            in_channels=int(ds["in_channels"]),
            num_classes=int(ds["num_classes"]),
            resolution=int(ds.get("resolution", budget.resolution)),
        )
        net = network_config(network, built) if network is not None else None
        if net is not None and (net.in_channels, net.num_classes) != (built.in_channels, built.num_classes):
            raise ProxyConfigError(
                f"{name!r} has {built.in_channels} input channels and {built.num_classes} classes; the "
                f"network given has {net.in_channels} and {net.num_classes}"
            )
        config = DataConfig(
            name=name,
            root=data_root or ds.get("root"),
            resolution=(net or built).resolution,
            train_size=budget.train_size,
            valid_size=budget.valid_size,
            split_seed=int(ds.get("split_seed", 0)),
        )
        notes = [] if net is None or net == built else [f"network overrides the build's {built}"]
        return Setup(name, net or built, name, config, ds.get("fingerprint"), notes)
    kind = prov.get("kind", "unknown")
    net = network_config(network, None) if network is not None else None
    if net is None:
        raise ProxyConfigError(
            f"this table has no build budget (provenance kind {kind!r}), so the network to score is "
            "unknown; give it: channels, cells per stage, input channels, classes and resolution "
            "(CLI: --channels C --cells N --in-channels I --classes K --resolution R)"
        )
    if dataset is None:
        needy = [p.name for p in chosen if not p.data_free]
        if needy:
            raise ProxyConfigError(
                f"{'proxy' if len(needy) == 1 else 'proxies'} {', '.join(needy)} "
                f"{'needs' if len(needy) == 1 else 'need'} data, and this table (provenance kind {kind!r}) "
                f"names none; give a dataset (CLI: --dataset NAME), or use only data-free proxies: "
                f"{', '.join(n for n in PROXIES.names() if PROXIES.get(n).data_free)}"
            )
        return Setup(DATA_FREE_KEY, net, None, None)
    return Setup(dataset, net, dataset, DataConfig(name=dataset, root=data_root, resolution=net.resolution))


def describe_network(space: str, net: NetworkConfig) -> str:
    return (
        f"{space} C={net.channels} N={net.cells_per_stage} in={net.in_channels} "
        f"classes={net.num_classes} {net.resolution}x{net.resolution}"
    )


def draw_batch(
    setup: Setup, batch_size: int, seed: int, needs_data: bool
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """One fixed batch of training images drawn with ``seed`` (zeros of the right shape if no data)."""
    import torch

    from tabular.data import load_data

    net = setup.network
    if not needs_data or setup.data_config is None:
        shape = (batch_size, net.in_channels, net.resolution, net.resolution)
        return torch.zeros(shape), torch.zeros(batch_size, dtype=torch.long), "no data"
    data: DataSplits = load_data(setup.data_config)
    if (data.in_channels, data.num_classes) != (net.in_channels, net.num_classes):
        raise ProxyConfigError(
            f"dataset {data.name!r} has {data.in_channels} input channels and {data.num_classes} classes; "
            f"the network has {net.in_channels} and {net.num_classes}"
        )
    if setup.fingerprint and data.fingerprint != setup.fingerprint:
        setup.notes.append(
            f"the data loaded now (fingerprint {data.fingerprint[:16]}) differ from the build's "
            f"({setup.fingerprint[:16]})"
        )
    n = len(data.y_train)
    if batch_size > n:
        raise ProxyConfigError(f"batch_size {batch_size} exceeds the {n} training images of {data.name!r}")
    gen = torch.Generator().manual_seed(seed)  # local: the caller's RNG is not advanced
    index = torch.randperm(n, generator=gen)[:batch_size]
    desc = (
        f"{data.name} train split (split seed {data.config.split_seed}, fingerprint {data.fingerprint[:16]})"
    )
    return data.x_train[index].clone(), data.y_train[index].clone(), desc
