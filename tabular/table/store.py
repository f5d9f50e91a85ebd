"""Reading and writing the table's HDF5 file: checksums, atomic replace, lazy groups.

The file is read once into numpy arrays (eager groups) and verified against the digests
stored beside each array; groups that can be large (full curves) are read on demand and
verified then. Writing goes to a temporary file in the same folder which is fsynced and
renamed over the target, so a crash never leaves a half-written table behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tabular.errors import OutputPathError, SchemaVersionError, TableCorruptError, TableError
from tabular.table.schema import LAZY_GROUPS, SCHEMA_VERSION


@dataclass
class RawTable:
    """The file's content as plain dicts keyed by HDF5 path (``metrics/cifar10/test``)."""

    root_attrs: dict[str, Any] = field(default_factory=dict)
    group_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    array_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: lazy arrays not yet read: path -> expected digest (and their manifest entries)
    lazy: dict[str, str] = field(default_factory=dict)
    lazy_entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def put(self, path: str, array: np.ndarray, **attrs: Any) -> None:
        self.arrays[path] = np.ascontiguousarray(array)
        self.array_attrs[path] = dict(attrs)

    def group(self, path: str) -> dict[str, Any]:
        return self.group_attrs.setdefault(path, {})


def array_digest(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}|{array.shape}|".encode())
    h.update(array.tobytes())
    return h.hexdigest()


def _root_checksum(raw: RawTable, digests: dict[str, str]) -> str:
    payload = {
        "attrs": {k: v for k, v in raw.root_attrs.items() if k != "checksum"},
        "groups": {g: a for g, a in raw.group_attrs.items() if a},
        "arrays": {p: {"sha256": digests[p], "attrs": raw.array_attrs.get(p, {})} for p in sorted(digests)},
    }
    blob = json.dumps(payload, sort_keys=True, default=_json_default).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"attribute value {value!r} is not JSON-serialisable")


# ---- writing ------------------------------------------------------------------------
def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early, with a typed error, when ``path`` cannot be written as a file."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputPathError(f"output {str(target)!r} is a directory; expected a file path such as table.h5")
    if not folder.is_dir():
        raise OutputPathError(f"output folder {str(folder)!r} does not exist; create it first")
    try:  # permission bits do not bind root, a read-only mount does: so try for real
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputPathError(f"output folder {str(folder)!r} is not writable: {exc.strerror}") from exc
    return target


def write_raw(raw: RawTable, path: str | os.PathLike[str], compression: str | None = "gzip") -> str:
    """Write ``raw`` atomically to ``path``; returns the root checksum.

    All attributes and digests go into one JSON ``manifest`` attribute on the root, since
    reading hundreds of small HDF5 attributes costs more than reading the data. Float arrays
    that are mostly NaN are stored as (flat index, value) pairs: published tables are sparse.
    """
    import h5py

    target = check_writable(path)
    if raw.lazy:
        raise TableError(
            "cannot rewrite a table whose lazy groups were not loaded; call Table.load_lazy() first"
        )
    digests = {p: array_digest(a) for p, a in raw.arrays.items()}
    raw.root_attrs["schema_version"] = SCHEMA_VERSION
    raw.root_attrs["checksum"] = _root_checksum(raw, digests)
    manifest: dict[str, Any] = {"groups": {g: a for g, a in raw.group_attrs.items() if a}, "arrays": {}}
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    os.close(fd)
    try:
        with h5py.File(tmp_name, "w") as f:
            for apath, array in raw.arrays.items():
                entry = {"sha256": digests[apath], "attrs": raw.array_attrs.get(apath, {})}
                entry.update(_write_array(f, apath, array, compression))
                manifest["arrays"][apath] = entry
            for key, value in raw.root_attrs.items():
                f.attrs[key] = json.dumps(value, default=_json_default)
            f.attrs["manifest"] = json.dumps(manifest, default=_json_default)
        with open(tmp_name, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; a table is a normal file
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)
    raw.path = target
    return str(raw.root_attrs["checksum"])


