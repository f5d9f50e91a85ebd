"""Dataset settings, the loaded splits, and the registry that maps a dataset name to its loader.

Torch is only named in annotations here; the tensors are made in :mod:`tabular.data.prepare`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tabular.errors import DataConfigError
from tabular.registry import Registry

if TYPE_CHECKING:
    import numpy as np
    import torch

# The images each dataset's validation split takes from its training set when the config leaves
# ``valid_size`` unset; the synthetic set is small, so 5,000 would not even fit in it.
DEFAULT_VALID_SIZE = 5000


@dataclass(frozen=True)
class DataConfig:
    """Which dataset to load and how to split, resize and find it.

    ``name`` is one of ``fashion-mnist``, ``mnist``, ``cifar10``, ``cifar100``, ``svhn``,
    ``synthetic``. ``root`` is a folder holding the files (``None``: the system copy, where
    there is one). ``resolution`` resizes every image to a square of that side (``None``:
    native). The validation split takes ``valid_size`` images (``None``: the dataset's default,
    5,000, or 500 for ``synthetic``) from the training set, chosen by ``split_seed``; the
    training split is then cut to its first ``train_size`` images (``None``: all that remain).
    ``download`` lets torchvision fetch the files into ``root`` when they are missing.
    """

    name: str
    root: str | None = None
    resolution: int | None = None
    train_size: int | None = None
    valid_size: int | None = None
    split_seed: int = 0
    download: bool = False

    def __post_init__(self) -> None:
        for what in ("resolution", "train_size", "valid_size"):
            value = getattr(self, what)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise DataConfigError(f"DataConfig.{what} must be a positive integer or None, got {value!r}")
        if isinstance(self.split_seed, bool) or not isinstance(self.split_seed, int) or self.split_seed < 0:
            raise DataConfigError(
                f"DataConfig.split_seed must be a non-negative integer, got {self.split_seed!r}"
            )


@dataclass(frozen=True)
class FileRecord:
    """One file a dataset was read from: what it holds, where it is, and its sha256."""

    role: str
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True, eq=False)
class RawData:
    """A dataset as its loader read it, before splitting: images ``N x C x H x W``.

    ``images`` are ``uint8`` (scaled by 1/255 later) or ``float32`` (used as they are).
    ``content`` identifies the data for the fingerprint: digests of the arrays for files,
    the generator's parameters for made-up data.
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    num_classes: int
    content: dict[str, Any]
    train_source: str = "train"
    test_source: str = "test"
    root: str | None = None
    files: tuple[FileRecord, ...] = ()
    default_valid_size: int = DEFAULT_VALID_SIZE
    reference: str = ""


@dataclass(frozen=True, eq=False)
class DataSplits:
    """Train, validation and test tensors of one dataset, ready for training.

    Images are ``float32`` ``N x C x H x W``, normalised per channel with the training
    split's ``mean``/``std`` (after resizing; pixels scaled to ``[0, 1]`` first); labels are
    ``int64``. ``train_index``/``valid_index`` are positions in the original training set.
    ``fingerprint`` is a sha256 over the data's identity (array digests or generator
    parameters), the split seed, the split sizes and the resolution.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    in_channels: int
    resolution: int
    fingerprint: str
    split_source: dict[str, str]
    config: DataConfig
    native_resolution: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    train_index: np.ndarray
    valid_index: np.ndarray
    root: str | None = None
    files: tuple[FileRecord, ...] = ()
    reference: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "valid": len(self.y_valid), "test": len(self.y_test)}

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """One sample's shape, ``(C, H, W)``, as the network builders take it."""
        return (self.in_channels, self.resolution, self.resolution)

    def describe(self) -> dict[str, Any]:
        """The provenance a table stores beside its results; plain JSON types only."""
        resized = self.resolution != self.native_resolution
        return {
            "name": self.name,
            "reference": self.reference,
            "root": self.root,
            "files": [dataclasses.asdict(f) for f in self.files],
            "sizes": self.sizes,
            "num_classes": self.num_classes,
            "in_channels": self.in_channels,
            "resolution": self.resolution,
            "native_resolution": self.native_resolution,
            "resize": "bilinear, antialias=True" if resized else None,
            "split_seed": self.config.split_seed,
            "valid_size": len(self.y_valid),
            "train_size": self.config.train_size,
            "split_source": dict(self.split_source),
            "normalisation": {
                "scale": "pixels / 255" if self.extra.get("uint8", True) else "none (made as floats)",
                "mean": list(self.mean),
                "std": list(self.std),
                "computed_on": "train split, per channel, after resizing",
            },
            "fingerprint": self.fingerprint,
            **({"generator": self.extra["generator"]} if "generator" in self.extra else {}),
        }


Loader = Callable[[DataConfig], "DataSplits"]

#: Dataset name -> loader; a new dataset plugs in with ``@LOADERS.register("name")``.
LOADERS: Registry[Loader] = Registry("dataset")


def load_data(config: DataConfig) -> DataSplits:
    """Load, split, resize and normalise the dataset ``config`` names, once, into tensors.

    Raises :class:`~tabular.errors.UnknownNameError` (listing the known names) for an
    unregistered dataset, :class:`~tabular.errors.DatasetNotFoundError` when its files are
    missing and :class:`~tabular.errors.DataConfigError` for unusable settings or files.
    """
    return LOADERS.get(config.name)(config)
