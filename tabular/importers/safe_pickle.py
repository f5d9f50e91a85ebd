"""A restricted unpickler for published benchmark files (NATS-Bench ``*.pickle.pbz2``).

Python's pickle runs whatever callable a file names, so a downloaded pickle is code. This
module reads pickles through an unpickler whose ``find_class`` hands out only plain
builtin containers and numbers, ``collections.OrderedDict``, and stand-ins for
``numpy.dtype`` / ``numpy.core.multiarray.scalar`` that accept numeric dtypes only and
return plain Python numbers. Anything else raises :class:`UnsafePickleError` *before* it
is called. Persistent ids (how torch stores tensors) are refused too.
"""

from __future__ import annotations

import bz2
import io
import pickle
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tabular.errors import ImportDataError, UnsafePickleError

__all__ = ["ALLOWED_GLOBALS", "DEFAULT_MAX_BYTES", "SafeUnpickler", "safe_load_path", "safe_loads"]

# A NATS record is ~0.3 MB and meta ~1.4 MB once decompressed; the cap only exists so
# that a bz2 bomb cannot exhaust memory.
DEFAULT_MAX_BYTES = 1 << 30

_BZ2_MAGIC = b"BZh"

# Numeric dtype codes as numpy writes them in ``dtype.__reduce__``; platform-dependent
# (longdouble) and non-numeric kinds (object, str, void, datetime) are deliberately absent.
_NUMERIC_CODES: dict[str, type] = {
    "b1": bool,
    **{f"i{n}": int for n in (1, 2, 4, 8)},
    **{f"u{n}": int for n in (1, 2, 4, 8)},
    **{f"f{n}": float for n in (2, 4, 8)},
    "c8": complex,
    "c16": complex,
}
_BYTE_ORDERS = frozenset("<>|=")


class _NumericDtype:
    """Stand-in for a numeric ``numpy.dtype`` while unpickling.

    numpy's own ``dtype.__setstate__`` accepts field, subarray and object layouts; this
    class accepts only the state of a plain numeric dtype, so BUILD cannot smuggle
    anything else in.
    """

    __slots__ = ("byteorder", "code")

    def __init__(self, code: str) -> None:
        self.code = code
        self.byteorder = "="

    def __setstate__(self, state: object) -> None:
        if not (isinstance(state, tuple) and len(state) in (8, 9) and state[0] in (3, 4)):
            raise UnsafePickleError(f"numpy.dtype state {state!r} is not that of a numeric dtype")
        _version, order, subarray, names, fields, elsize, alignment, _flags = state[:8]
        if order not in _BYTE_ORDERS or (subarray, names, fields) != (None, None, None):
            raise UnsafePickleError(f"numpy.dtype state {state!r} is not that of a numeric dtype")
        if elsize != -1 or alignment != -1:
            raise UnsafePickleError(f"numpy.dtype state {state!r} has a custom size/alignment")
        self.byteorder = order

    def to_numpy(self) -> np.dtype[Any]:
        order = "=" if self.byteorder == "|" else self.byteorder
        return np.dtype(order + self.code)

    def __repr__(self) -> str:
        return f"_NumericDtype({self.code!r}, byteorder={self.byteorder!r})"


def _make_dtype(spec: object, align: object = False, copy: object = True) -> _NumericDtype:
    """``numpy.dtype(spec, align, copy)`` for numeric ``spec`` only."""
    if not isinstance(spec, str) or spec not in _NUMERIC_CODES:
        raise UnsafePickleError(
            f"numpy.dtype({spec!r}) refused: only numeric dtypes are allowed ({', '.join(_NUMERIC_CODES)})"
        )
    # numpy 1.x (which wrote the NATS files) pickles these flags as ints 0/1, numpy 2 as bools
    if any(type(flag) not in (bool, int) or flag not in (0, 1) for flag in (align, copy)):
        raise UnsafePickleError(f"numpy.dtype({spec!r}, {align!r}, {copy!r}) has unexpected flags")
    return _NumericDtype(spec)


def _make_scalar(dtype: object, data: object = None) -> bool | int | float | complex:
    """``numpy.core.multiarray.scalar(dtype, data)`` returned as a plain Python number."""
    if not isinstance(dtype, _NumericDtype):
        raise UnsafePickleError(f"numpy scalar refused: its dtype {dtype!r} is not an allowed numeric dtype")
    if isinstance(data, str):  # pickles written by Python 2 carry the raw bytes as a latin-1 str
        data = data.encode("latin-1")
    np_dtype = dtype.to_numpy()
    if not isinstance(data, bytes) or len(data) != np_dtype.itemsize:
        raise UnsafePickleError(
            f"numpy scalar refused: expected {np_dtype.itemsize} bytes for {np_dtype}, got {data!r:.60}"
        )
    value = np.frombuffer(data, dtype=np_dtype)[0]
    return _NUMERIC_CODES[dtype.code](value.item())  # type: ignore[no-any-return]