def _write_array(f: Any, apath: str, array: np.ndarray, compression: str | None) -> dict[str, Any]:
    def create(name: str, data: np.ndarray) -> None:
        use = compression if data.size >= 1024 and data.dtype.kind in "fiub" else None
        f.create_dataset(name, data=data, compression=use, shuffle=use is not None)

    if array.dtype.kind == "f" and array.size >= 4096:
        present = np.flatnonzero(~np.isnan(array))
        if present.size < array.size // 4:
            create(apath, array.ravel()[present])
            create(apath + COO_SUFFIX, present.astype(np.int64))
            return {"encoding": "coo", "shape": list(array.shape), "dtype": array.dtype.str}
    create(apath, array)
    return {"encoding": "dense"}


COO_SUFFIX = ".coo_index"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---- reading ------------------------------------------------------------------------
def read_raw(path: str | os.PathLike[str], verify: bool = True) -> RawTable:
    """Read every eager group into memory and verify digests and the root checksum."""
    import h5py

    source = Path(path)
    if not source.is_file():
        raise TableError(f"no table file at {str(source)!r}")
    raw = RawTable(path=source)
    try:
        with h5py.File(source, "r") as f:
            attrs = _decode_attrs(f.attrs, str(source))
            _check_version(attrs, source)
            manifest = attrs.pop("manifest", None)
            if not isinstance(manifest, dict):
                raise TableCorruptError(f"{str(source)!r} has no manifest; not a nasuite table")
            raw.root_attrs = attrs
            raw.group_attrs = dict(manifest.get("groups", {}))
            digests: dict[str, str] = {}
            for apath, entry in manifest.get("arrays", {}).items():
                digests[apath] = entry["sha256"]
                raw.array_attrs[apath] = entry.get("attrs", {})
                if apath.split("/", 1)[0] in LAZY_GROUPS:
                    raw.lazy[apath] = entry["sha256"]
                    raw.lazy_entries[apath] = entry
                else:
                    raw.arrays[apath] = _read_array(f, apath, entry)
    except (OSError, KeyError, RuntimeError, ValueError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableCorruptError(f"table {str(source)!r} is truncated or unreadable: {exc}") from exc
    if verify:
        _verify(raw, digests, source)
    return raw


def _read_array(f: Any, apath: str, entry: dict[str, Any]) -> np.ndarray:
    if entry.get("encoding", "dense") == "dense":
        return np.asarray(f[apath][()])
    out = np.full(entry["shape"], np.nan, dtype=np.dtype(entry["dtype"]))
    out.ravel()[f[apath + COO_SUFFIX][()]] = f[apath][()]
    return out


def read_lazy(raw: RawTable, apath: str) -> np.ndarray:
    """Read one lazy array (e.g. a curve block) and check its digest."""
    import h5py

    if apath in raw.arrays:
        return raw.arrays[apath]
    if apath not in raw.lazy or raw.path is None:
        raise KeyError(apath)
    try:
        with h5py.File(raw.path, "r") as f:
            array = _read_array(f, apath, raw.lazy_entries[apath])
    except (OSError, KeyError, ValueError) as exc:
        raise TableCorruptError(f"table {str(raw.path)!r}: cannot read {apath}: {exc}") from exc
    if array_digest(array) != raw.lazy[apath]:
        raise TableCorruptError(f"table {str(raw.path)!r}: {apath} does not match its checksum")
    raw.arrays[apath] = array
    del raw.lazy[apath]
    return array


def _decode_attrs(attrs: Any, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        text = value.decode() if isinstance(value, bytes) else value
        try:
            out[key] = json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError as exc:
            raise TableCorruptError(f"{where}: attribute {key!r} is not valid JSON") from exc
    return out


def _check_version(attrs: dict[str, Any], source: Path) -> None:
    version = attrs.get("schema_version")
    if version is None:
        raise TableCorruptError(f"{str(source)!r} has no schema_version attribute; not a nasuite table")
    if version != SCHEMA_VERSION:
        raise SchemaVersionError(
            f"table {str(source)!r} has schema version {version!r}; this nasuite reads version "
            f"{SCHEMA_VERSION}"
        )


def _verify(raw: RawTable, digests: dict[str, str], source: Path) -> None:
    for apath, array in raw.arrays.items():
        if array_digest(array) != digests[apath]:
            raise TableCorruptError(f"table {str(source)!r}: {apath} does not match its checksum")
    expected = raw.root_attrs.get("checksum")
    if expected != _root_checksum(raw, digests):
        raise TableCorruptError(
            f"table {str(source)!r}: content checksum mismatch (stored {expected!r}); the file was "
            "modified or corrupted"
        )
