"""Reading IDX files (the MNIST / Fashion-MNIST format), gzipped or not, with numpy only.

An IDX file is a 4-byte magic number ``00 00 TT NN`` (``TT`` the element type, ``NN`` the
number of dimensions), ``NN`` big-endian ``uint32`` sizes, then the elements in C order,
big-endian. LeCun et al. defined it for MNIST; Xiao et al. (2017) kept it for Fashion-MNIST
so that the two are drop-in replacements.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from tabular.data.base import FileRecord
from tabular.errors import DataConfigError

_GZIP_MAGIC = b"\x1f\x8b"

# IDX type byte -> numpy dtype (big-endian where it matters)
_IDX_TYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# A training set is 47 MB unpacked; the cap only stops a gzip bomb from exhausting memory.
MAX_UNPACKED_BYTES = 1 << 31

_REFETCH = "delete it and fetch it again"


def _gunzip(raw: bytes, path: Path) -> bytes:
    decomp = zlib.decompressobj(wbits=31)  # 31: expect a gzip header and trailer
    try:
        data = decomp.decompress(raw, MAX_UNPACKED_BYTES + 1)
    except zlib.error as exc:
        raise DataConfigError(f"{path} is not a valid gzip file ({exc}); {_REFETCH}") from exc
    if len(data) > MAX_UNPACKED_BYTES:
        raise DataConfigError(f"{path} unpacks to more than {MAX_UNPACKED_BYTES} bytes; refusing to read it")
    if not decomp.eof:
        raise DataConfigError(f"{path} is truncated: the gzip stream ends early; {_REFETCH}")
    return data


def parse_idx(data: bytes, where: str = "IDX data", ndim: int | None = None) -> np.ndarray:
    """The array an IDX payload holds (native byte order); checks the magic number and length."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataConfigError(
            f"{where} is not an IDX file: magic number {data[:4].hex() or '(empty)'} should be 0000TTNN "
            f"with TT one of {', '.join(f'{t:02x}' for t in _IDX_TYPES)}"
        )
    dtype, dims = np.dtype(_IDX_TYPES[data[2]]), data[3]
    if ndim is not None and dims != ndim:
        raise DataConfigError(f"{where} holds a {dims}-dimensional array; expected {ndim} dimensions")
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataConfigError(f"{where} is truncated: {len(data)} bytes, under its {header}-byte header")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=dims, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        state = "truncated" if len(data) < expected else "longer than its header says"
        raise DataConfigError(
            f"{where} is {state}: {len(data)} bytes, but shape {shape} of {dtype} needs {expected}; "
            f"{_REFETCH}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | Path, ndim: int | None = None) -> tuple[np.ndarray, FileRecord]:
    """Read an IDX file (gzip detected from its first bytes); returns the array and the file's record.

    A malformed, truncated or unreadable file raises :class:`~tabular.errors.DataConfigError`
    naming ``path``.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    record = FileRecord(role="", path=str(path), sha256=hashlib.sha256(raw).hexdigest(), bytes=len(raw))
    data = _gunzip(raw, path) if raw[:2] == _GZIP_MAGIC else raw
    return parse_idx(data, str(path), ndim), record


def write_idx(array: np.ndarray, path: str | Path, compress: bool = False) -> None:
    """Write ``array`` as an IDX file (for tests and small derived sets)."""
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        known = ", ".join(sorted(map(str, codes)))
        raise DataConfigError(f"IDX has no element type for {array.dtype}; use one of {known}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = np.ascontiguousarray(array, dtype=np.dtype(_IDX_TYPES[code])).tobytes()
    payload = header + body
    # mtime=0 keeps the file's bytes, and so its digest, the same from run to run
    Path(path).write_bytes(gzip.compress(payload, mtime=0) if compress else payload)
