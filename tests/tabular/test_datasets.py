"""Datasets as tensors: Fashion-MNIST from Debian's files, IDX parsing, CIFAR files, synthetic data.

Everything reads real files (Debian's ``dataset-fashion-mnist`` package, or small files the
tests write in the datasets' own formats); nothing is downloaded.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import torch
from torch import nn

from tabular.data import DataConfig, DataSplits, carve_split, load_data, read_idx, write_idx
from tabular.data.loaders import SYSTEM_FASHION_MNIST
from tabular.errors import DataConfigError, DatasetNotFoundError, UnknownNameError, UnsafePickleError

FMNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

needs_fmnist = pytest.mark.skipif(
    not all((SYSTEM_FASHION_MNIST / f"{n}.gz").is_file() for n in FMNIST_FILES),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)


@pytest.fixture(scope="module")
def fmnist16() -> DataSplits:
    load_data(DataConfig("synthetic", train_size=10))  # torch's first-call costs stay out of the timing
    start = time.perf_counter()
    splits = load_data(DataConfig("fashion-mnist", resolution=16))
    seconds = time.perf_counter() - start
    print(f"\nFashion-MNIST at 16x16 (60,000 + 10,000 images) loaded in {seconds:.2f} s")
    assert seconds < 10, "loading should take about a second"
    return splits


def _unnormalised(x: torch.Tensor, splits: DataSplits) -> torch.Tensor:
    mean = torch.tensor(splits.mean).view(1, -1, 1, 1)
    std = torch.tensor(splits.std).view(1, -1, 1, 1)
    return x * std + mean


# --- Fashion-MNIST from Debian's files -----------------------------------------------------------


@needs_fmnist
def test_fashion_mnist_shapes_labels_and_sizes(fmnist16: DataSplits) -> None:
    s = fmnist16
    assert (s.name, s.num_classes, s.in_channels, s.resolution) == ("fashion-mnist", 10, 1, 16)
    assert s.sizes == {"train": 55000, "valid": 5000, "test": 10000}
    assert s.x_train.shape == (55000, 1, 16, 16) and s.x_train.dtype == torch.float32
    assert s.x_valid.shape == (5000, 1, 16, 16) and s.x_test.shape == (10000, 1, 16, 16)
    for y in (s.y_train, s.y_valid, s.y_test):
        assert y.dtype == torch.int64 and int(y.min()) == 0 and int(y.max()) == 9
    # Fashion-MNIST's test set is balanced: 1,000 images per class (Xiao et al. 2017)
    assert torch.bincount(s.y_test).tolist() == [1000] * 10


@needs_fmnist
def test_fashion_mnist_is_normalised_with_train_statistics(fmnist16: DataSplits) -> None:
    s = fmnist16
    assert abs(float(s.x_train.mean())) < 1e-4 and abs(float(s.x_train.std()) - 1) < 1e-4
    # other splits use the training statistics, so they are only close to 0/1
    assert abs(float(s.x_test.mean())) < 0.05 and abs(float(s.x_test.std()) - 1) < 0.05
    # pixel statistics of Fashion-MNIST in [0, 1] are about 0.286 / 0.35 at 28x28; smoothing lowers the std
    assert s.mean[0] == pytest.approx(0.286, abs=0.01) and 0.25 < s.std[0] < 0.36
    raw = _unnormalised(s.x_test, s)
    assert float(raw.min()) > -1e-4 and float(raw.max()) < 1 + 1e-4


@needs_fmnist
def test_fashion_mnist_split_is_disjoint_and_seeded(fmnist16: DataSplits) -> None:
    s = fmnist16
    train, valid = set(s.train_index.tolist()), set(s.valid_index.tolist())
    assert len(train) == 55000 and len(valid) == 5000 and not train & valid
    assert train | valid == set(range(60000))
    expected_train, expected_valid = carve_split(60000, 5000, None, 0)
    assert np.array_equal(s.valid_index, expected_valid) and np.array_equal(s.train_index, expected_train)
    assert s.split_source["valid"] == "5000 carved from train (60000) with seed 0"
    assert s.split_source["test"] == "t10k (10000)"


@needs_fmnist
def test_same_config_gives_identical_tensors_other_seed_another_fingerprint(fmnist16: DataSplits) -> None:
    again = load_data(DataConfig("fashion-mnist", resolution=16))
    assert again.fingerprint == fmnist16.fingerprint and len(again.fingerprint) == 64
    for name in ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test"):
        assert torch.equal(getattr(again, name), getattr(fmnist16, name)), name

    other = load_data(DataConfig("fashion-mnist", resolution=16, split_seed=1, train_size=1000))
    assert other.fingerprint != fmnist16.fingerprint
    assert other.sizes == {"train": 1000, "valid": 5000, "test": 10000}
    assert other.split_source["train"].startswith("first 1000 of train (60000)")
    assert not np.array_equal(other.valid_index, fmnist16.valid_index)
    assert torch.equal(other.y_test, fmnist16.y_test)


@needs_fmnist
def test_describe_is_json_provenance(fmnist16: DataSplits) -> None:
    info = json.loads(json.dumps(fmnist16.describe()))
    assert info["name"] == "fashion-mnist" and "Xiao" in info["reference"]
    assert info["root"] == str(SYSTEM_FASHION_MNIST)
    roles = ["train_images", "train_labels", "test_images", "test_labels"]
    assert [f["role"] for f in info["files"]] == roles
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in info["files"])
    assert info["sizes"] == {"train": 55000, "valid": 5000, "test": 10000}
    assert (info["resolution"], info["native_resolution"], info["split_seed"]) == (16, 28, 0)
    assert info["resize"] == "bilinear, antialias=True"
    assert info["normalisation"]["mean"] == list(fmnist16.mean)
    assert info["fingerprint"] == fmnist16.fingerprint


@needs_fmnist
def test_torchvision_layout_root_gives_the_same_data(fmnist16: DataSplits, tmp_path: Path) -> None:
    # torchvision keeps FashionMNIST/raw/ with the .gz files and their extracted copies
    raw_dir = tmp_path / "FashionMNIST" / "raw"
    raw_dir.mkdir(parents=True)
    for name in FMNIST_FILES:
        shutil.copy(SYSTEM_FASHION_MNIST / f"{name}.gz", raw_dir / f"{name}.gz")
        (raw_dir / name).write_bytes(gzip.decompress((raw_dir / f"{name}.gz").read_bytes()))
    splits = load_data(DataConfig("fashion-mnist", root=str(tmp_path), resolution=16))
    assert splits.root == str(raw_dir)
    assert [Path(f.path).name for f in splits.files] == list(FMNIST_FILES)  # the plain files are preferred
    # the fingerprint identifies the data, not the container it came in
    assert splits.fingerprint == fmnist16.fingerprint
    assert torch.equal(splits.x_train, fmnist16.x_train) and torch.equal(splits.y_test, fmnist16.y_test)


def test_missing_folder_says_where_we_looked_and_how_to_get_the_data(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError) as info:
        load_data(DataConfig("fashion-mnist", root=str(missing)))
    message = str(info.value)
    assert str(missing) in message and str(missing / "FashionMNIST" / "raw") in message
    assert "apt-get install dataset-fashion-mnist" in message and "--download" in message


def test_folder_with_some_files_names_the_missing_ones(tmp_path: Path) -> None:
    write_idx(np.zeros(3, dtype=np.uint8), tmp_path / "train-labels-idx1-ubyte")
    with pytest.raises(DatasetNotFoundError, match="missing train-images-idx3-ubyte, t10k-images"):
        load_data(DataConfig("fashion-mnist", root=str(tmp_path)))


# --- IDX files ---------------------------------------------------------------------------------


def _tiny_idx_set(folder: Path, n_train: int = 40, n_test: int = 10, compress: bool = False) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    sfx = ".gz" if compress else ""
    for stem, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(images, folder / f"{stem}-images-idx3-ubyte{sfx}", compress)
        write_idx(np.arange(n, dtype=np.uint8) % 10, folder / f"{stem}-labels-idx1-ubyte{sfx}", compress)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path: Path, compress: bool) -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "a.idx"
    write_idx(array, path, compress)
    back, record = read_idx(path, ndim=3)
    assert np.array_equal(back, array) and record.bytes == path.stat().st_size
    floats = np.linspace(0, 1, 5, dtype=np.float32)
    write_idx(floats, path)
    assert np.array_equal(read_idx(path)[0], floats)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_idx_is_a_config_error_naming_the_file(tmp_path: Path, compress: bool) -> None:
    _tiny_idx_set(tmp_path, compress=compress)
    victim = tmp_path / ("train-images-idx3-ubyte" + (".gz" if compress else ""))
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(DataConfigError, match="truncated") as info:
        load_data(DataConfig("fashion-mnist", root=str(tmp_path), valid_size=5))
    assert str(victim) in str(info.value)


def test_bad_magic_and_wrong_rank_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(DataConfigError, match="not an IDX file"):
        read_idx(path)
    write_idx(np.zeros(4, dtype=np.uint8), path)
    with pytest.raises(DataConfigError, match="expected 3 dimensions"):
        read_idx(path, ndim=3)


def test_mnist_from_a_torchvision_root_and_split_sizes(tmp_path: Path) -> None:
    _tiny_idx_set(tmp_path / "MNIST" / "raw", compress=True)
    s = load_data(DataConfig("mnist", root=str(tmp_path), valid_size=10, train_size=25, resolution=8))
    assert s.sizes == {"train": 25, "valid": 10, "test": 10} and s.x_train.shape == (25, 1, 8, 8)
    assert s.native_resolution == 28 and not set(s.train_index.tolist()) & set(s.valid_index.tolist())


def test_valid_and_train_sizes_that_do_not_fit(tmp_path: Path) -> None:
    _tiny_idx_set(tmp_path)
    with pytest.raises(DataConfigError, match="valid_size=40 does not fit a training set of 40"):
        load_data(DataConfig("fashion-mnist", root=str(tmp_path), valid_size=40))
    with pytest.raises(DataConfigError, match="train_size=31"):
        load_data(DataConfig("fashion-mnist", root=str(tmp_path), valid_size=10, train_size=31))
    with pytest.raises(DataConfigError, match="valid_size"):
        DataConfig("fashion-mnist", valid_size=0)
    with pytest.raises(DataConfigError, match="resolution"):
        DataConfig("synthetic", resolution=-1)


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        load_data(DataConfig("imagenet"))
    known = ("cifar10", "cifar100", "fashion-mnist", "mnist", "svhn", "synthetic")
    assert all(n in str(info.value) for n in known)


# --- CIFAR files, in the layout and pickle format torchvision downloads -------------------------


class _Py2Array:
    """An array pickled the way numpy 1.x under Python 2 wrote CIFAR: its bytes as a str."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __reduce__(self) -> tuple[object, ...]:
        rebuild, args, state = cast(tuple[Any, Any, tuple[Any, ...]], self.array.__reduce__())
        version, shape, dtype, fortran, raw = state
        return rebuild, args, (version, shape, dtype, fortran, raw.decode("latin-1"))


