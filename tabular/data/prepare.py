"""From raw arrays to :class:`DataSplits`: carve the validation split, resize once, normalise.

Everything happens once, on whole arrays, so training later only slices tensors.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from tabular.data.base import DataConfig, DataSplits, RawData
from tabular.errors import DataConfigError

if TYPE_CHECKING:
    import torch

# Bump when the processing below changes, so old fingerprints stop matching new tensors.
PIPELINE_VERSION = 1

# Images converted and resized per step: bounds the float copy of the uint8 source
# (8192 CIFAR images at 32x32 are 100 MB as float32).
_CHUNK = 8192


def array_digest(array: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.data.cast("B"))
    return digest.hexdigest()


def carve_split(n: int, valid_size: int, train_size: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, valid)`` into a training set of ``n``: a seeded permutation's first
    ``valid_size`` are valid, the rest (in permuted order) train, cut to ``train_size``."""
    if not 1 <= valid_size < n:
        raise DataConfigError(
            f"valid_size={valid_size} does not fit a training set of {n} images: "
            f"it must be at least 1 and below {n}, so that some images are left to train on"
        )
    if train_size is not None and not 1 <= train_size <= n - valid_size:
        raise DataConfigError(
            f"train_size={train_size} does not fit: {n} training images minus valid_size={valid_size} "
            f"leave {n - valid_size}"
        )
    perm = np.random.default_rng(seed).permutation(n)
    return perm[valid_size:][:train_size], perm[:valid_size]


def _images_to_tensor(images: np.ndarray, index: np.ndarray | None, size: tuple[int, int]) -> torch.Tensor:
    """Float32 copy of ``images[index]`` resized to ``size``, built chunk by chunk."""
    import torch
    import torch.nn.functional as F  # noqa: N812 -- the usual torch alias

    n = len(images) if index is None else len(index)
    c, h, w = images.shape[1:]
    out = torch.empty((n, c, *size), dtype=torch.float32)
    scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        # fancy indexing and np.array both copy, so torch gets a writable array of its own
        block_np = images[index[start:stop]] if index is not None else np.array(images[start:stop])
        block = torch.from_numpy(block_np).to(torch.float32)
        if scale != 1.0:
            block.mul_(scale)
        if (h, w) != size:
            block = F.interpolate(block, size=size, mode="bilinear", antialias=True, align_corners=False)
        out[start:stop] = block
    return out


def _labels_to_tensor(labels: np.ndarray, index: np.ndarray | None) -> torch.Tensor:
    import torch

    picked = labels if index is None else labels[index]
    return torch.from_numpy(np.array(picked, dtype=np.int64))


def _check_raw(raw: RawData) -> None:
    for split, images, labels in (
        ("train", raw.train_images, raw.train_labels),
        ("test", raw.test_images, raw.test_labels),
    ):
        if images.ndim != 4 or len(images) != len(labels):
            raise DataConfigError(
                f"{raw.name} {split}: images of shape {images.shape} do not match {len(labels)} labels "
                "(expected N x C x H x W and N labels)"
            )
        if len(labels) and (labels.min() < 0 or labels.max() >= raw.num_classes):
            raise DataConfigError(
                f"{raw.name} {split}: labels span {labels.min()}..{labels.max()}, "
                f"outside 0..{raw.num_classes - 1}"
            )
    if raw.train_images.shape[1:] != raw.test_images.shape[1:]:
        raise DataConfigError(
            f"{raw.name}: train images {raw.train_images.shape[1:]} and test images "
            f"{raw.test_images.shape[1:]} differ in shape"
        )


def fingerprint(
    content: dict[str, Any], config: DataConfig, valid_size: int, train_size: int, resolution: int
) -> str:
    """sha256 hex over what decides the tensors: the data, the split and the resize."""
    payload = {
        "pipeline": PIPELINE_VERSION,
        "name": config.name,
        "content": content,
        "split_seed": config.split_seed,
        "valid_size": valid_size,
        "train_size": train_size,
        "resolution": resolution,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def build_splits(config: DataConfig, raw: RawData) -> DataSplits:
    """Split ``raw`` as ``config`` says, resize to ``config.resolution`` and normalise with the
    training split's per-channel statistics."""
    _check_raw(raw)
    n_pool = len(raw.train_labels)
    valid_size = raw.default_valid_size if config.valid_size is None else config.valid_size
    train_index, valid_index = carve_split(n_pool, valid_size, config.train_size, config.split_seed)

    _, c, h, w = raw.train_images.shape
    size = (h, w) if config.resolution is None else (config.resolution, config.resolution)
    x_train = _images_to_tensor(raw.train_images, train_index, size)
    x_valid = _images_to_tensor(raw.train_images, valid_index, size)
    x_test = _images_to_tensor(raw.test_images, None, size)

    # population statistics, so that the normalised training split has std exactly 1
    import torch

    var, mean = torch.var_mean(x_train, dim=(0, 2, 3), correction=0)
    std = var.sqrt()
    std = torch.where(std > 0, std, torch.ones_like(std))  # a constant channel stays constant, not NaN
    for x in (x_train, x_valid, x_test):
        x.sub_(mean.view(1, c, 1, 1)).div_(std.view(1, c, 1, 1))

    n_train = len(train_index)
    cut = f"first {n_train}" if config.train_size is not None else f"all {n_train}"
    split_source = {
        "train": f"{cut} of {raw.train_source} ({n_pool}) minus valid, in the order of a seed-"
        f"{config.split_seed} permutation",
        "valid": f"{valid_size} carved from {raw.train_source} ({n_pool}) with seed {config.split_seed}",
        "test": f"{raw.test_source} ({len(raw.test_labels)})",
    }
    extra: dict[str, Any] = {"uint8": raw.train_images.dtype == np.uint8}
    if "generator" in raw.content:
        extra["generator"] = raw.content["generator"]
    return DataSplits(
        name=raw.name,
        x_train=x_train,
        y_train=_labels_to_tensor(raw.train_labels, train_index),
        x_valid=x_valid,
        y_valid=_labels_to_tensor(raw.train_labels, valid_index),
        x_test=x_test,
        y_test=_labels_to_tensor(raw.test_labels, None),
        num_classes=raw.num_classes,
        in_channels=c,
        resolution=size[0],
        fingerprint=fingerprint(raw.content, config, valid_size, n_train, size[0]),
        split_source=split_source,
        config=config,
        native_resolution=h,
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        train_index=train_index,
        valid_index=valid_index,
        root=raw.root,
        files=raw.files,
        reference=raw.reference,
        extra=extra,
    )


def content_digests(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> dict[str, str]:
    """Digests of a dataset's four raw arrays, the content part of its fingerprint."""
    return {
        "train_images": array_digest(x_train),
        "train_labels": array_digest(y_train),
        "test_images": array_digest(x_test),
        "test_labels": array_digest(y_test),
    }
