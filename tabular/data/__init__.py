"""Datasets as tensors: load once, split, resize, normalise, and say where the data came from.

``load_data(DataConfig("fashion-mnist", resolution=16))`` returns :class:`DataSplits` with
train/valid/test tensors, a fingerprint of the exact data and the provenance a table stores
(``describe()``). Known names: ``fashion-mnist`` (Xiao et al. 2017), ``mnist``, ``cifar10``,
``cifar100``, ``svhn`` and ``synthetic``. A new dataset plugs in with
``@LOADERS.register("name")`` and a function ``(DataConfig) -> DataSplits`` (usually a
:class:`RawData` handed to :func:`build_splits`).

Importing this package does not import torch; loading does. ``tabular`` and
``tabular.spaces`` never import it.
"""

from __future__ import annotations

from tabular.data import cifar, loaders, synthetic
from tabular.data.base import LOADERS, DataConfig, DataSplits, FileRecord, Loader, RawData, load_data
from tabular.data.idx import read_idx, write_idx
from tabular.data.prepare import build_splits, carve_split

__all__ = [
    "LOADERS",
    "DataConfig",
    "DataSplits",
    "FileRecord",
    "Loader",
    "RawData",
    "build_splits",
    "carve_split",
    "cifar",
    "load_data",
    "loaders",
    "read_idx",
    "synthetic",
    "write_idx",
]
