"""Read the official NATS-Bench topology release (``NATS-tss-v1_0-3ffb9-simple``).

NATS-Bench (Dong et al., "NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology
and Size", TPAMI 2021) ships the topology space (= NAS-Bench-201, Dong & Yang, ICLR 2020)
as a directory with ``meta.pickle.pbz2`` and one ``NNNNNN.pickle.pbz2`` per architecture.
Those are bz2 pickles, so they are read only through :mod:`tabular.importers.safe_pickle`,
and turned here into frozen dataclasses of plain Python values and float64 arrays.

Names are kept exactly as NATS writes them: datasets ``cifar10-valid``, ``cifar10``,
``cifar100``, ``ImageNet16-120``; eval splits ``x-valid``, ``x-test``, ``ori-test``.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

from tabular.errors import ImportDataError
from tabular.importers.safe_pickle import safe_load_path

__all__ = [
    "META_FILE",
    "RELEASE_NAME",
    "EvalCurves",
    "NatsMeta",
    "NatsRecord",
    "available_indices",
    "find_release_dir",
    "iter_records",
    "read_meta",
    "record_path",
]

RELEASE_NAME = "NATS-tss-v1_0-3ffb9-simple"
META_FILE = "meta.pickle.pbz2"
_RECORD_RE = re.compile(r"^(\d{6})\.pickle\.pbz2$")
# Below this many files a progress bar is just noise (tests, the 3-record fixture).
_PROGRESS_MIN_FILES = 50

_HOW_TO_GET = (
    f"Download the official NATS-Bench topology release '{RELEASE_NAME}.tar' "
    "(see https://github.com/D-X-Y/NATS-Bench) and extract it with "
    f"'tar xf {RELEASE_NAME}.tar'; then pass the extracted '{RELEASE_NAME}' directory "
    "or the directory that contains it."
)


class EvalCurves(NamedTuple):
    """Per-epoch curves of one evaluation split; NaN where the release has no value."""

    acc: np.ndarray
    loss: np.ndarray
    time: np.ndarray


@dataclass(frozen=True)
class NatsMeta:
    """What ``meta.pickle.pbz2`` holds, normalised.

    ``arch_strs[i]`` is the architecture string of official index ``i``.
    ``evaluated_indexes`` is empty in the ``simple`` release, whose records live in
    per-architecture files instead.
    """

    directory: Path
    arch_strs: tuple[str, ...]
    total_archs: int
    evaluated_indexes: frozenset[int]

    @cached_property
    def _index_of(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.arch_strs)}

    def index_of(self, arch_str: str) -> int:
        """The official index of ``arch_str``; ImportDataError if the release lacks it."""
        try:
            return self._index_of[arch_str]
        except KeyError:
            raise ImportDataError(f"{arch_str!r} is not an architecture of {self.directory}") from None


@dataclass(frozen=True, eq=False)  # eq on numpy arrays is ambiguous; compare fields explicitly
class NatsRecord:
    """One training run: an architecture, a schedule (``hp`` epochs), a dataset and a seed.

    Curves are read-only float64 arrays over epochs ``0..epochs-1``. ``eval`` maps each
    split name exactly as in the file to its :class:`EvalCurves`. ``params_m`` is in
    millions, ``flop_m`` in MFLOPs, ``latency`` is the mean of the stored latency values
    (seconds, NATS units) or NaN when none are stored.
    """

    arch_index: int
    arch_str: str
    hp: int
    dataset: str
    seed: int
    epochs: int
    train_acc: np.ndarray
    train_loss: np.ndarray
    train_time: np.ndarray
    eval: Mapping[str, EvalCurves]
    params_m: float
    flop_m: float
    latency: float


# ---- locating the release ----------------------------------------------------------------


def find_release_dir(directory: str | Path) -> Path:
    """The directory holding ``meta.pickle.pbz2``: ``directory`` itself or its ``RELEASE_NAME`` child."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise ImportDataError(
            f"NATS-Bench release directory {directory} does not exist; expected {directory / META_FILE} "
            f"or {directory / RELEASE_NAME / META_FILE}. {_HOW_TO_GET}"
        )
    for candidate in (directory, directory / RELEASE_NAME):
        if (candidate / META_FILE).is_file():
            return candidate
    tar = next(
        (
            p
            for p in (directory / f"{RELEASE_NAME}.tar", directory.parent / f"{RELEASE_NAME}.tar")
            if p.is_file()
        ),
        None,
    )
    hint = f" Found {tar}: extract it first." if tar else ""
    raise ImportDataError(
        f"no NATS-Bench meta file in {directory}: expected {directory / META_FILE} "
        f"or {directory / RELEASE_NAME / META_FILE}.{hint} {_HOW_TO_GET}"
    )