def _py2_pickle(entry: dict[str, object]) -> bytes:
    """A protocol-2 pickle like the original CIFAR files, numpy 1.x global names included."""
    data = pickle.dumps({k: _Py2Array(v) if isinstance(v, np.ndarray) else v for k, v in entry.items()}, 2)
    new, old = b"cnumpy._core.multiarray\n_reconstruct\n", b"cnumpy.core.multiarray\n_reconstruct\n"
    assert new in data
    return data.replace(new, old)


def _write_cifar10(root: Path, per_batch: int = 12, n_test: int = 10) -> dict[str, np.ndarray]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    train_x, train_y = [], []
    for i in range(1, 6):
        x = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        y = rng.integers(0, 10, per_batch).tolist()
        batch = {"batch_label": f"training batch {i} of 5", "labels": y, "data": x, "filenames": []}
        # the first batch exactly as Python 2 wrote the originals, the others as Python 3 would
        blob = _py2_pickle(batch) if i == 1 else pickle.dumps(batch, protocol=2)
        (folder / f"data_batch_{i}").write_bytes(blob)
        train_x.append(x)
        train_y += y
    test_x = rng.integers(0, 256, (n_test, 3072), dtype=np.uint8)
    test = {"batch_label": "testing batch 1 of 1", "labels": list(range(n_test)), "data": test_x}
    (folder / "test_batch").write_bytes(pickle.dumps(test, protocol=2))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship"]}
    meta["label_names"].append("truck")
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return {"train_x": np.concatenate(train_x), "train_y": np.array(train_y), "test_x": test_x}


