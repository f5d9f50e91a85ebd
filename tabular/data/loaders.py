"""Loaders for image datasets stored as files: Fashion-MNIST and MNIST (IDX), SVHN (.mat).

Files are looked for under ``DataConfig.root`` (the folder itself and the layouts that
torchvision and common mirrors use) or, when no root is given, in the system copy that a
Debian package installs. With ``download=True`` torchvision fetches missing files into
``root``; we still read them ourselves, so downloaded and pre-installed copies give the
same tensors and the same fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from tabular.data.base import LOADERS, DataConfig, DataSplits, FileRecord, RawData
from tabular.data.idx import read_idx
from tabular.data.prepare import array_digest, build_splits, content_digests
from tabular.errors import DataConfigError, DatasetNotFoundError

FASHION_MNIST_REFERENCE = (
    "Xiao, Rasul & Vollgraf (2017), Fashion-MNIST: a Novel Image Dataset for Benchmarking "
    "Machine Learning Algorithms, arXiv:1708.07747"
)
MNIST_REFERENCE = (
    "LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document recognition"
)
SVHN_REFERENCE = "Netzer et al. (2011), Reading Digits in Natural Images with Unsupervised Feature Learning"

# Where Debian's dataset-fashion-mnist package puts the four files.
SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

_IDX_FILES = {
    "train_images": ("train-images", "idx3"),
    "train_labels": ("train-labels", "idx1"),
    "test_images": ("t10k-images", "idx3"),
    "test_labels": ("t10k-labels", "idx1"),
}


def _idx_candidates(stem: str, kind: str) -> tuple[str, ...]:
    # uncompressed first: torchvision leaves both, and reading the plain file skips inflating it
    names = (f"{stem}-{kind}-ubyte", f"{stem}.{kind}-ubyte")
    return names + tuple(n + ".gz" for n in names)


def find_files(
    folders: Sequence[Path], wanted: Mapping[str, tuple[str, ...]]
) -> tuple[Path, dict[str, Path]] | str:
    """The first folder holding a file for every role in ``wanted`` (role -> candidate names).

    Returns ``(folder, role -> path)``, or a report of what each folder lacked.
    """
    report = []
    for folder in folders:
        found = {
            role: next((folder / n for n in names if (folder / n).is_file()), None)
            for role, names in wanted.items()
        }
        if all(found.values()):
            return folder, {role: p for role, p in found.items() if p is not None}
        if not folder.is_dir():
            report.append(f"{folder} (no such folder)")
        else:
            missing = [wanted[role][0] for role, p in found.items() if p is None]
            report.append(f"{folder} (missing {', '.join(missing)})")
    return "; ".join(report)


def _need_root(config: DataConfig, title: str) -> Path:
    if config.root is None:
        raise DataConfigError(
            f"{title}: download=True needs a root folder to download into (DataConfig(root=...), --data-root)"
        )
    return Path(config.root).expanduser()


def _torchvision_download(config: DataConfig, title: str, class_name: str, **kwargs: object) -> None:
    """Let torchvision fetch ``class_name``'s files into ``config.root`` (only with ``download=True``)."""
    root = _need_root(config, title)
    try:
        import torchvision.datasets as tvd
    except ImportError as exc:
        raise DatasetNotFoundError(f"{title}: download=True needs torchvision (not installed)") from exc
    getattr(tvd, class_name)(str(root), download=True, **kwargs)


def _load_idx_dataset(
    config: DataConfig, *, title: str, folders: list[Path], hint: str, tv_class: str, reference: str
) -> DataSplits:
    wanted = {role: _idx_candidates(*parts) for role, parts in _IDX_FILES.items()}
    hit = find_files(folders, wanted)
    if isinstance(hit, str) and config.download:
        _torchvision_download(config, title, tv_class)
        hit = find_files(folders, wanted)
    if isinstance(hit, str):
        raise DatasetNotFoundError(f"{title} not found; looked in: {hit}. {hint}")
    folder, paths = hit
    arrays: dict[str, np.ndarray] = {}
    files = []
    for role, path in paths.items():
        array, record = read_idx(path, ndim=3 if role.endswith("images") else 1)
        arrays[role] = array
        files.append(FileRecord(role, record.path, record.sha256, record.bytes))
    raw = RawData(
        name=config.name,
        train_images=arrays["train_images"][:, None],  # IDX images are N x H x W, one channel
        train_labels=arrays["train_labels"],
        test_images=arrays["test_images"][:, None],
        test_labels=arrays["test_labels"],
        num_classes=10,
        content={role: array_digest(a) for role, a in sorted(arrays.items())},
        train_source="train",
        test_source="t10k",
        root=str(folder),
        files=tuple(files),
        reference=reference,
    )
    return build_splits(config, raw)


def _root_folders(config: DataConfig, *subfolders: str) -> list[Path]:
    if config.root is None:
        return []
    root = Path(config.root).expanduser()
    return [root, *(root / s for s in subfolders)]


