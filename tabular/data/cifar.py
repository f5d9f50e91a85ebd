"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009) from the "python version" files torchvision downloads.

Those files are pickles of dicts holding a ``uint8`` array ``data`` (``N x 3072``, channels
first) and label lists. A pickle runs whatever callable it names, so we do not hand them to
``pickle.load`` (as torchvision does): they go through nasuite's restricted unpickler
(:mod:`tabular.importers.safe_pickle`), extended here to rebuild plain numeric numpy arrays
and nothing else.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tabular.data.base import LOADERS, DataConfig, DataSplits, FileRecord, RawData
from tabular.data.loaders import _torchvision_download, find_files
from tabular.data.prepare import build_splits, content_digests
from tabular.errors import DataConfigError, DatasetNotFoundError, UnsafePickleError
from tabular.importers.safe_pickle import SafeUnpickler, _NumericDtype

CIFAR_REFERENCE = "Krizhevsky (2009), Learning Multiple Layers of Features from Tiny Images"

# what a truncated or garbled pickle raises from the C unpickler (our own checks raise UnsafePickleError)
_CORRUPT = (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError)

_NDARRAY = object()  # what the unpickler hands out for ``numpy.ndarray``: only a tag for _reconstruct


def _array_from_bytes(raw: object, dtype: object, shape: object, fortran: bool) -> np.ndarray:
    if not isinstance(dtype, _NumericDtype):
        raise UnsafePickleError(f"numpy array refused: its dtype {dtype!r} is not an allowed numeric dtype")
    if isinstance(raw, str):  # Python 2 pickles (the real CIFAR files) carry the bytes as a latin-1 str
        raw = raw.encode("latin-1")
    if not isinstance(raw, (bytes, bytearray)):
        raise UnsafePickleError(f"numpy array refused: its data is a {type(raw).__name__}, not bytes")
    if not (isinstance(shape, tuple) and all(type(s) is int and s >= 0 for s in shape)):
        raise UnsafePickleError(f"numpy array refused: shape {shape!r:.80} is not a tuple of sizes")
    np_dtype = dtype.to_numpy()
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * np_dtype.itemsize:
        raise UnsafePickleError(
            f"numpy array refused: {len(raw)} bytes do not fill shape {shape} of {np_dtype}"
        )
    return np.frombuffer(raw, dtype=np_dtype).reshape(shape, order="F" if fortran else "C")


class _ArrayBuild:
    """Stand-in for the empty array ``numpy.core.multiarray._reconstruct`` makes before BUILD."""

    __slots__ = ("array",)

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: object) -> None:
        # ndarray.__reduce__ state: (version, shape, dtype, is_fortran, raw bytes)
        if not (isinstance(state, tuple) and len(state) == 5 and type(state[3]) in (bool, int)):
            raise UnsafePickleError(f"numpy array state {state!r:.80} is not that of a plain array")
        _version, shape, dtype, fortran, raw = state
        self.array = _array_from_bytes(raw, dtype, shape, bool(fortran))


def _reconstruct(cls: object, shape: object = (0,), typecode: object = b"b") -> _ArrayBuild:
    if cls is not _NDARRAY:
        raise UnsafePickleError(f"numpy _reconstruct refused for {cls!r}: only numpy.ndarray is allowed")
    return _ArrayBuild()


def _frombuffer(buf: object, dtype: object, shape: object, order: object) -> np.ndarray:
    # how numpy pickles arrays with protocol 5 (Python >= 3.8 writers)
    return _array_from_bytes(buf, dtype, shape, order == "F")