def test_cifar10_from_local_files(tmp_path: Path) -> None:
    truth = _write_cifar10(tmp_path)
    # what torchvision's CIFAR10 does with each file
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        assert np.array_equal(pickle.load(f, encoding="latin1")["data"], truth["train_x"][:12])

    s = load_data(DataConfig("cifar10", root=str(tmp_path), valid_size=10))
    assert (s.num_classes, s.in_channels, s.resolution) == (10, 3, 32)
    assert s.sizes == {"train": 50, "valid": 10, "test": 10} and len(s.mean) == 3
    assert [f.role for f in s.files] == [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]
    expected = torch.from_numpy(truth["train_x"][s.valid_index].reshape(-1, 3, 32, 32)).float() / 255
    assert torch.allclose(_unnormalised(s.x_valid, s), expected, atol=1e-5)
    assert torch.equal(s.y_train, torch.from_numpy(truth["train_y"][s.train_index]))
    assert s.split_source["train"] == (
        "all 50 of data_batch_1..data_batch_5 (60) minus valid, in the order of a seed-0 permutation"
    )

    small = load_data(DataConfig("cifar10", root=str(tmp_path), valid_size=10, resolution=16))
    assert small.x_test.shape == (10, 3, 16, 16) and small.fingerprint != s.fingerprint