def record_path(directory: str | Path, index: int) -> Path:
    """Where the release keeps architecture ``index`` (``NNNNNN.pickle.pbz2``)."""
    return find_release_dir(directory) / f"{index:06d}.pickle.pbz2"


def available_indices(directory: str | Path) -> list[int]:
    """Sorted indices of the per-architecture files present (all 15,625 in a full release)."""
    release = find_release_dir(directory)
    found = (_RECORD_RE.match(p.name) for p in release.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


# ---- meta --------------------------------------------------------------------------------


def read_meta(directory: str | Path) -> NatsMeta:
    """Read ``meta.pickle.pbz2`` of a release (or of the release inside ``directory``)."""
    release = find_release_dir(directory)
    path = release / META_FILE
    raw = safe_load_path(path)
    if not isinstance(raw, dict) or "meta_archs" not in raw:
        raise ImportDataError(f"{path} has no 'meta_archs' list; is this a NATS-Bench topology release?")
    archs = raw["meta_archs"]
    if not isinstance(archs, list | tuple) or not all(isinstance(s, str) for s in archs):
        raise ImportDataError(f"{path}: 'meta_archs' is not a list of architecture strings")
    total = raw.get("total_archs", len(archs))
    if total != len(archs):
        raise ImportDataError(f"{path}: total_archs is {total} but meta_archs lists {len(archs)} strings")
    evaluated = raw.get("evaluated_indexes") or ()
    try:
        evaluated_set = frozenset(int(i) for i in evaluated)
    except (TypeError, ValueError) as exc:
        raise ImportDataError(f"{path}: 'evaluated_indexes' is not a set of integers") from exc
    return NatsMeta(
        directory=release, arch_strs=tuple(archs), total_archs=int(total), evaluated_indexes=evaluated_set
    )


# ---- records -----------------------------------------------------------------------------


def _epoch(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.isdigit():
        return int(key)
    raise ValueError(f"epoch key {key!r} is not an integer")


def _as_float(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


def _curve(values: Mapping[Any, Any] | None, epochs: int, what: str) -> np.ndarray:
    """A ``{epoch: value}`` dict as a float64 array over ``0..epochs-1`` (NaN where absent)."""
    out = np.full(epochs, np.nan, dtype=np.float64)
    for key, value in (values or {}).items():
        ep = _epoch(key)
        if not 0 <= ep < epochs:
            raise ValueError(f"{what} has epoch {ep}, outside 0..{epochs - 1}")
        out[ep] = _as_float(value)
    return _frozen(out)


def _split_curves(record: Mapping[str, Any], epochs: int) -> dict[str, EvalCurves]:
    """``eval_*`` dicts keyed ``"<split>@<epoch>"`` regrouped as one EvalCurves per split."""
    per_split: dict[str, dict[str, dict[int, Any]]] = {}
    fields = (("acc", "eval_acc1es"), ("loss", "eval_losses"), ("time", "eval_times"))
    for short, field in fields:
        for key, value in (record.get(field) or {}).items():
            split, sep, ep = str(key).rpartition("@")
            if not sep or not split:
                raise ValueError(f"{field} key {key!r} is not '<split>@<epoch>'")
            per_split.setdefault(split, {"acc": {}, "loss": {}, "time": {}})[short][_epoch(ep)] = value
    # keep the order the release declares, then anything it forgot to declare
    names = [n for n in (record.get("eval_names") or []) if n in per_split]
    names += [n for n in per_split if n not in names]
    return {n: EvalCurves(*(_curve(per_split[n][s], epochs, f"{f}[{n}]") for s, f in fields)) for n in names}


def _latency(value: object) -> float:
    if value is None:
        return math.nan
    if isinstance(value, list | tuple):
        vals = [float(v) for v in value if v is not None]
        return float(np.mean(vals)) if vals else math.nan
    return float(value)  # type: ignore[arg-type]


def _to_record(index: int, arch_str: str, hp: int, key: object, rec: Mapping[str, Any]) -> NatsRecord:
    if not (isinstance(key, tuple) and len(key) == 2):
        raise ValueError(f"all_results key {key!r} is not (dataset, seed)")
    dataset, seed = str(key[0]), int(key[1])
    if rec.get("name", dataset) != dataset:
        raise ValueError(f"record name {rec.get('name')!r} differs from its key dataset {dataset!r}")
    if "seed" in rec and int(rec["seed"]) != seed:  # NATS stores it as a zero-padded string
        raise ValueError(f"record seed {rec['seed']!r} differs from its key seed {seed}")
    epochs = int(rec["epochs"])
    return NatsRecord(
        arch_index=index,
        arch_str=arch_str,
        hp=hp,
        dataset=dataset,
        seed=seed,
        epochs=epochs,
        train_acc=_curve(rec.get("train_acc1es"), epochs, "train_acc1es"),
        train_loss=_curve(rec.get("train_losses"), epochs, "train_losses"),
        train_time=_curve(rec.get("train_times"), epochs, "train_times"),
        eval=MappingProxyType(_split_curves(rec, epochs)),
        params_m=_as_float(rec.get("params")),
        flop_m=_as_float(rec.get("flop")),
        latency=_latency(rec.get("latency")),
    )


def _read_file(path: Path, index: int, meta: NatsMeta) -> list[NatsRecord]:
    raw = safe_load_path(path)
    if not isinstance(raw, dict):
        raise ImportDataError(f"{path}: expected a dict keyed by epoch schedule ('12', '200')")
    expected = meta.arch_strs[index]
    records: list[NatsRecord] = []
    for hp_key, block in sorted(raw.items(), key=lambda kv: int(kv[0])):
        where = f"{path} (hp {hp_key})"
        try:
            hp = int(hp_key)
            if int(block["arch_index"]) != index or block["arch_str"] != expected:
                raise ImportDataError(
                    f"{where} holds arch {block['arch_index']} {block['arch_str']!r}, but meta says "
                    f"index {index} is {expected!r}"
                )
            for key, rec in block["all_results"].items():
                where = f"{path} (hp {hp_key}, {key!r})"
                records.append(_to_record(index, expected, hp, key, rec))
        except ImportDataError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ImportDataError(f"{where}: unexpected record layout ({type(exc).__name__}: {exc})") from exc
    return records


def iter_records(
    directory: str | Path, indices: Iterable[int] | None = None, *, progress: bool | None = None
) -> Iterator[NatsRecord]:
    """Yield one :class:`NatsRecord` per (architecture, hp, dataset, seed) of a release.

    ``indices`` are official NATS indices; by default every ``NNNNNN.pickle.pbz2`` present
    (compare with ``read_meta(directory).total_archs`` to detect an incomplete release).
    A requested index whose file is missing raises ImportDataError. ``progress`` shows a
    tqdm bar on stderr; by default only when reading at least 50 files.
    """
    meta = read_meta(directory)
    chosen = available_indices(meta.directory) if indices is None else [int(i) for i in indices]
    for i in chosen:
        if not 0 <= i < meta.total_archs:
            raise ImportDataError(f"architecture index {i} is outside 0..{meta.total_archs - 1}")
    show = len(chosen) >= _PROGRESS_MIN_FILES if progress is None else progress
    bar = tqdm(chosen, desc=f"reading {RELEASE_NAME}", unit="arch", file=sys.stderr, disable=not show)
    try:
        for i in bar:
            path = meta.directory / f"{i:06d}.pickle.pbz2"
            if not path.is_file():
                raise ImportDataError(
                    f"missing {path} for architecture {i}; the release looks incomplete. {_HOW_TO_GET}"
                )
            yield from _read_file(path, i, meta)
    finally:
        bar.close()