def _make_bytes(*args: object) -> bytes:
    """``bytes(...)`` without the integer form, which would allocate a caller-chosen size."""
    if args and isinstance(args[0], int):
        raise UnsafePickleError("builtins.bytes(<int>) refused: it allocates an arbitrary amount of memory")
    return bytes(*args)  # type: ignore[call-overload,no-any-return]


def _codecs_encode(obj: object, encoding: object = "utf-8", errors: object = "strict") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for bytes: a str encoded as latin-1."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise UnsafePickleError(f"_codecs.encode refused for encoding {encoding!r}; only latin1 is allowed")
    return obj.encode("latin-1")


_PLAIN: dict[str, Callable[..., Any]] = {
    "dict": dict,
    "list": list,
    "tuple": tuple,
    "set": set,
    "frozenset": frozenset,
    "str": str,
    "bytes": _make_bytes,
    "int": int,
    "float": float,
    "complex": complex,
    "bool": bool,
}

#: ``(module, name)`` -> what the unpickler gets instead of the real global.
ALLOWED_GLOBALS: dict[tuple[str, str], Callable[..., Any]] = {
    **{("builtins", k): v for k, v in _PLAIN.items()},
    **{("__builtin__", k): v for k, v in _PLAIN.items()},  # Python 2 spelling, protocols 0-2
    ("_codecs", "encode"): _codecs_encode,
    ("collections", "OrderedDict"): OrderedDict,
    ("numpy", "dtype"): _make_dtype,
    ("numpy.core.multiarray", "scalar"): _make_scalar,  # numpy 1.x
    ("numpy._core.multiarray", "scalar"): _make_scalar,  # numpy 2.x
}


def _allowed_list() -> str:
    return ", ".join(f"{m}.{n}" for m, n in ALLOWED_GLOBALS if m != "__builtin__")


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS` and no persistent ids."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"pickle references the global {module}.{name}, which is not allowed; "
                f"allowed globals are: {_allowed_list()} (numpy ones for numeric dtypes only)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        # torch.save stores tensors as persistent ids; resolving one means running its loader.
        raise UnsafePickleError(f"pickle uses a persistent id {pid!r:.80}, which is not allowed")


# What a truncated or garbled pickle raises from the C unpickler; never from our checks,
# which raise UnsafePickleError and are re-raised untouched.
_CORRUPT_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    OverflowError,
    MemoryError,
    RecursionError,
)


def _loads(data: bytes | bytearray | memoryview, where: str) -> Any:
    try:
        return SafeUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{where}: {exc}") from None
    except _CORRUPT_ERRORS as exc:
        raise ImportDataError(
            f"{where} is truncated or not a valid pickle ({type(exc).__name__}: {exc})"
        ) from exc


def safe_loads(data: bytes | bytearray | memoryview) -> Any:
    """Unpickle ``data`` allowing only plain types; numpy scalars come back as Python numbers.

    Raises :class:`UnsafePickleError` for any other global or a persistent id, and
    :class:`ImportDataError` for truncated or corrupt data.
    """
    return _loads(data, "pickle data")


def _bunzip(raw: bytes, path: Path, max_bytes: int) -> bytes:
    """Decompress every bz2 stream in ``raw`` without ever holding more than ``max_bytes``."""
    out: list[bytes] = []
    total = 0
    while raw:
        decomp = bz2.BZ2Decompressor()
        try:
            chunk = decomp.decompress(raw, max_length=max_bytes - total + 1)
        except (OSError, EOFError, ValueError) as exc:
            if out:  # like bz2.decompress: trailing bytes that are not a stream are ignored
                break
            raise ImportDataError(f"{path} is not a valid bz2 file ({exc})") from exc
        total += len(chunk)
        if total > max_bytes:
            raise ImportDataError(f"{path} decompresses to more than {max_bytes} bytes; refusing to read it")
        if not decomp.eof:
            raise ImportDataError(
                f"{path} is truncated: the bz2 stream ends early (re-download or re-extract the file)"
            )
        out.append(chunk)
        raw = decomp.unused_data
    return b"".join(out)


def safe_load_path(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Read a pickle file (bz2-compressed ``.pbz2``/``.bz2`` or plain) through :class:`SafeUnpickler`.

    Compression is detected from the bz2 magic bytes. A missing, truncated or corrupt file
    raises :class:`ImportDataError` naming ``path``.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportDataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if raw.startswith(_BZ2_MAGIC):
        data = _bunzip(raw, path, max_bytes)
    elif path.suffix in (".pbz2", ".bz2"):
        raise ImportDataError(f"{path} is named like a bz2 file but does not start with the bz2 header")
    else:
        data = raw
    return _loads(data, str(path))