def test_cifar100_fine_labels(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for name, n in (("train", 30), ("test", 5)):
        entry = {
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "fine_labels": [99, *range(n - 1)],
            "coarse_labels": [0] * n,
        }
        (folder / name).write_bytes(pickle.dumps(entry))  # today's default protocol works too
    s = load_data(DataConfig("cifar100", root=str(tmp_path), valid_size=5))
    assert s.num_classes == 100 and s.sizes == {"train": 25, "valid": 5, "test": 5}
    assert int(s.y_test[0]) == 99


def test_cifar_pickle_with_code_is_refused(tmp_path: Path) -> None:
    _write_cifar10(tmp_path)

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo pwned",))  # not print: Ray replaces builtins.print once started

    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps({"data": Evil()}, protocol=2))
    with pytest.raises(UnsafePickleError, match=r"global posix\.system"):
        load_data(DataConfig("cifar10", root=str(tmp_path), valid_size=10))


def test_cifar_missing_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="cifar-10-batches-py"):
        load_data(DataConfig("cifar10", root=str(tmp_path)))


def test_svhn_mat_files(tmp_path: Path) -> None:
    scipy_io = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(3)
    for name, n in (("train_32x32.mat", 20), ("test_32x32.mat", 6)):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        scipy_io.savemat(tmp_path / name, {"X": x, "y": (np.arange(n) % 10 + 1).reshape(-1, 1)})
    s = load_data(DataConfig("svhn", root=str(tmp_path), valid_size=4))
    assert s.x_train.shape == (16, 3, 32, 32) and s.sizes["test"] == 6
    assert s.y_test.tolist() == [1, 2, 3, 4, 5, 6]
    assert int(torch.cat([s.y_train, s.y_valid]).min()) == 0  # digit 0 is stored as 10


# --- synthetic ---------------------------------------------------------------------------------


def test_synthetic_defaults_and_determinism() -> None:
    a = load_data(DataConfig("synthetic"))
    b = load_data(DataConfig("synthetic"))
    assert a.sizes == {"train": 2000, "valid": 500, "test": 500}
    assert a.x_train.shape == (2000, 1, 16, 16) and a.num_classes == 10
    assert a.fingerprint == b.fingerprint
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_valid, b.y_valid)
    assert torch.bincount(a.y_test).tolist() == [50] * 10
    assert a.describe()["generator"]["data_seed"] == 0

    c = load_data(DataConfig("synthetic", split_seed=1))
    assert c.fingerprint != a.fingerprint and not torch.equal(c.y_valid, a.y_valid)
    assert torch.equal(c.y_test, a.y_test)  # only the split changes with the seed, not the data


def test_synthetic_respects_sizes_and_resolution() -> None:
    s = load_data(DataConfig("synthetic", train_size=300, valid_size=100, resolution=8))
    assert s.sizes == {"train": 300, "valid": 100, "test": 500} and s.x_valid.shape == (100, 1, 8, 8)
    big = load_data(DataConfig("synthetic", train_size=3000, valid_size=600))
    assert big.sizes == {"train": 3000, "valid": 600, "test": 500}


def test_synthetic_is_learnable_but_not_trivial() -> None:
    s = load_data(DataConfig("synthetic"))

    def one_epoch(model: nn.Module) -> float:
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        order = torch.randperm(len(s.y_train), generator=torch.Generator().manual_seed(0))
        for i in range(0, len(order), 64):
            batch = order[i : i + 64]
            loss = nn.functional.cross_entropy(model(s.x_train[batch]), s.y_train[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            return float((model(s.x_valid).argmax(1) == s.y_valid).float().mean())

    with torch.random.fork_rng():
        torch.manual_seed(0)
        linear = one_epoch(nn.Sequential(nn.Flatten(), nn.Linear(256, 10)))
        conv = one_epoch(
            nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1),
                nn.BatchNorm2d(16),
                nn.ReLU(),
                nn.Conv2d(16, 32, 3, stride=2, padding=1),
                nn.BatchNorm2d(32),
                nn.ReLU(),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
                nn.Linear(32, 10),
            )
        )
    assert 0.3 < conv < 0.9, conv  # well above chance (0.1), far from perfect
    assert conv > linear + 0.15, (conv, linear)  # a convolution helps


def test_importing_tabular_data_does_not_import_torch() -> None:
    code = "import sys, tabular.data; print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