class _ArrayUnpickler(SafeUnpickler):
    """The house's plain-types unpickler, plus numeric ``numpy.ndarray`` values."""

    _EXTRA: ClassVar[dict[tuple[str, str], object]] = {
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # numpy 1.x
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # numpy 2.x
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._EXTRA:
            return self._EXTRA[(module, name)]
        try:
            return super().find_class(module, name)
        except UnsafePickleError as exc:
            raise UnsafePickleError(f"{exc}; plus numeric numpy.ndarray values") from None


def read_cifar_batch(path: Path) -> tuple[dict[str, Any], FileRecord]:
    """One CIFAR batch file as a dict (arrays as numpy), and the file's record."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    record = FileRecord(path.name, str(path), hashlib.sha256(raw).hexdigest(), len(raw))
    try:
        # latin1, as torchvision reads them: the keys were written by Python 2 as byte strings
        entry = _ArrayUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{path}: {exc}") from None
    except _CORRUPT as exc:
        raise DataConfigError(
            f"{path} is truncated or not a CIFAR batch ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(entry, dict):
        raise DataConfigError(f"{path} holds a {type(entry).__name__}, not a CIFAR batch dict")
    return {k: v.array if isinstance(v, _ArrayBuild) else v for k, v in entry.items()}, record


def _batch_arrays(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray, FileRecord]:
    entry, record = read_cifar_batch(path)
    data, labels = entry.get("data"), entry.get(label_key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataConfigError(f"{path}: 'data' should be an N x 3072 uint8 array, got {data!r:.80}")
    if not isinstance(labels, list) or len(labels) != len(data):
        raise DataConfigError(f"{path}: {label_key!r} should be a list of {len(data)} labels")
    # rows are R, G and B planes of 32x32 one after the other: already channels-first
    return data.reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64), record


def _load_cifar(
    config: DataConfig,
    *,
    title: str,
    folder_name: str,
    train: list[str],
    test: str,
    label_key: str,
    classes: int,
) -> DataSplits:
    hint = (
        f"Pass --download (DataConfig(download=True, root=...)) to fetch it with torchvision's "
        f"{title.replace('-', '')}(root, download=True), or extract the python version of {title} into root."
    )
    if config.root is None and not config.download:
        raise DatasetNotFoundError(f"{title} has no system copy; give DataConfig(root=...). {hint}")
    root = Path(config.root).expanduser() if config.root is not None else None
    folders = [root / folder_name, root] if root is not None else []
    wanted: dict[str, tuple[str, ...]] = {name: (name,) for name in [*train, test]}
    hit = find_files(folders, wanted)
    if isinstance(hit, str) and config.download:
        _torchvision_download(config, title, title.replace("-", ""), train=True)
        hit = find_files(folders, wanted)
    if isinstance(hit, str):
        raise DatasetNotFoundError(f"{title} not found; looked in: {hit}. {hint}")
    folder, paths = hit
    parts = [_batch_arrays(paths[name], label_key) for name in train]
    x_test, y_test, test_record = _batch_arrays(paths[test], label_key)
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    raw = RawData(
        name=config.name,
        train_images=x_train,
        train_labels=y_train,
        test_images=x_test,
        test_labels=y_test,
        num_classes=classes,
        content=content_digests(x_train, y_train, x_test, y_test),
        train_source=f"{train[0]}..{train[-1]}" if len(train) > 1 else train[0],
        test_source=test,
        root=str(folder),
        files=(*(p[2] for p in parts), test_record),
        reference=CIFAR_REFERENCE,
    )
    return build_splits(config, raw)


@LOADERS.register("cifar10")
def load_cifar10(config: DataConfig) -> DataSplits:
    """CIFAR-10: 50,000 train and 10,000 test 32x32 colour images, 10 classes (``cifar-10-batches-py``)."""
    return _load_cifar(
        config,
        title="CIFAR-10",
        folder_name="cifar-10-batches-py",
        train=[f"data_batch_{i}" for i in range(1, 6)],
        test="test_batch",
        label_key="labels",
        classes=10,
    )


@LOADERS.register("cifar100")
def load_cifar100(config: DataConfig) -> DataSplits:
    """CIFAR-100 (fine labels): 50,000 train, 10,000 test 32x32 images, 100 classes (``cifar-100-python``)."""
    return _load_cifar(
        config,
        title="CIFAR-100",
        folder_name="cifar-100-python",
        train=["train"],
        test="test",
        label_key="fine_labels",
        classes=100,
    )