@LOADERS.register("fashion-mnist")
def load_fashion_mnist(config: DataConfig) -> DataSplits:
    """Fashion-MNIST (Xiao et al. 2017): 60,000 train and 10,000 test 28x28 grey images, 10 classes.

    Looks in ``root``, ``root/FashionMNIST/raw`` (torchvision's layout) and
    ``root/fashion-mnist``; without a root, in Debian's ``/usr/share/datasets/fashion-mnist``.
    A given root is searched alone, so an explicit folder is never silently swapped for another.
    """
    if config.root is None:
        folders = [SYSTEM_FASHION_MNIST]
    else:
        folders = _root_folders(config, "FashionMNIST/raw", "fashion-mnist")
    hint = (
        "Get it with `apt-get install dataset-fashion-mnist` (files go to "
        f"{SYSTEM_FASHION_MNIST}/, used when no root is given), or pass --download "
        "(DataConfig(download=True, root=...)) to fetch it with torchvision's "
        "FashionMNIST(root, download=True)."
    )
    return _load_idx_dataset(
        config,
        title="Fashion-MNIST",
        folders=folders,
        hint=hint,
        tv_class="FashionMNIST",
        reference=FASHION_MNIST_REFERENCE,
    )


@LOADERS.register("mnist")
def load_mnist(config: DataConfig) -> DataSplits:
    """MNIST (LeCun et al. 1998) from IDX files in ``root``, ``root/MNIST/raw`` or ``root/mnist``."""
    hint = (
        "Put the four IDX files (train-images-idx3-ubyte.gz, ...) in root, or pass --download "
        "(DataConfig(download=True, root=...)) to fetch them with torchvision's MNIST(root, download=True)."
    )
    if config.root is None:
        raise DatasetNotFoundError(f"MNIST has no system copy; give DataConfig(root=...). {hint}")
    return _load_idx_dataset(
        config,
        title="MNIST",
        folders=_root_folders(config, "MNIST/raw", "mnist"),
        hint=hint,
        tv_class="MNIST",
        reference=MNIST_REFERENCE,
    )


def _read_svhn_mat(path: Path) -> tuple[np.ndarray, np.ndarray, FileRecord]:
    try:
        from scipy.io import loadmat
    except ImportError as exc:
        raise DataConfigError(f"reading SVHN's {path.name} needs scipy, which is not installed") from exc
    raw = path.read_bytes()
    record = FileRecord(path.stem, str(path), hashlib.sha256(raw).hexdigest(), len(raw))
    try:
        mat = loadmat(path)
        images, labels = np.asarray(mat["X"]), np.asarray(mat["y"]).reshape(-1).astype(np.int64)
    except (KeyError, ValueError, OSError, TypeError) as exc:
        raise DataConfigError(f"{path} is not a readable SVHN .mat file ({exc})") from exc
    if images.ndim != 4 or images.shape[:3] != (32, 32, 3) or images.dtype != np.uint8:
        raise DataConfigError(f"{path}: X has shape {images.shape} {images.dtype}, expected 32x32x3xN uint8")
    labels[labels == 10] = 0  # SVHN files store the digit 0 as class 10
    # X is H x W x C x N; the rest of nasuite wants N x C x H x W
    return np.ascontiguousarray(images.transpose(3, 2, 0, 1)), labels, record


@LOADERS.register("svhn")
def load_svhn(config: DataConfig) -> DataSplits:
    """SVHN cropped digits (Netzer et al. 2011), ``train_32x32.mat`` and ``test_32x32.mat``; no ``extra``."""
    title = "SVHN"
    hint = "Pass --download (DataConfig(download=True, root=...)) to fetch it with torchvision's SVHN."
    if config.root is None and not config.download:
        raise DatasetNotFoundError(f"{title} has no system copy; give DataConfig(root=...). {hint}")
    folders = _root_folders(config, "svhn")
    wanted: dict[str, tuple[str, ...]] = {"train": ("train_32x32.mat",), "test": ("test_32x32.mat",)}
    hit = find_files(folders, wanted)
    if isinstance(hit, str) and config.download:
        for split in ("train", "test"):
            _torchvision_download(config, title, "SVHN", split=split)
        hit = find_files(_root_folders(config, "svhn"), wanted)
    if isinstance(hit, str):
        raise DatasetNotFoundError(f"{title} not found; looked in: {hit}. {hint}")
    folder, paths = hit
    x_train, y_train, rec_train = _read_svhn_mat(paths["train"])
    x_test, y_test, rec_test = _read_svhn_mat(paths["test"])
    raw = RawData(
        name=config.name,
        train_images=x_train,
        train_labels=y_train,
        test_images=x_test,
        test_labels=y_test,
        num_classes=10,
        content=content_digests(x_train, y_train, x_test, y_test),
        train_source="train_32x32",
        test_source="test_32x32",
        root=str(folder),
        files=(rec_train, rec_test),
        reference=SVHN_REFERENCE,
    )
    return build_splits(config, raw)
